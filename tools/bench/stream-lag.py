#!/usr/bin/env python3
"""The live stream under load, for tools/bench-server.sh: SUBSCRIBERS Server-Sent Events
streams from the log's head while one poster appends RATE events a second (new leads'
captures, BATCH a request) for SECONDS; meanwhile the server's memory is sampled from
/proc/PID/status.

Delivery lag: each read from a stream is timed against the recordedAt (the group commit,
to the millisecond) of the first event in it, the oldest; every event of the read counts
at that lag (an upper bound for the others). Prints one JSON object.

    stream-lag.py URL KEY PID [--subscribers 100] [--rate 10000] [--batch 100] [--seconds 10]
"""
import argparse
import calendar
import http.client
import json
import multiprocessing
import re
import selectors
import socket
import time
import urllib.parse
import urllib.request

RECORDED = re.compile(rb'"recordedAt":"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z"')


def epoch(match):
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction = match.group(7) or b"0"
    return calendar.timegm((year, month, day, hour, minute, second)) + int(fraction) / 10 ** len(fraction)


def post(url, key, rate, batch, seconds, tag, posted):
    """Appends `rate` events a second in requests of `batch`, on an absolute schedule."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port)
    headers = {"Authorization": "Bearer " + key, "Content-Type": "application/x-ndjson"}
    start = time.time()
    sent = 0
    while time.time() - start < seconds:
        due = start + sent / rate
        pause = due - time.time()
        if pause > 0:
            time.sleep(pause)
        lines = [
            '{"id":"%s-%d","type":"lead.captured","lead":"R-%s-%d","at":"2026-03-01T10:00:00Z","actor":"bench",'
            '"data":{"source":"web","channel":"paid_search","email":"x@example.com"}}' % (tag, n, tag, n)
            for n in range(sent, sent + batch)
        ]
        connection.request("POST", "/v1/events", body="\n".join(lines), headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"stream-lag: POST /v1/events answered {response.status}")
        sent += batch
    posted.value = sent


def memory(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "RssAnon", "RssFile"):
                fields[name] = int(value.split()[0])  # KiB
    return fields


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("key")
    parser.add_argument("pid", type=int)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--sample-every", type=float, default=5)
    args = parser.parse_args()

    request = urllib.request.Request(args.url + "/readyz")
    head = json.load(urllib.request.urlopen(request))["position"]
    parts = urllib.parse.urlsplit(args.url)
    selector = selectors.DefaultSelector()
    for _ in range(args.subscribers):
        connection = socket.create_connection((parts.hostname, parts.port))
        connection.sendall(
            (f"GET /v1/stream?after={head} HTTP/1.1\r\nHost: {parts.hostname}\r\n"
             f"Authorization: Bearer {args.key}\r\nAccept: text/event-stream\r\n\r\n").encode())
        connection.setblocking(False)
        selector.register(connection, selectors.EVENT_READ)
    time.sleep(1)  # every stream open and waiting at the head

    posted = multiprocessing.Value("q", 0)
    poster = multiprocessing.Process(
        target=post, args=(args.url, args.key, args.rate, args.batch, args.seconds, f"lag{time.time_ns()}", posted))
    poster.start()
    start = time.time()
    lags = {}  # milliseconds -> events
    received = 0
    samples = []
    next_sample = start
    # Read until the poster is done and every stream has had a moment to deliver the rest.
    while poster.is_alive() or time.time() < start + args.seconds + 2:
        now = time.time()
        if now >= next_sample:
            samples.append({"t": round(now - start, 1), **memory(args.pid)})
            next_sample += args.sample_every
        for entry, _ in selector.select(timeout=0.5):
            data = entry.fileobj.recv(1 << 18)
            if not data:
                raise SystemExit("stream-lag: a stream ended")
            events = data.count(b"\nid: ") + data.startswith(b"id: ")
            if not events:
                continue
            match = RECORDED.search(data)
            if match is None:
                continue
            lag = max(0, round((time.time() - epoch(match)) * 1000))
            lags[lag] = lags.get(lag, 0) + events
            received += events
    poster.join()

    total = sum(lags.values())
    def percentile(p):
        seen = 0
        for lag in sorted(lags):
            seen += lags[lag]
            if seen >= p * total:
                return lag
        return None
    print(json.dumps({
        "subscribers": args.subscribers, "seconds": args.seconds, "posted": posted.value,
        "postedRate": round(posted.value / args.seconds), "received": received,
        "delivered": round(received / max(1, posted.value * args.subscribers), 4),
        "lagMs": {"p50": percentile(0.5), "p99": percentile(0.99), "max": max(lags) if lags else None},
        "memory": samples,
    }))


if __name__ == "__main__":
    main()

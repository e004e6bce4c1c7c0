#!/usr/bin/env python3
"""Posts a JSONL file of events to POST /v1/events as NDJSON bodies of PER events over STREAMS
connections, and prints what it measured as JSON: {"events", "seconds", "appended",
"duplicates", "rejected"}. Each connection carries the events of its own share of the leads,
in file order, one request after the other, so that every event reaches the server after
the events of its lead that precede it, as `leadledger ingest` of the same file reads them.
The bodies are built before the clock starts.

    post-ndjson.py URL KEY FILE [--streams 16] [--per 1000]
"""
import argparse
import http.client
import json
import threading
import time
import urllib.parse
import zlib

parser = argparse.ArgumentParser()
parser.add_argument("url")
parser.add_argument("key")
parser.add_argument("file")
parser.add_argument("--streams", type=int, default=16)
parser.add_argument("--per", type=int, default=1000)
args = parser.parse_args()

shares = [[] for _ in range(args.streams)]
with open(args.file, "rb") as lines:
    for line in lines:
        if not line.strip():
            continue
        lead = json.loads(line).get("lead") or ""
        shares[zlib.crc32(lead.encode()) % args.streams].append(line.rstrip(b"\n"))
bodies = [[b"\n".join(share[i:i + args.per]) for i in range(0, len(share), args.per)] for share in shares]
total = sum(len(share) for share in shares)

address = urllib.parse.urlparse(args.url)
counts = {"appended": 0, "duplicates": 0, "rejected": 0}
lock = threading.Lock()
failures = []

def post(share):
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=120)
    headers = {"Authorization": "Bearer " + args.key, "Content-Type": "application/x-ndjson"}
    for body in share:
        connection.request("POST", "/v1/events", body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read()
        if response.status != 200:
            failures.append(f"{response.status}: {answer[:200]!r}")
            return
        # (The counts lead the answer; the outcome per event after them is not parsed, so
        # that the client spends its time sending.)
        head = json.loads(answer[:answer.index(b',"results"')] + b"}")
        with lock:
            for name in counts:
                counts[name] += head[name]

threads = [threading.Thread(target=post, args=(share,)) for share in bodies]
start = time.time()
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
seconds = time.time() - start
if failures:
    raise SystemExit("post-ndjson: " + failures[0])
print(json.dumps({"events": total, "seconds": round(seconds, 3), **counts}))

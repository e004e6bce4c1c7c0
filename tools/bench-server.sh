#!/usr/bin/env bash
# The server bench (SPEC section 7), in one run on one machine, against a release build:
# - POST /v1/events with 1 event per request at 64 connections: events/s and p99 latency,
#   beside wrk's request rate against /healthz in the same run (the HTTP layer's limit);
# - 100 events per request at 16 connections (new leads' captures); the tracking API's
#   /v1/batch with 100 gzipped messages per request at 16 connections beside it;
# - 1,000,000 generated events posted 1,000 a request over 16 connections to a fresh store,
#   against `leadledger ingest` of the same file into another (tools/bench/post-ndjson.py),
#   and posted 100 a request to a third (leads' whole lifecycles, not only their captures);
# - the log streamed to one consumer (NDJSON, from position 1 of the store, which starts with
#   1,000,000 generated events);
# - 100 Server-Sent Events subscribers at the head while 10,000 events/s are appended
#   (tools/bench/stream-lag.py): delivery lag from the group commit to the subscriber's read,
#   and the server's memory over that load (MINUTES, default 5; 0 runs it for SECONDS and
#   leaves memory out).
# Each throughput row also gives the server's CPU an event (all its threads, from
# /proc/PID/stat over the row's load): on a shared VM it moves far less than the rate, so it
# is what tells two builds apart (docs/performance.md, "Noise").
# Needs wrk (apt-get install wrk), curl and python3.
#
#   tools/bench-server.sh [SECONDS] [--memory-minutes MINUTES]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=10
minutes=5
while [ $# -gt 0 ]; do
  case "$1" in
    --memory-minutes) minutes=${2:?--memory-minutes needs a number}; shift 2 ;;
    *) seconds=$1; shift ;;
  esac
done
bin=.build/release/leadledger
[ -x "$bin" ] || { echo "bench-server: build first: swift build -c release" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench-server: needs wrk (apt-get install wrk)" >&2; exit 1; }

. tools/serve-lib.sh
store="$work/store"
# The served store starts with a million events, the stream's figure is over at least those.
"$bin" generate --leads 55600 --seed 11 --out "$work/prefill.jsonl" 2>/dev/null
"$bin" ingest "$work/prefill.jsonl" --store "$store" >/dev/null 2>&1
rm -f "$work/prefill.jsonl"
key=$("$bin" keys create --role admin --name bench --store "$store" 2>/dev/null)
start_server "$bin" "$store"

# The CPU time the server's process has used so far, in clock ticks (user and system, all
# threads): each row's CPU an event is the difference over its load. On a shared VM the rates
# move by a tenth to a fifth from run to run; the CPU an event moves far less.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# wrk's "Requests/sec", the 99th percentile of its latency and the server's CPU ticks.
run_wrk() {  # connections events-per-request path
  local out before
  before=$(cpu_ticks "$pid")
  if [ "$3" = "/healthz" ]; then
    out=$(wrk -t2 -c"$1" -d"${seconds}s" --latency "$url/healthz")
  else
    out=$(EVENTS=$2 KEY=$key RUN="$2-$RANDOM" wrk -t2 -c"$1" -d"${seconds}s" --latency -s tools/bench/post-events.lua "$url/v1/events")
  fi
  local rps p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  echo "$rps $p99 $(($(cpu_ticks "$pid") - before))"
}

read -r health_rps health_p99 _ < <(run_wrk 64 0 /healthz)
read -r one_rps one_p99 one_ticks < <(run_wrk 64 1 /v1/events)
read -r hundred_rps hundred_p99 hundred_ticks < <(run_wrk 16 100 /v1/events)

# Tracking: /v1/batch, 100 gzipped messages a request (anonymous page views with UTM fields),
# 16 connections; enough distinct bodies that no message is sent twice.
python3 tools/bench/tracking-bodies.py $((3000 * seconds)) 100 "$work/tracking"
tracking_before=$(cpu_ticks "$pid")
tracking_out=$(BODIES="$work/tracking" BASIC=$(printf '%s:' "$key" | base64 -w0) THREADS=2 \
  wrk -t2 -c16 -d"${seconds}s" --latency -s tools/bench/post-tracking.lua "$url/v1/batch")
tracking_rps=$(echo "$tracking_out" | awk '/Requests\/sec/ {print $2}')
tracking_ticks=$(($(cpu_ticks "$pid") - tracking_before))
tracking_non2xx=$(echo "$tracking_out" | awk '/Non-2xx/ {print $NF}')
[ -z "$tracking_non2xx" ] || echo "bench-server: $tracking_non2xx tracking requests were not answered 200" >&2

# 1,000 events a request against the CLI's bulk ingest, of the same 1,000,000 generated events:
# posted to a second server on a fresh store over 16 connections, each carrying its share of
# the leads in file order (tools/bench/post-ndjson.py), and ingested into another fresh store.
# The same events 100 a request, to a third fresh store: the 100-a-request figure on leads'
# whole lifecycles, beside the one above on new leads only.
"$bin" generate --leads 55600 --seed 5 --out "$work/events.jsonl" 2>/dev/null
lines=$(wc -l < "$work/events.jsonl")
main_pid=$pid main_url=$url
trap 'kill "$main_pid" 2>/dev/null || true; cleanup' EXIT
post_fresh() {  # store events-per-request
  local bulk_key
  bulk_key=$("$bin" keys create --role ingest --name bulk --store "$1" 2>/dev/null)
  start_server "$bin" "$1"
  local out ticks
  out=$(python3 tools/bench/post-ndjson.py "$url" "$bulk_key" "$work/events.jsonl" --streams 16 --per "$2")
  ticks=$(cpu_ticks "$pid")
  kill "$pid" && wait "$pid" 2>/dev/null || true
  echo "$out" | python3 -c "import json,sys; r=json.load(sys.stdin); r['serverTicks']=$ticks; print(json.dumps(r))"
}
bulk=$(post_fresh "$work/bulk-store" 1000)
bulk_hundred=$(post_fresh "$work/hundred-store" 100)
pid=$main_pid url=$main_url
trap cleanup EXIT
rate_of() { python3 -c "import json,sys; r=json.load(sys.stdin); assert r['appended'] == r['events'], r; print(round(r['events'] / r['seconds']))"; }
thousand=$(echo "$bulk" | rate_of)
hundred_mixed=$(echo "$bulk_hundred" | rate_of)
start=$(date +%s.%N)
"$bin" ingest "$work/events.jsonl" --store "$work/ingest-store" >/dev/null 2>&1 || true
end=$(date +%s.%N)
ingest_rate=$(python3 -c "print(round($lines / ($end - $start)))")

# The whole log to one consumer, as NDJSON, from position 1 (it ends at the head).
head=$(curl -s "$url/readyz" | python3 -c "import json,sys; print(json.load(sys.stdin)['position'])")
# (Read in blocks and only counted, so that the figure is the server's, not the client's.)
stream_rate=$(python3 - "$url" "$key" "$head" <<'PY'
import sys, time, urllib.request
url, key, head = sys.argv[1], sys.argv[2], int(sys.argv[3])
request = urllib.request.Request(url + "/v1/stream?after=0", headers={"Authorization": "Bearer " + key})
start = time.time()
count = 0
with urllib.request.urlopen(request) as response:
    while count < head:
        block = response.read1(1 << 20)
        if not block:
            break
        count += block.count(b"\n")
print(round(count / (time.time() - start)))
PY
)

# 100 subscribers at the head while 10,000 events/s are appended, for the memory load's length.
load_seconds=$(python3 -c "print(max($seconds, round($minutes * 60)))")
live=$(python3 tools/bench/stream-lag.py "$url" "$key" "$pid" --subscribers 100 --rate 10000 --batch 100 \
  --seconds "$load_seconds" --sample-every "$(python3 -c "print(max(1, $load_seconds / 60))")")

python3 - "$live" "$minutes" "$health_rps" "$one_rps" "$one_p99" "$hundred_rps" "$thousand" "$ingest_rate" "$stream_rate" "$head" "$tracking_rps" "$lines" "$hundred_mixed" \
  "$hz" "$seconds" "$one_ticks" "$hundred_ticks" "$tracking_ticks" "$(echo "$bulk" | python3 -c "import json,sys; print(json.load(sys.stdin)['serverTicks'])")" \
  "$(echo "$bulk_hundred" | python3 -c "import json,sys; print(json.load(sys.stdin)['serverTicks'])")" <<'PY'
import json, sys
live, minutes = json.loads(sys.argv[1]), float(sys.argv[2])
health, one, one_p99, hundred, thousand, ingest, stream, head, tracking, head_bulk, hundred_mixed = sys.argv[3:14]
health, one, hundred, thousand, ingest, stream, tracking, hundred_mixed = map(float, (health, one, hundred, thousand, ingest, stream, tracking, hundred_mixed))
hz, seconds, one_ticks, hundred_ticks, tracking_ticks, thousand_ticks, hundred_mixed_ticks = map(float, sys.argv[14:21])

def cpu(ticks, events):
    """The server's CPU (all threads) an event, in µs."""
    return f", server CPU {ticks / hz / events * 1e6:.1f} µs/event"

rows = [
    ("1 event a request, 64 connections", f"{one:,.0f} events/s, p99 {one_p99}{cpu(one_ticks, one * seconds)}", f"{one / health:.2f} of /healthz's {health:,.0f} req/s", "≥ 20,000/s, p99 ≤ 20 ms, ≥ 0.3"),
    ("100 events a request, 16 conn. (new leads)", f"{hundred * 100:,.0f} events/s{cpu(hundred_ticks, hundred * 100 * seconds)}", "", "≥ 300,000/s"),
    (f"{int(head_bulk):,} events, 100 a request, 16 conn.", f"{hundred_mixed:,.0f} events/s{cpu(hundred_mixed_ticks, float(head_bulk))}", f"{hundred_mixed / ingest:.2f} of leadledger ingest's {ingest:,.0f}/s", "≥ 300,000/s"),
    ("tracking /v1/batch, 100 gzipped a request, 16 conn.", f"{tracking * 100:,.0f} events/s{cpu(tracking_ticks, tracking * 100 * seconds)}", f"{tracking / hundred:.2f} of native /v1/events at 100 a request", "≥ 150,000/s"),
    (f"{int(head_bulk):,} events, 1,000 a request, 16 conn.", f"{thousand:,.0f} events/s{cpu(thousand_ticks, float(head_bulk))}", f"{thousand / ingest:.2f} of leadledger ingest's {ingest:,.0f}/s", "≥ 0.5"),
    (f"the stream of {int(head):,} events to one consumer", f"{stream:,.0f} events/s", "", "≥ 1,000,000/s"),
    (f"{live['subscribers']} SSE subscribers, {live['postedRate']:,} events/s in",
     f"delivery lag p99 {live['lagMs']['p99']} ms", f"{live['lagMs']['p99'] / 50:.2f} of 50 ms (p50 {live['lagMs']['p50']}, max {live['lagMs']['max']}; {live['delivered']:.4f} delivered)", "p99 ≤ 50 ms"),
]
# Memory: the first fifth of the load warms up; then each sample against the first after it.
samples = live["memory"]
if minutes > 0 and len(samples) >= 5:
    rest = samples[len(samples) // 5:]
    for field, what in (("RssAnon", "anonymous (heap)"), ("VmRSS", "resident, with the store's mapped pages")):
        base = rest[0][field]
        spread = max(abs(sample[field] / base - 1) for sample in rest)
        rows.append((f"memory over {live['seconds'] / 60:g} min: {what}",
                     f"{base / 1024:,.0f} -> {rest[-1][field] / 1024:,.0f} MiB",
                     f"{spread:.1%} at most from the first (max {max(s[field] for s in rest) / 1024:,.0f} MiB)",
                     "±10 %" if field == "RssAnon" else "(information)"))
for name, figure, ratio, target in rows:
    print(f"{name:52} {figure:62} {ratio:44} target {target}")
PY

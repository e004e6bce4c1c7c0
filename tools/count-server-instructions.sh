#!/usr/bin/env bash
# Counts the instructions a live `leadledger serve` executes per event on each write path of
# the server bench, under valgrind's callgrind: the server CPU an event that
# tools/bench-server.sh prints moves with the VM's phases (it doubled on slow days), this
# count repeats within about 0.3 % (the one-event path within 2 %: how its commits fall
# varies). Use it to compare two builds' request paths, then confirm with alternating runs
# of the bench.
#
#   tools/count-server-instructions.sh [--top N] BINARY...
#
# For each BINARY: a fresh store with 1,000 generated leads' events, the server under
# callgrind, and one client sending, one request after the other (so that each request is a
# group of its own and the counts do not depend on timing):
# - 400 requests of 1 new lead's capture (POST /v1/events, a JSON array);
# - 40 requests of 100 new leads' captures;
# - 1,000 generated leads' lifecycles (about 18,000 events), 1,000 a request (NDJSON, in file order);
# - 40 Segment batches of 100 gzipped anonymous page views (POST /v1/batch).
# Each path's count covers everything the server's threads do for it (HTTP, parsing, the
# writer's stages, the commit), divided by the events stored (every event sent must be, or
# the run stops); the client and the server's start are not counted.
# --top N prints, per path, the N functions with the most instructions of their own.
# Caveats as tools/count-instructions.sh's: no SHA extensions under valgrind (the chain
# counts for more than it costs), and instructions are not time (disk waits, cache misses
# and thread hand-offs do not show).
set -euo pipefail
cd "$(dirname "$0")/.."

top=0
if [ "${1:-}" = "--top" ]; then
  top=$2
  shift 2
fi
if [ $# -lt 1 ]; then
  sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
command -v valgrind >/dev/null || { echo "count-server-instructions: needs valgrind (apt-get install -y valgrind)" >&2; exit 1; }
command -v callgrind_control >/dev/null || { echo "count-server-instructions: needs callgrind_control (valgrind)" >&2; exit 1; }

# (`work`, and `pid` stopped on exit; the server is started here, under valgrind.)
. tools/serve-lib.sh

first=$1
[ -x "$first" ] || { echo "count-server-instructions: $first is not an executable" >&2; exit 1; }
"$first" generate --leads 1000 --seed 21 --out "$work/prefill.jsonl" 2>/dev/null
"$first" generate --leads 1000 --seed 22 --out "$work/lifecycles.jsonl" 2>/dev/null
# Lead ids of their own, so that the lifecycles are new to the prefilled store.
sed -i 's/"lead":"L-/"lead":"M-/; s/"id":"/"id":"m/' "$work/lifecycles.jsonl"
python3 tools/bench/tracking-bodies.py 40 100 "$work/tracking"

for binary in "$@"; do
  [ -x "$binary" ] || { echo "count-server-instructions: $binary is not an executable" >&2; exit 1; }
  store="$work/store"
  rm -rf "$store"
  "$binary" ingest "$work/prefill.jsonl" --store "$store" >/dev/null 2>&1
  key=$("$binary" keys create --role admin --name bench --store "$store" 2>/dev/null)
  # valgrind cannot read the DWARF that Swift 6.3 emits; the symbol table is enough.
  strip --strip-debug -o "$work/leadledger" "$binary"
  port=$((20000 + RANDOM % 30000))
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/out.%p" \
    "$work/leadledger" serve --store "$store" --port "$port" >"$work/serve.out" 2>"$work/serve.err" &
  pid=$!
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
    sleep 0.2
  done
  echo "$binary"
  python3 - "$port" "$key" "$pid" "$work" "$top" <<'PY'
import base64, http.client, json, os, re, subprocess, sys
port, key, server, work, top = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

def post(path, body, headers):
    connection.request("POST", path, body=body, headers=headers)
    response = connection.getresponse()
    answer = response.read()
    if response.status != 200:
        raise SystemExit(f"count-server-instructions: {path} answered {response.status}: {answer[:300]!r}")
    return json.loads(answer)

def stored(sent, answers, field):
    """The events stored, which must be every one sent: the figure is a count an event."""
    count = sum(answer[field] for answer in answers)
    if count != sent:
        raise SystemExit(f"count-server-instructions: {sent} events sent, {count} stored: {answers[-1]}")
    return count

def captures(tag, count):
    return [{"id": f"{tag}-{i}", "type": "lead.captured", "lead": f"N-{tag}-{i}", "at": "2026-03-01T10:00:00Z",
             "actor": "bench", "data": {"source": "web", "channel": "paid_search", "email": "x@example.com"}} for i in range(count)]

bearer = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
def events(tag, per, requests):
    answers = [post("/v1/events", json.dumps(captures(f"{tag}{r}", per)).encode(), bearer) for r in range(requests)]
    return stored(per * requests, answers, "appended")

def lifecycles():
    lines = open(os.path.join(work, "lifecycles.jsonl"), "rb").read().splitlines()
    ndjson = dict(bearer, **{"Content-Type": "application/x-ndjson"})
    answers = [post("/v1/events", b"\n".join(lines[start:start + 1000]), ndjson) for start in range(0, len(lines), 1000)]
    return stored(len(lines), answers, "appended")

def tracking():
    basic = {"Authorization": "Basic " + base64.b64encode((key + ":").encode()).decode(),
             "Content-Type": "application/json", "Content-Encoding": "gzip"}
    bodies = open(os.path.join(work, "tracking.bodies"), "rb").read()
    offset, answers = 0, []
    for length in open(os.path.join(work, "tracking.index")):
        answers.append(post("/v1/batch", bodies[offset:offset + int(length)], basic))
        offset += int(length)
    return stored(100 * len(answers), answers, "stored")  # (each page view is one event)

def control(*arguments):
    subprocess.run(["callgrind_control", *arguments, server], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

# A warm-up with instrumentation off (first requests fill caches and the allocator).
events("warm", 1, 20)
events("warmh", 100, 2)
paths = [("1 event a request", lambda: events("one", 1, 400)),
         ("100 new leads a request", lambda: events("hundred", 100, 40)),
         ("lifecycle events, 1,000 a request (NDJSON)", lifecycles),
         ("tracking /v1/batch, 100 gzipped", tracking)]
for number, (name, run) in enumerate(paths):
    control("--zero")
    control("--instr=on")
    count = run()
    control("--instr=off")
    control(f"--dump={number}")
    dump = os.path.join(work, f"out.{server}.{number + 1}")  # (callgrind numbers its dumps from 1)
    text = open(dump).read()
    total = int(re.search(r"^totals: (\d+)", text, re.M).group(1))
    print(f"  {name:44} {total / count:>12,.0f} instructions an event ({count:,} events)")
    if top:
        annotated = subprocess.run(["callgrind_annotate", "--inclusive=no", dump], capture_output=True, text=True).stdout
        rows = [line for line in annotated.splitlines() if re.match(r"^ *[0-9,]+ \(", line) and "PROGRAM TOTALS" not in line]
        for line in rows[:top]:
            print("     " + re.sub(r"\[[^]]*\]$", "", line).replace("???:", "")[:150])
PY
  kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  pid=""
  rm -f "$work"/out.*
done

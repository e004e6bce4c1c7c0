#!/usr/bin/env bash
# The CPU each thread of an ingest used, sampled with `perf record`, for builds side by side.
#
# On the 2-core VM an ingest's wall time and total CPU move by 10-20 % from run to run; the
# milliseconds each of its threads was sampled on the CPU move far less, because they
# count only the thread's own work. Runs alternate between the binaries (so a slow phase of
# the VM hits them alike) and the script prints each one's mean per thread.
#
#   tools/thread-cpu.sh [--runs N] INPUT.jsonl BINARY...
#
# e.g. two builds on 1,000,000 generated events:
#   .build/release/leadledger generate --leads 49000 --out /tmp/events.jsonl
#   tools/thread-cpu.sh --runs 6 /tmp/events.jsonl /tmp/before/leadledger .build/release/leadledger
#
# The threads are the ingest's reader (ll-reader) and transcoders (ll-transcoder, all of them
# together), the log's sequencer, chainer and committer (ll-sequencer, ll-chainer,
# ll-committer), the main thread (named after the binary) and the dispatch threads that free
# retired leads (the rest). Each ingest goes into
# a fresh store in a temporary directory. Needs `perf` (linux-perf) and permission to use it.
set -euo pipefail

runs=6
if [ "${1:-}" = "--runs" ]; then
  runs=$2
  shift 2
fi
if [ $# -lt 2 ]; then
  sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
input=$1
shift
command -v perf >/dev/null || { echo "thread-cpu: needs perf (apt-get install -y linux-perf)" >&2; exit 1; }
[ -r "$input" ] || { echo "thread-cpu: cannot read the input $input" >&2; exit 1; }
for binary in "$@"; do
  [ -x "$binary" ] || { echo "thread-cpu: $binary is not an executable" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for run in $(seq "$runs"); do
  for binary in "$@"; do
    rm -rf "$work/store"
    perf record -q -F 1000 -o "$work/perf.data" "$binary" ingest --store "$work/store" "$input" >/dev/null 2>"$work/err" ||
      { echo "thread-cpu: ingest with $binary failed:" >&2; tail -5 "$work/err" >&2; exit 1; }
    # One line per run: the binary, then thread=milliseconds (1,000 samples a second).
    perf script -i "$work/perf.data" -F comm 2>/dev/null | sort | uniq -c |
      awk -v binary="$binary" '
        { name = $2; if (name !~ /^ll-/) name = (name ~ /qos|dispatch/ ? "rest" : "main"); ms[name] += $1 }
        END { printf "%s", binary; for (n in ms) printf " %s=%d", n, ms[n]; printf "\n" }' >>"$work/runs"
  done
done

for binary in "$@"; do
  grep -F "$binary " "$work/runs" | awk -v binary="$binary" '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); sum[kv[1]] += kv[2]; total += kv[2] } n++ }
    END {
      printf "%s (%d runs, mean ms of CPU): total %d", binary, n, total / n
      split("ll-reader ll-transcoder ll-sequencer ll-chainer ll-committer main rest", order, " ")
      for (i = 1; i <= 7; i++) printf "  %s %d", order[i], sum[order[i]] / n
      printf "\n"
    }'
done

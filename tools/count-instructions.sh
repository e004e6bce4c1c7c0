#!/usr/bin/env bash
# Counts the instructions one leadledger command executes, under valgrind's callgrind.
#
# Wall time on the 2-core VM moves by 20-40 % from run to run, so it cannot tell a change
# worth 1-3 % apart from noise; the instruction count of the same command on the same input
# moves by well under 0.1 %. Use it to compare two builds, then confirm with wall time.
#
#   tools/count-instructions.sh [--top N] BINARY ARGS...
#
# e.g. the ingest of about 100,000 events into a fresh store:
#   .build/release/leadledger generate --leads 5000 --out /tmp/events.jsonl
#   tools/count-instructions.sh --top 25 .build/release/leadledger \
#       ingest --store "$(mktemp -d)/store" /tmp/events.jsonl
#
# Prints the total, and with --top N the N functions that execute the most instructions of
# their own (callees not included). Caveats:
# - valgrind's CPU has no SHA extensions, so the hash chain runs swift-crypto's code here
#   and counts for more than it costs on the real CPU;
# - instructions are not time: cache misses, page faults and waiting for the disk do not
#   show, so a change that only moves work between threads counts the same.
set -euo pipefail

top=0
if [ "${1:-}" = "--top" ]; then
  top=$2
  shift 2
fi
if [ $# -lt 2 ]; then
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
binary=$1
shift
command -v valgrind >/dev/null || { echo "count-instructions: needs valgrind (apt-get install -y valgrind)" >&2; exit 1; }
[ -x "$binary" ] || { echo "count-instructions: $binary is not an executable" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# valgrind cannot read the DWARF that Swift 6.3 emits; the symbol table is enough.
strip --strip-debug -o "$work/leadledger" "$binary"
valgrind --tool=callgrind --callgrind-out-file="$work/out" "$work/leadledger" "$@" \
  >"$work/stdout" 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
total=$(grep -o 'Collected : [0-9]*' "$work/stderr" | awk '{print $3}')
printf 'instructions: %s\n' "$total"
if [ "$top" -gt 0 ]; then
  callgrind_annotate --inclusive=no "$work/out" 2>/dev/null \
    | grep -E '^ *[0-9,]+ \(' | grep -v 'PROGRAM TOTALS' | head -n "$top" \
    | sed -E 's/\[[^]]*\]$//; s/\?\?\?://' | cut -c1-160
fi

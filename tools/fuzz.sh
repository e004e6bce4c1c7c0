#!/usr/bin/env bash
# Runs one of LeadLedger's libFuzzer targets (tools/fuzz, a package of its own that the main
# build never builds) for a number of seconds, from its seed corpus in the repository.
#
#   tools/fuzz.sh TARGET SECONDS [libFuzzer flags...]   one target (prints runs, exec/s, corpus)
#   tools/fuzz.sh all SECONDS                           every target in turn (the smoke run)
#   tools/fuzz.sh build                                 only build
#
# TARGET: transcoder | json | csv | rules | timestamp (see tools/fuzz/Sources/Fuzz*/).
# The build (release, with the fuzzer and address sanitizers) goes to tools/fuzz/.build, the
# inputs a run adds to tools/fuzz/.build/corpus/TARGET (kept for the next run, never in git),
# and a crash to tools/fuzz/.build/crashes/TARGET/: rerun it with
#   tools/fuzz/.build/release/FuzzTARGET tools/fuzz/.build/crashes/TARGET/crash-...
# Exits non-zero when a target crashes, disagrees with itself (a FINDING), hangs (more than
# 10 s on one input) or runs out of memory. Runs at nice 19.
set -euo pipefail
cd "$(dirname "$0")/fuzz"
fuzz_dir=$(pwd)
targets=(transcoder json csv rules timestamp)

usage() {
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 64
}

product() {
  case "$1" in
    transcoder) echo FuzzTranscoder ;;
    json) echo FuzzJSON ;;
    csv) echo FuzzCSV ;;
    rules) echo FuzzRules ;;
    timestamp) echo FuzzTimestamp ;;
    *) echo "fuzz: unknown target '$1' (${targets[*]})" >&2; exit 64 ;;
  esac
}

max_len() {
  case "$1" in
    csv | rules) echo 8192 ;;
    timestamp) echo 64 ;;
    *) echo 4096 ;;
  esac
}

build() {
  local start=$SECONDS
  echo "fuzz: building the fuzz targets (release, -sanitize=fuzzer,address) in tools/fuzz/.build" >&2
  # Both forms: -Xswiftc instruments the Swift code for coverage (SwiftPM's --sanitize=fuzzer
  # alone does not, so libFuzzer would mutate blindly), and --sanitize=fuzzer makes SwiftPM
  # leave the executables' entry point alone (with -Xswiftc alone it renames `main` to
  # FuzzX_main and the link fails: libFuzzer brings `main`).
  # SwiftPM keeps the build plan of a path dependency (the main package) even when files are
  # added to it, and then misses them ("cannot find 'X' in scope"): plan it again each time.
  rm -f "$fuzz_dir/.build/release.yaml" "$fuzz_dir/.build/release/description.json"
  nice -n 19 swift build -c release --scratch-path "$fuzz_dir/.build" \
    --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address >&2
  echo "fuzz: built in $((SECONDS - start)) s" >&2
}

run() {
  local target=$1 seconds=$2
  shift 2
  local binary
  binary="$fuzz_dir/.build/release/$(product "$target")"
  local work="$fuzz_dir/.build/corpus/$target" crashes="$fuzz_dir/.build/crashes/$target"
  local log="$fuzz_dir/.build/logs/$target.log"
  mkdir -p "$work" "$crashes" "$(dirname "$log")"
  local dict=()
  [ -f "$fuzz_dir/dicts/$target.dict" ] && dict=(-dict="$fuzz_dir/dicts/$target.dict")
  echo "fuzz: $target for ${seconds} s (log: tools/fuzz/.build/logs/$target.log)" >&2
  local status=0
  # New inputs go to the first corpus directory (under .build); the seeds are only read.
  # (Swift's own crash backtracer is off: libFuzzer and ASan report, and it trips ASan.)
  SWIFT_BACKTRACE=enable=no LSAN_OPTIONS="suppressions=$fuzz_dir/lsan.supp:print_suppressions=0" nice -n 19 "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$target")" \
    -print_final_stats=1 -artifact_prefix="$crashes/" "${dict[@]}" "$@" "$work" "$fuzz_dir/corpus/$target" >"$log" 2>&1 || status=$?
  local runs rate corpus
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  corpus=$( (grep -o 'corp: [0-9]*/[0-9A-Za-z]*' "$log" || true) | tail -1 | sed 's/corp: //')
  if [ "$status" -ne 0 ]; then
    (grep -E -A 12 'FINDING|ERROR: |Fatal error|deadly signal' "$log" || tail -40 "$log") | head -60 >&2
    echo "fuzz: $target FAILED (exit $status) after ${runs:-?} runs; the input is in tools/fuzz/.build/crashes/$target/" >&2
    return "$status"
  fi
  printf 'fuzz: %-10s runs %s  exec/s %s  corpus %s (units/bytes)\n' "$target" "${runs:-?}" "${rate:-?}" "${corpus:-?}"
}

[ $# -ge 1 ] || usage
case "$1" in
  build)
    build
    ;;
  all)
    [ $# -eq 2 ] || usage
    build
    for target in "${targets[@]}"; do run "$target" "$2"; done
    ;;
  -h | --help)
    usage
    ;;
  *)
    [ $# -ge 2 ] || usage
    product "$1" >/dev/null
    build
    run "$@"
    ;;
esac

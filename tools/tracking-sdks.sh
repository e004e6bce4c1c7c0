#!/usr/bin/env bash
# The tracking API against the real client libraries (segment-analytics-python and
# rudder-sdk-python, which tools/setup.sh installs from PyPI into .build/tracking-sdks-venv,
# out of git): starts `leadledger serve` on a fresh store with an ingest key, and runs
# tools/tracking_sdks.py, which sends through each library (host and write key changed, and
# nothing else; with and without gzip) and checks the result through the API.
#
#   tools/tracking-sdks.sh [BINARY]     (default .build/debug/leadledger)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/debug/leadledger}
[ -x "$bin" ] || { echo "tracking-sdks.sh: build first (swift build)" >&2; exit 1; }

venv=.build/tracking-sdks-venv
"$venv/bin/python" -c "import segment.analytics, rudderstack.analytics" 2>/dev/null || { echo "tracking-sdks.sh: run tools/setup.sh first (it installs the libraries into $venv)" >&2; exit 1; }

. tools/serve-lib.sh
write=$("$bin" keys create --role ingest --name website --store "$work/store" 2>/dev/null)
read=$("$bin" keys create --role read --name checker --store "$work/store" 2>/dev/null)
start_server "$bin" "$work/store"
"$venv/bin/python" tools/tracking_sdks.py "$url" "$write" "$read"

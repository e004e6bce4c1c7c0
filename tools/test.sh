#!/usr/bin/env bash
# The whole test suite: the JSON Schemas against their examples (a real validator), then
# every Swift test (Swift Testing), on real LMDB stores in temporary directories.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
python3 tools/check-schemas.py
swift build --build-tests
swift test --skip-build

#!/usr/bin/env bash
# The whole test suite: the JSON Schemas against their examples (a real validator), the HTTP
# API against its OpenAPI description (schemathesis, on a live server), then every Swift test
# (Swift Testing), on real LMDB stores in temporary directories and live servers.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
python3 tools/check-schemas.py
swift build --build-tests
# The HTTP API against Schemas/openapi.yaml (bounded here; tools/schemathesis.sh 200 by hand).
tools/schemathesis.sh 20
# The tracking API through the real Segment and RudderStack libraries.
tools/tracking-sdks.sh
swift test --skip-build

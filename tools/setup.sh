#!/usr/bin/env bash
# Installs what LeadLedger needs beyond Swift, from Debian and PyPI:
# - liblmdb-dev and pkg-config: the LMDB library the CLMDB target links through pkg-config;
# - curl and chromium: the server's tests talk to a live `leadledger serve` over real HTTP,
#   and load its dashboard in a headless browser;
# - Python's jsonschema, openapi-spec-validator and schemathesis: the schemas and the HTTP API
#   are checked against their contracts with real validators (tools/check-schemas.py,
#   tools/schemathesis.sh).
# Safe to run again: it installs only what is missing.
set -euo pipefail

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
pkg-config --exists lmdb 2>/dev/null || missing+=(liblmdb-dev pkg-config)
command -v curl >/dev/null || missing+=(curl)
command -v chromium >/dev/null || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! python3 -c "import jsonschema, referencing, openapi_spec_validator, schemathesis" 2>/dev/null; then
  echo "setup: installing jsonschema, openapi-spec-validator and schemathesis for the contract checks" >&2
  python3 -m pip install --quiet --root-user-action=ignore jsonschema openapi-spec-validator schemathesis
fi

# The tracking API's acceptance test (tools/tracking-sdks.sh) runs the real client libraries,
# segment-analytics-python and rudder-sdk-python, from a virtual environment under .build/.
venv="$(cd "$(dirname "$0")/.." && pwd)/.build/tracking-sdks-venv"
if ! "$venv/bin/python" -c "import segment.analytics, rudderstack.analytics" 2>/dev/null; then
  echo "setup: installing segment-analytics-python and rudder-sdk-python into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet segment-analytics-python rudder-sdk-python
fi

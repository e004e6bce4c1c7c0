#!/usr/bin/env bash
# Checks the HTTP API against its contract, Schemas/openapi.yaml: the description is valid
# (openapi-spec-validator), then schemathesis sends generated requests to a live
# `leadledger serve` (on a store of generated history, with an admin key) and checks that no
# answer is a server error and every answer conforms to the description. The live stream
# (/v1/stream) never ends, so it is left to the curl tests.
#
#   tools/schemathesis.sh [EXAMPLES]     (default 20 per operation; more by hand: 200)
#
# Needs the debug build (`swift build`) and tools/setup.sh's Python packages.
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-20}
bin=.build/debug/leadledger
[ -x "$bin" ] || { echo "schemathesis.sh: build first (swift build)" >&2; exit 1; }

python3 - <<'PY'
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename
spec, _ = read_from_filename("Schemas/openapi.yaml")
validate(spec)
print("openapi: Schemas/openapi.yaml is a valid OpenAPI 3.1 description")
PY

. tools/serve-lib.sh
"$bin" generate --leads 100 --seed 3 --out "$work/events.jsonl" 2>/dev/null
"$bin" ingest "$work/events.jsonl" --store "$work/store" >/dev/null
key=$("$bin" keys create --role admin --name schemathesis --store "$work/store" 2>/dev/null)
start_server "$bin" "$work/store" --backup-dir "$work/backups"

schemathesis run Schemas/openapi.yaml --url "$url" \
  -H "Authorization: Bearer $key" --max-examples "$examples" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --exclude-path /v1/stream --no-color

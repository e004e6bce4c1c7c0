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

work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
"$bin" generate --leads 100 --seed 3 --out "$work/events.jsonl" 2>/dev/null
"$bin" ingest "$work/events.jsonl" --store "$work/store" >/dev/null
key=$("$bin" keys create --role admin --name schemathesis --store "$work/store" 2>/dev/null)
for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 30000))
  "$bin" serve --store "$work/store" --port "$port" --backup-dir "$work/backups" 2>"$work/serve.log" &
  pid=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill "$pid" 2>/dev/null || true
  pid=""
done
[ -n "$pid" ] || { echo "schemathesis.sh: the server did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }

schemathesis run Schemas/openapi.yaml --url "http://127.0.0.1:$port" \
  -H "Authorization: Bearer $key" --max-examples "$examples" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --exclude-path /v1/stream --no-color

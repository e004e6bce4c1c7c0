#!/usr/bin/env bash
# Copies Schemas/openapi.yaml into Sources/LeadServer/OpenAPIDocument.swift, which the server
# serves at /openapi.yaml (a test checks the two are the same). Run it after editing the YAML.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 - <<'PY'
text = open("Schemas/openapi.yaml").read()
assert '"""#' not in text
swift = (
    "/// The OpenAPI 3.1 description of the API, served at `/openapi.yaml`: the text of\n"
    "/// `Schemas/openapi.yaml`, copied by tools/embed-openapi.sh (a test checks they are the same).\n"
    "enum OpenAPIDocument {\n"
    "    static let yaml = #\"\"\"\n" + text + "\n\"\"\"#\n}\n"
)
open("Sources/LeadServer/OpenAPIDocument.swift", "w").write(swift)
PY

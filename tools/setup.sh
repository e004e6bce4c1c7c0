#!/usr/bin/env bash
# Installs what LeadLedger needs beyond Swift: Debian's liblmdb-dev (the LMDB library the
# CLMDB target links through pkg-config) and Python's jsonschema (for tools/check-schemas.py).
# Safe to run again: it installs only what is missing.
set -euo pipefail

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! pkg-config --exists lmdb 2>/dev/null; then
  echo "setup: installing liblmdb-dev" >&2
  as_root apt-get update -qq
  as_root apt-get install -y -qq liblmdb-dev pkg-config >/dev/null
fi

if ! python3 -c "import jsonschema, referencing" 2>/dev/null; then
  echo "setup: installing jsonschema for the schema checks" >&2
  python3 -m pip install --quiet jsonschema
fi

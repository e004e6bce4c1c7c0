# Sourced by the tools that run a live `leadledger serve` (schemathesis.sh,
# tracking-sdks.sh, bench-server.sh): a temporary directory `work` removed on exit, and
# `start_server BINARY STORE [ARGS…]`, which starts the server on a free random port (a few
# tries) and sets `port`, `url` and `pid` (stopped on exit).
work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_server() {  # binary store [serve arguments…]
  local bin=$1 store=$2
  shift 2
  for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 30000))
    "$bin" serve --store "$store" --port "$port" "$@" 2>"$work/serve.log" &
    pid=$!
    for _ in $(seq 1 100); do
      curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
      url="http://127.0.0.1:$port"
      return 0
    fi
    kill "$pid" 2>/dev/null || true
    pid=""
  done
  echo "the server did not start:" >&2
  cat "$work/serve.log" >&2
  return 1
}

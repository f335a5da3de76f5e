#!/usr/bin/env bash
# Runs test_keto_grpc_client.js: Ory's official Node gRPC client
# (@ory/keto-grpc-client, pinned in package.json) against a real
# `zanzi serve` on free loopback ports, with a temporary SQLite database and
# the Python SDK test's schema.
#
#   tests/keto_grpc_client/run.sh            # builds the debug binary if needed
#   ZANZI_BIN=target/release/zanzi tests/keto_grpc_client/run.sh
#
# The npm packages are installed into $KETO_GRPC_CLIENT_MODULES (default:
# target/keto-grpc-client) with the machine's Node.js and npm, and reused
# when package.json is unchanged. Exits non-zero when anything fails or no
# test ran.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
modules="${KETO_GRPC_CLIENT_MODULES:-$target/keto-grpc-client}"

command -v node >/dev/null || { echo "Node.js is needed for the Keto gRPC client test" >&2; exit 1; }

if [[ -z "${ZANZI_BIN:-}" ]]; then
  (cd "$root" && cargo build --quiet --bin zanzi)
  ZANZI_BIN="$target/debug/zanzi"
fi

if ! cmp -s "$here/package.json" "$modules/package.json"; then
  rm -rf "$modules"
  mkdir -p "$modules"
  cp "$here/package.json" "$modules/package.json"
  (cd "$modules" && npm install --no-audit --no-fund --loglevel=error)
fi

# Four free loopback ports.
read -r p_read p_write p_metrics p_syntax < <(python3 - <<'PY'
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
for s in socks:
    s.close()
PY
)

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

ZANZI_SECRET="keto-grpc-client-test" "$ZANZI_BIN" serve \
  --schema "$root/tests/keto_client/schema.zanzi" --db "$work/zanzi.db" --host 127.0.0.1 \
  --read-port "$p_read" --write-port "$p_write" \
  --metrics-port "$p_metrics" --syntax-port "$p_syntax" \
  --log-level warn > "$work/server.log" 2>&1 &
server_pid=$!

if ! "$ZANZI_BIN" status --remote "http://127.0.0.1:$p_read" --block --timeout 30 > /dev/null; then
  echo "zanzi serve did not become ready; its log:" >&2
  cat "$work/server.log" >&2
  exit 1
fi

status=0
KETO_READ_ADDR="127.0.0.1:$p_read" KETO_WRITE_ADDR="127.0.0.1:$p_write" \
  KETO_SYNTAX_ADDR="127.0.0.1:$p_syntax" NODE_PATH="$modules/node_modules" \
  node --test --test-reporter=spec "$here/test_keto_grpc_client.js" > "$work/node.out" 2>&1 || status=$?
cat "$work/node.out"

kill -TERM "$server_pid"
stop_status=0
wait "$server_pid" || stop_status=$?
server_pid=""
if [[ $stop_status -ne 0 ]]; then
  echo "zanzi serve exited with status $stop_status on SIGTERM; its log:" >&2
  cat "$work/server.log" >&2
  exit 1
fi

if [[ $status -eq 0 ]] && ! grep -Eq '^ℹ pass [1-9]' "$work/node.out"; then
  echo "no test passed: the Keto gRPC client test did not run" >&2
  exit 1
fi
exit "$status"

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

# shellcheck source=../support/serve.sh
source "$root/tests/support/serve.sh"
start_zanzi "$root/tests/keto_client/schema.zanzi" keto-grpc-client-test

status=0
KETO_READ_ADDR="127.0.0.1:$p_read" KETO_WRITE_ADDR="127.0.0.1:$p_write" \
  KETO_SYNTAX_ADDR="127.0.0.1:$p_syntax" NODE_PATH="$modules/node_modules" \
  node --test --test-reporter=spec "$here/test_keto_grpc_client.js" > "$work/node.out" 2>&1 || status=$?
cat "$work/node.out"

stop_zanzi

if [[ $status -eq 0 ]] && ! grep -Eq '^ℹ pass [1-9]' "$work/node.out"; then
  echo "no test passed: the Keto gRPC client test did not run" >&2
  exit 1
fi
exit "$status"

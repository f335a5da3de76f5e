#!/usr/bin/env bash
# Runs test_keto_client.py: Ory's official Python SDK (ory-keto-client, pinned
# below) against a real `zanzi serve` on free loopback ports, with a
# temporary SQLite database and schema.zanzi.
#
#   tests/keto_client/run.sh            # builds the debug binary if needed
#   ZANZI_BIN=target/release/zanzi tests/keto_client/run.sh
#
# The virtualenv is kept in $KETO_CLIENT_VENV (default: target/keto-client-venv)
# and reused when its pins match. Exits non-zero when anything fails,
# including pytest collecting no test (its exit status 5).
set -euo pipefail

SDK_VERSION=25.4.0
PYTEST_VERSION=8.3.5

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="${KETO_CLIENT_VENV:-$target/keto-client-venv}"

if [[ -z "${ZANZI_BIN:-}" ]]; then
  (cd "$root" && cargo build --quiet --bin zanzi)
  ZANZI_BIN="$target/debug/zanzi"
fi

# shellcheck source=../support/serve.sh
source "$root/tests/support/serve.sh"
python_venv "$venv" "ory-keto-client==$SDK_VERSION" "pytest==$PYTEST_VERSION"
start_zanzi "$here/schema.zanzi" keto-client-test

status=0
KETO_READ_URL="http://127.0.0.1:$p_read" KETO_WRITE_URL="http://127.0.0.1:$p_write" \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider "$here/test_keto_client.py" || status=$?

# Graceful stop: SIGTERM, and the server must exit cleanly.
stop_zanzi

if [[ $status -eq 5 ]]; then
  echo "pytest collected no test: the Keto client test did not run" >&2
  exit 1
fi
exit "$status"

#!/usr/bin/env bash
# Runs schemathesis (pinned below) against a real `zanzi serve --db :memory:`
# on free loopback ports: every operation of the served OpenAPI document,
# on the listener that serves it, with generated valid and invalid requests.
# A server error, a status or media type the document does not list, an
# answer that does not fit its schema, or invalid data accepted fails it.
#
#   tests/schemathesis/run.sh                     # builds the debug binary if needed
#   ZANZI_BIN=target/release/zanzi tests/schemathesis/run.sh
#   SCHEMATHESIS_MAX_EXAMPLES=500 SCHEMATHESIS_SEED=7 tests/schemathesis/run.sh
#
# The virtualenv is kept in $SCHEMATHESIS_VENV (default:
# target/schemathesis-venv) and reused when its pin matches; the reports
# (JUnit, and the requests that failed) go to $target/schemathesis-report.
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
# Per operation: enough for each phase to reach the odd cases, few enough
# for the whole run to take a few minutes on two cores.
max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-50}"
# A fixed seed by default, so that a failure in CI reproduces.
seed="${SCHEMATHESIS_SEED:-20240613}"

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="${SCHEMATHESIS_VENV:-$target/schemathesis-venv}"
report="$target/schemathesis-report"

if [[ -z "${ZANZI_BIN:-}" ]]; then
  (cd "$root" && cargo build --quiet --bin zanzi)
  ZANZI_BIN="$target/debug/zanzi"
fi

# shellcheck source=../support/serve.sh
source "$root/tests/support/serve.sh"
python_venv "$venv" "schemathesis==$SCHEMATHESIS_VERSION"
start_zanzi "$here/schema.zanzi" schemathesis-test :memory:

# A few tuples, so that checks, listings and expansions have something to find.
write="http://127.0.0.1:$p_write/admin/relation-tuples"
for tuple in \
  '{"namespace":"group","object":"eng","relation":"member","subject_id":"alice"}' \
  '{"namespace":"folder","object":"root","relation":"owner","subject_id":"alice"}' \
  '{"namespace":"folder","object":"root","relation":"viewer","subject_set":{"namespace":"group","object":"eng","relation":"member"}}' \
  '{"namespace":"document","object":"readme","relation":"parent","subject_id":"folder:root"}' \
  '{"namespace":"document","object":"readme","relation":"viewer","subject_id":"bob"}'; do
  python3 - "$write" "$tuple" <<'PY'
import sys, urllib.request
url, body = sys.argv[1], sys.argv[2].encode()
request = urllib.request.Request(url, data=body, method="PUT",
                                 headers={"Content-Type": "application/json"})
with urllib.request.urlopen(request) as answer:
    if answer.status != 201:
        sys.exit(f"seeding {body!r} answered {answer.status}")
PY
done

rm -rf "$report"
status=0
run() {
  local tag="$1" port="$2"
  echo "-- operations tagged \`$tag\` on port $port"
  # From the target directory: schemathesis keeps its example database in
  # the working directory (`.schemathesis/`).
  (cd "$target" && "$venv/bin/schemathesis" run "http://127.0.0.1:$p_read/openapi.json" \
    --url "http://127.0.0.1:$port" \
    --include-tag "$tag" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection \
    --max-examples "$max_examples" \
    --seed "$seed" \
    --workers 1 \
    --request-timeout 30 \
    --report junit,vcr --report-dir "$report/$tag" \
    --no-color) || status=$?
}
run read "$p_read"
run every "$p_read"
run write "$p_write"
run syntax "$p_syntax"
run metrics "$p_metrics"

# Graceful stop: SIGTERM, and the server must exit cleanly.
stop_zanzi
if [[ $status -ne 0 ]]; then
  echo "schemathesis found problems (see above; the requests are in $report)" >&2
fi
exit "$status"

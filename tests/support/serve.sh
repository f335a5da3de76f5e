# Sourced by the client compatibility tests (tests/keto_client/run.sh,
# tests/keto_grpc_client/run.sh): starts `zanzi serve` on four free
# loopback ports with a temporary SQLite database, and stops it.
#
#   start_zanzi SCHEMA SECRET [DB]  # sets p_read p_write p_metrics p_syntax, work, server_pid
#                                   # (DB: default a SQLite file in $work; `:memory:` works)
#   stop_zanzi                  # SIGTERM; fails unless the server exits cleanly
#   python_venv VENV PIN...     # a virtualenv at VENV holding exactly the pip
#                               # requirements PIN... (reused while they match)
#
# Needs ZANZI_BIN and python3 (for the free ports). The EXIT trap kills a
# server left running and removes $work.

python_venv() {
  local venv="$1"
  shift
  local stamp="$venv/.pins"
  if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "$*" ]]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@"
    echo "$*" > "$stamp"
  fi
}

server_pid=""
work=""

cleanup_zanzi() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ -n "$work" ]]; then rm -rf "$work"; fi
}
trap cleanup_zanzi EXIT

start_zanzi() {
  local schema="$1" secret="$2" db="${3:-}"
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
  db="${db:-$work/zanzi.db}"
  ZANZI_SECRET="$secret" "$ZANZI_BIN" serve \
    --schema "$schema" --db "$db" --host 127.0.0.1 \
    --read-port "$p_read" --write-port "$p_write" \
    --metrics-port "$p_metrics" --syntax-port "$p_syntax" \
    --log-level warn > "$work/server.log" 2>&1 &
  server_pid=$!
  if ! "$ZANZI_BIN" status --remote "http://127.0.0.1:$p_read" --block --timeout 30 > /dev/null; then
    echo "zanzi serve did not become ready; its log:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
}

stop_zanzi() {
  kill -TERM "$server_pid"
  local stop_status=0
  wait "$server_pid" || stop_status=$?
  server_pid=""
  if [[ $stop_status -ne 0 ]]; then
    echo "zanzi serve exited with status $stop_status on SIGTERM; its log:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
}

#!/usr/bin/env bash
# Runs the end-to-end tests against a fresh Organizer server and exits with their status.
#
#   ORGANIZER_BIN=path/to/organizer web/e2e/run-against.sh
#
# Starts `$ORGANIZER_BIN serve` in a temporary folder (its own data dir and storage) on a
# free port, with a random JWT_SECRET and generous auth rate limits, waits for /ready, runs
# `npm run e2e` with E2E_BASE_URL pointing at it, then stops the server. The tests get the
# server's data dir as E2E_DATA_DIR: with no SMTP_URL the server writes each mail it sends
# as an .eml file in $E2E_DATA_DIR/outbox, which the account tests read (links to verify an
# address or reset a password). PUBLIC_URL, the origin of those links, is the address the
# tests use.
#
# The server serves the web app it embedded at its build time. To test the web/ tree as it
# is now instead, set E2E_PREVIEW=1: web/dist is rebuilt and e2e/serve.mjs (the preview
# server) is put in front of the server's API.
#
# Other variables: CHROMIUM_PATH (default /usr/bin/chromium), E2E_TIMEOUT_SECS (whole
# test run, default 900), E2E_READY_TIMEOUT_SECS (server start, default 60).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
web="$(dirname "$here")"

if [ -z "${ORGANIZER_BIN:-}" ]; then
  echo "run-against.sh: set ORGANIZER_BIN to the organizer server binary" >&2
  exit 2
fi
case "$ORGANIZER_BIN" in
  /*) bin="$ORGANIZER_BIN" ;;
  *) bin="$PWD/$ORGANIZER_BIN" ;;
esac
if [ ! -x "$bin" ]; then
  echo "run-against.sh: $bin is not an executable file" >&2
  exit 2
fi

work="$(mktemp -d -t organizer-e2e-XXXXXX)"
server_pid=""
preview_pid=""

free_port() {
  node -e 'const s = require("node:net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

stop() {
  local pid="$1"
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

cleanup() {
  stop "$preview_pid"
  stop "$server_pid"
  if [ "${E2E_KEEP_TMP:-}" = 1 ]; then
    echo "run-against.sh: kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port="$(free_port)"
# The preview server's port is chosen now, so that mail links (PUBLIC_URL) point at it.
pport=""
public_url="http://127.0.0.1:$port"
if [ "${E2E_PREVIEW:-}" = 1 ]; then
  pport="$(free_port)"
  public_url="http://127.0.0.1:$pport"
fi
secret="$(node -e 'console.log(require("node:crypto").randomBytes(32).toString("hex"))')"

echo "run-against.sh: starting $bin on 127.0.0.1:$port (data in a temporary folder)"
(
  cd "$work" || exit 1
  exec env \
    BIND="127.0.0.1:$port" \
    DATA_DIR="$work/data" \
    PUBLIC_URL="$public_url" \
    JWT_SECRET="$secret" \
    AUTH_RATE_LIMIT_PER_IP=1000 \
    AUTH_RATE_LIMIT_PER_ACCOUNT=1000 \
    "$bin" serve
) >"$work/server.log" 2>&1 &
server_pid=$!

wait_ready() {
  local url="$1" deadline=$((SECONDS + ${E2E_READY_TIMEOUT_SECS:-60}))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "run-against.sh: the server exited while starting" >&2
      return 1
    fi
    if node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(2000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$url"; then
      return 0
    fi
    sleep 0.5
  done
  echo "run-against.sh: $url not ready in time" >&2
  return 1
}

if ! wait_ready "http://127.0.0.1:$port/ready"; then
  echo "---- server log ----" >&2
  tail -n 50 "$work/server.log" >&2
  exit 1
fi

base="http://127.0.0.1:$port"
if [ "${E2E_PREVIEW:-}" = 1 ]; then
  (cd "$web" && npm run build >"$work/build.log" 2>&1) || {
    echo "run-against.sh: npm run build failed" >&2
    tail -n 40 "$work/build.log" >&2
    exit 1
  }
  (cd "$web" && exec env ORGANIZER_API="$base" PORT="$pport" HOST=127.0.0.1 node e2e/serve.mjs) >"$work/preview.log" 2>&1 &
  preview_pid=$!
  if ! wait_ready "http://127.0.0.1:$pport/ready"; then
    tail -n 20 "$work/preview.log" >&2
    exit 1
  fi
  base="http://127.0.0.1:$pport"
  echo "run-against.sh: preview server (this web/ tree) on $base"
fi

echo "run-against.sh: running the end-to-end tests against $base"
(cd "$web" && E2E_BASE_URL="$base" E2E_DATA_DIR="$work/data" timeout --kill-after=30 "${E2E_TIMEOUT_SECS:-900}" npm run e2e)
status=$?
if [ "$status" -ne 0 ]; then
  [ "$status" -eq 124 ] && echo "run-against.sh: the tests did not finish in ${E2E_TIMEOUT_SECS:-900} s" >&2
  echo "---- last lines of the server log ----" >&2
  tail -n 40 "$work/server.log" >&2
fi
echo "run-against.sh: tests exited with status $status"
exit "$status"

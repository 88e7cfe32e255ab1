#!/usr/bin/env bash
# Browser suite of the web pages (pages/): Debian's chromium, driven by playwright-core, through
# every page against a demo cluster and gateway that this script starts itself.
#
#   tests/pages/run.sh                       (make test runs it; needs nothing running)
#   LMS_PAGES_ARTIFACTS=DIR tests/pages/run.sh    where the screenshots go (default tests/pages/artifacts)
#   LMS_PAGES_UPDATE_DOCS=1 tests/pages/run.sh    also refresh the set kept in docs/screenshots/
#   LMS_PAGES_ONLY=REGEX tests/pages/run.sh       only the checks whose name matches
#
# What it starts: a private cluster in a temporary folder (devenv/cluster.sh, unix socket only,
# `lms` preloaded like the demo), the demo data (demo/seed.sql, demo/activity.sql), and lms-gateway on a free
# loopback port serving a copy of pages/ (the copy gets a symlink leading out of the folder and
# a dotfile, which the gateway must refuse). playwright-core comes from the committed
# package-lock.json (npm ci; it downloads no browser); the browser is /usr/bin/chromium
# (devenv/deps.sh installs it). Everything is stopped and removed at the end.
# Last line: "N passed, M failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
bin=${LMS_GATEWAY_BIN:-$root/gateway/lms-gateway}
artifacts=${LMS_PAGES_ARTIFACTS:-$here/artifacts}

fail_early() { echo "$1" >&2; echo "0 passed, 1 failed"; exit 1; }
[ -x "$bin" ] || fail_early "gateway binary $bin not found (run make first)"
chromium=${LMS_CHROMIUM:-$(command -v chromium || true)}
[ -n "$chromium" ] || fail_early "chromium not found (devenv/deps.sh installs Debian's chromium)"
command -v node >/dev/null || fail_early "node not found (devenv/deps.sh installs it)"

# playwright-core from the lock file, once per lock file version
if ! cmp -s "$here/package-lock.json" "$here/node_modules/.lms-installed-lock" 2>/dev/null; then
  (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
    || fail_early "npm ci in tests/pages failed"
  cp "$here/package-lock.json" "$here/node_modules/.lms-installed-lock"
fi

work=$(mktemp -d /tmp/lms-pages.XXXXXX)
cluster=$work/pg
gw=""
cleanup() {
  [ -n "$gw" ] && kill -TERM "$gw" 2>/dev/null && wait "$gw" 2>/dev/null
  devenv/cluster.sh stop "$cluster" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# the demo cluster: same settings as `make demo`
devenv/cluster.sh init "$cluster" "shared_preload_libraries = 'pg_stat_statements,lms'" "lms.leaderboard_database = 'lms'" >/dev/null \
  && devenv/cluster.sh start "$cluster" || fail_early "cannot start the cluster"
eval "$(devenv/cluster.sh env "$cluster")"
export PGDATABASE=lms
psql -X -q -d postgres -c "CREATE DATABASE lms" \
  && psql -X -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "CREATE EXTENSION pg_stat_statements" \
       -c "CREATE EXTENSION lms CASCADE" -c "ALTER ROLE lms_gateway LOGIN" \
  && psql -X -q -v ON_ERROR_STOP=1 -f demo/seed.sql -f demo/activity.sql >"$work/seed.log" 2>&1 \
  || { cat "$work/seed.log" >&2; fail_early "cannot load the demo data"; }

# the pages, with two things that must never be served
cp -r pages "$work/pages"
ln -s /etc/hostname "$work/pages/leak.txt"
echo secret >"$work/pages/.secret.txt"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
LMS_DATABASE_URL="host=$PGHOST port=$PGPORT dbname=lms user=lms_gateway" \
LMS_LISTEN="127.0.0.1:$port" LMS_PAGES_DIR="$work/pages" LMS_LOGIN_RATE=1000/min LMS_THREADS=64 \
LMS_LOG_LEVEL=warn "$bin" >"$work/gateway.log" 2>&1 &
gw=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break
  kill -0 "$gw" 2>/dev/null || break
  sleep 0.1
done
curl -fs "http://127.0.0.1:$port/ready" >/dev/null 2>&1 || { tail -20 "$work/gateway.log" >&2; fail_early "the gateway did not start"; }

mkdir -p "$artifacts"
rm -f "$artifacts"/*.png
LMS_BASE="http://127.0.0.1:$port" LMS_CHROMIUM="$chromium" LMS_PAGES_ARTIFACTS="$artifacts" \
LMS_PAGES_UPDATE_DOCS="${LMS_PAGES_UPDATE_DOCS:-}" LMS_PAGES_ONLY="${LMS_PAGES_ONLY:-}" LMS_ROOT="$root" \
  node "$here/suite.mjs" | tee "$work/suite.out" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
read -r passed failed < <(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$work/suite.out" | tail -1)
passed=${passed:-0}; failed=${failed:-1}

# the gateway stops cleanly and, under the sanitizers (LMS_GATEWAY_BIN=...-asan), reported nothing
kill -TERM "$gw"; wait "$gw"; rc=$?; gw=""
if [ $rc = 0 ] && ! grep -q -E "(Address|Leak|Thread)Sanitizer|runtime error:" "$work/gateway.log"; then
  echo "ok   the gateway stopped cleanly (exit 0, no sanitizer report)"; passed=$((passed + 1))
else
  echo "FAIL the gateway: exit status $rc"; grep -A30 -E "Sanitizer|runtime error" "$work/gateway.log" | head -60
  failed=$((failed + 1))
fi
if [ "$failed" -ne 0 ]; then
  echo "--- gateway log (last 20 lines) ---"; tail -20 "$work/gateway.log"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# ADL's LRS conformance suite (the judge in ../shared/judges/lrs-conformance) against a real
# gateway and a throwaway database: `make conformance`.
#
# Builds nothing; needs a RUNNING cluster with PGHOST/PGPORT/PGUSER exported (as tests/http),
# or starts a private one itself when none is given. Copies the judge (read-only, never changed)
# into tests/conformance/.suite, installs its npm dependencies there (npm install with the
# committed package-lock.json, once), creates database lms_conformance with the extension and an
# activity provider, starts lms-gateway on a free port, then runs
#   xAPI 1.0.3: the judge's own runner (bin/console_runner.js), as its README says;
#   xAPI 2.0.0: mocha over test/v2_0 directly, with the runner's settings (under Node 20 the
#               runner never exits after the 2.0 Authentication tests, so its totals never print).
# Prints each version's figures, the Node version, and the failing tests with their errors;
# exits non-zero when 1.0.3 passes fewer than XAPI_MIN_PERCENT (default 98) percent.
# The judge writes statements and never voids them: the database is dropped at the end.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
judge=${LRS_CONFORMANCE_DIR:-}
for d in "$root/../shared/judges/lrs-conformance" /work/shared/judges/lrs-conformance; do
  [ -z "$judge" ] && [ -f "$d/package.json" ] && judge=$d
done
[ -n "$judge" ] || { echo "the judge (shared/judges/lrs-conformance) is not beside the repository" >&2; exit 1; }
bin=${LMS_GATEWAY_BIN:-$root/gateway/lms-gateway}
min=${XAPI_MIN_PERCENT:-98}
versions=${XAPI_VERSIONS:-1.0.3 2.0.0}

own_cluster=
if [ -z "${PGHOST:-}" ]; then
  own_cluster=$(mktemp -d /tmp/lms-conformance-cluster.XXXXXX)
  "$root/devenv/cluster.sh" init "$own_cluster" >/dev/null && "$root/devenv/cluster.sh" start "$own_cluster" >/dev/null || exit 1
  eval "$("$root/devenv/cluster.sh" env "$own_cluster")"
fi
db=lms_conformance
work=$(mktemp -d)
gw=
cleanup() {
  [ -n "$gw" ] && kill "$gw" 2>/dev/null && wait "$gw" 2>/dev/null
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  [ -n "$own_cluster" ] && { "$root/devenv/cluster.sh" stop "$own_cluster" >/dev/null 2>&1; rm -rf "$own_cluster"; }
  rm -rf "$work"
}
trap cleanup EXIT

# the judge and its dependencies (installed once from our lock file, kept between runs)
suite=$here/.suite
if ! cmp -s "$here/package-lock.json" "$suite/package-lock.json" 2>/dev/null || [ ! -d "$suite/node_modules" ]; then
  rm -rf "$suite" && mkdir -p "$suite" && cp -r "$judge/." "$suite/" && chmod -R u+w "$suite"
  cp "$here/package.json" "$here/package-lock.json" "$suite/"
  (cd "$suite" && npm install --no-audit --no-fund --no-save >"$work/npm.log" 2>&1) || { tail -20 "$work/npm.log"; exit 1; }
fi

PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null || exit 1
PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d $db -c "CREATE EXTENSION lms CASCADE" -c "ALTER ROLE lms_gateway LOGIN" >/dev/null || exit 1
read -r key secret < <(psql -X -At -F ' ' -d $db -c "SELECT key, secret FROM lms.xapi_create_client('conformance suite')")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
LMS_DATABASE_URL="user=lms_gateway host=$PGHOST port=$PGPORT dbname=$db" LMS_LISTEN="127.0.0.1:$port" \
LMS_POOL_SIZE=8 LMS_LOG_LEVEL=error LMS_MAX_BODY=16M "$bin" >"$work/gateway.log" 2>&1 &
gw=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
endpoint="http://127.0.0.1:$port/xapi"
echo "judge: $judge (node $(node --version))"

rc=0
for v in $versions; do
  if [ "$v" = 1.0.3 ]; then
    (cd "$suite" && timeout 900 node bin/console_runner.js -e "$endpoint" -a -u "$key" -p "$secret" -x 1.0.3 -z) >"$work/run.out" 2>&1
    counts=$(grep -E '^\{"total"' "$work/run.out" | tail -1)
    total=$(echo "$counts" | sed -E 's/.*"total":([0-9]+).*/\1/'); passed=$(echo "$counts" | sed -E 's/.*"passed":([0-9]+).*/\1/')
    failed=$(echo "$counts" | sed -E 's/.*"failed":([0-9]+).*/\1/')
    logf=$(ls -t "$suite"/logs/*.log 2>/dev/null | head -1)
    [ -n "$logf" ] && python3 "$here/failures.py" "$logf"
  else
    (cd "$suite" && DIRECTORY=v2_0 LRS_ENDPOINT="$endpoint" BASIC_AUTH_ENABLED=true BASIC_AUTH_USER="$key" \
      BASIC_AUTH_PASSWORD="$secret" XAPI_VERSION=2.0.0 timeout 600 node node_modules/mocha/bin/_mocha \
      test/v2_0/*.js --reporter spec --timeout 120000) >"$work/run.out" 2>&1
    clean=$(sed 's/\x1b\[[0-9;]*m//g' "$work/run.out")
    passed=$(echo "$clean" | grep -Eo '^ *[0-9]+ passing' | grep -Eo '[0-9]+' | tail -1)
    failed=$(echo "$clean" | grep -Eo '^ *[0-9]+ failing' | grep -Eo '[0-9]+' | tail -1)
    passed=${passed:-0}; failed=${failed:-0}; total=$((passed + failed))
    echo "$clean" | grep -E '^ +[0-9]+\) ' | sed -n '/^ *1) /,$p' | awk 'seen[$0]++==0' | sed 's/^ */  FAIL /' | cut -c1-300
  fi
  pct=$(python3 -c "print('%.2f' % (100.0 * ${passed:-0} / max(1, ${total:-0})))")
  echo "xAPI $v: $passed of $total tests passed ($pct %), $failed failed"
  if [ "$v" = 1.0.3 ] && python3 -c "import sys; sys.exit(0 if $pct >= $min else 1)"; then :; elif [ "$v" = 1.0.3 ]; then rc=1; fi
done
exit $rc

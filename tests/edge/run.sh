#!/usr/bin/env bash
# The gateway holds its ground (issue 10): HTTP framing, per-address and head limits, a pool
# with dead slots, secrets kept out of the access log, and the production edge (Debian's
# nginx with deploy/nginx/) measured with a short starvation run.
#
# Called by the top-level harness with a RUNNING private cluster (PGHOST, PGPORT, PGUSER
# superuser exported). Makes its own database and a connection-limited role, starts its own
# gateways (gateway/lms-gateway, or $LMS_GATEWAY_BIN) and nginx, and removes all of it.
# Last line: "N passed, M failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${PGHOST:?}" "${PGPORT:?}" "${PGUSER:?}"
export EDGE_GW_BIN=${LMS_GATEWAY_BIN:-$root/gateway/lms-gateway}
export EDGE_ROOT=$root
suffix=$$
export EDGE_DB=lms_edge_$suffix EDGE_ROLE=lms_edge_pool_$suffix
cleanup() {
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $EDGE_DB" -c "DROP ROLE IF EXISTS $EDGE_ROLE" >/dev/null 2>&1
}
trap cleanup EXIT
if ! psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $EDGE_DB" >/dev/null \
   || ! psql -X -q -v ON_ERROR_STOP=1 -d "$EDGE_DB" -c "SET client_min_messages = warning" -c "CREATE EXTENSION lms CASCADE" \
        -c "ALTER ROLE lms_gateway LOGIN" \
        -c "CREATE ROLE $EDGE_ROLE LOGIN CONNECTION LIMIT 3 IN ROLE lms_gateway" >/dev/null; then
  echo "0 passed, 1 failed"; exit 1
fi
/usr/bin/python3 "$here/test_edge.py" "$@"

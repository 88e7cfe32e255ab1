#!/usr/bin/env bash
# The topology suite (tests/topology/test_topology.py): primary, hot standby by pg_basebackup -R,
# two gateways, PgBouncer in transaction mode, asynchronous and synchronous failover, all started
# and stopped by the suite in a scratch folder. Needs the extension installed and the gateway
# built (make, make install); needs no running cluster. Last line: "N passed, M failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v pgbouncer >/dev/null || { echo "pgbouncer is not installed (devenv/deps.sh)"; echo "0 passed, 1 failed"; exit 1; }
exec /usr/bin/python3 "$here/test_topology.py"

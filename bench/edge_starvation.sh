#!/usr/bin/env bash
# Starvation benchmark of issue 10 (see bench/edge_starvation.py): the gateway alone and
# behind the production edge (deploy/nginx/), 1,100 idle / 1,150 slowloris / 2,000 busy
# connections from 127.0.0.1 against a second client on 127.0.0.2.
#   make bench-edge_starvation [DURATION=30] [TARGETS="gateway nginx"]
# Runs on a private throwaway cluster with the extension installed (make install first).
set -uo pipefail
cd "$(dirname "$0")/.."
cluster=$(mktemp -d /tmp/lms-edge-bench.XXXXXX)
trap 'devenv/cluster.sh stop "$cluster" >/dev/null 2>&1; rm -rf "$cluster"' EXIT
devenv/cluster.sh init "$cluster" >/dev/null && devenv/cluster.sh start "$cluster" >/dev/null || exit 1
eval "$(devenv/cluster.sh env "$cluster")"
psql -X -q -d postgres -c "CREATE DATABASE lms_edge" && \
  psql -X -q -d lms_edge -c "SET client_min_messages = warning" -c "CREATE EXTENSION lms CASCADE" -c "ALTER ROLE lms_gateway LOGIN" || exit 1
PGDATABASE=lms_edge python3 bench/edge_starvation.py

#!/usr/bin/env bash
# `make stop`: stops the demo gateway and its private cluster (data in .demo/ is kept).
set -uo pipefail
cd "$(dirname "$0")/.."
state=.demo
if [ -f "$state/gateway.pid" ]; then
  pid=$(cat "$state/gateway.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$state/gateway.pid"
fi
[ -d "$state/pg/data" ] && devenv/cluster.sh stop "$state/pg"
echo "demo: stopped (remove .demo/ to start from scratch)"

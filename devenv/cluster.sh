#!/usr/bin/env bash
# Private PostgreSQL clusters for tests, the demo and benchmarks.
# A cluster lives in one folder: data in DIR/data, its unix socket in DIR/run, no TCP
# listener (so no port can clash). As root the server runs as `postgres` (PostgreSQL
# refuses to run as root); as an ordinary user it runs as that user.
#
#   cluster.sh init DIR [extra postgresql.conf lines...]   initdb + configure (idempotent)
#   cluster.sh start DIR | stop DIR | restart DIR | status DIR
#   cluster.sh psql DIR [psql args...]                      psql as the superuser
#   cluster.sh env DIR                                      prints PGHOST/PGPORT/PGUSER exports
set -euo pipefail

bindir=$(pg_config --bindir)
port=5432
cmd=${1:?usage: cluster.sh init|start|stop|restart|status|psql|env DIR}
dir=${2:?cluster folder missing}
shift 2
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

if [ "$(id -u)" -eq 0 ]; then
  server_user=postgres
  as_server() { runuser -u postgres -- "$@"; }
else
  server_user=$(id -un)
  as_server() { "$@"; }
fi

init() {
  if [ -f "$dir/data/PG_VERSION" ]; then return 0; fi
  mkdir -p "$dir/data" "$dir/run"
  # the server user must reach the folder: open every parent for traversal only
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres: "$dir"
    p="$dir"; while [ "$p" != / ]; do chmod o+x "$p" 2>/dev/null || true; p=$(dirname "$p"); done
  fi
  as_server "$bindir/initdb" -D "$dir/data" -U "$server_user" -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  as_server tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF
# private cluster settings (devenv/cluster.sh)
listen_addresses = ''
unix_socket_directories = '$dir/run'
port = $port
max_connections = 300
shared_buffers = 256MB
work_mem = 16MB
maintenance_work_mem = 256MB
max_wal_size = 4GB
checkpoint_timeout = 30min
wal_level = minimal
max_wal_senders = 0
logging_collector = off
log_min_messages = warning
timezone = 'UTC'
shared_preload_libraries = 'pg_stat_statements'
CONF
  for line in "$@"; do printf '%s\n' "$line" | as_server tee -a "$dir/data/postgresql.conf" >/dev/null; done
}

running() { as_server "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; }

start() {
  running && return 0
  as_server "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
    || { tail -20 "$dir/server.log" >&2; exit 1; }
}

stop() {
  running || return 0
  as_server "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
}

case "$cmd" in
  init) init "$@" ;;
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) running && echo running || { echo stopped; exit 3; } ;;
  psql) exec "$bindir/psql" -X -h "$dir/run" -p "$port" -U "$server_user" "$@" ;;
  env) printf 'export PGHOST=%q PGPORT=%s PGUSER=%q\n' "$dir/run" "$port" "$server_user" ;;
  *) echo "cluster.sh: unknown command $cmd" >&2; exit 2 ;;
esac

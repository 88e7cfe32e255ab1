#!/usr/bin/env bash
# pgBackRest for private clusters (devenv/cluster.sh): the shipped configuration
# (ops/pgbackrest/pgbackrest.conf and its archiving settings ops/pgbackrest/postgresql.conf)
# with only its paths rewritten to a throwaway folder. Sourced by tests/recovery/run.sh and
# bench/recovery.sh:
#
#   . devenv/pgbackrest.sh
#   pgbr_init WORK CLUSTER          WORK/pgbackrest.conf + repo, spool, log and lock folders
#   pgbr_archive_settings WORK      the archiving lines for postgresql.conf, one per line
#   pgbr WORK ARGS...               pgbackrest --config=WORK/pgbackrest.conf ARGS... as the server user
#   pgbr_restore_into WORK DIR ARGS...
#                                   pgbackrest restore ARGS... into DIR/data, made a cluster of
#                                   its own for devenv/cluster.sh (socket folder, no archiving)
# The stanza is `lms` (the shipped name). As root every folder belongs to `postgres`, which runs
# the server, archive_command and pgbackrest alike (pgBackRest must run as the cluster's owner).

pgbr_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ "$(id -u)" -eq 0 ]; then
  pgbr_as_server() { runuser -u postgres -- "$@"; }
  pgbr_own() { chown -R postgres: "$@"; }
else
  pgbr_as_server() { "$@"; }
  pgbr_own() { :; }
fi

pgbr_init() {
  local work=$1 cluster=$2
  mkdir -p "$work/repo" "$work/spool" "$work/log" "$work/lock"
  sed -e "s|^repo1-path=.*|repo1-path=$work/repo|" \
      -e "s|^spool-path=.*|spool-path=$work/spool|" \
      -e "s|^log-path=.*|log-path=$work/log|" \
      -e "s|^lock-path=.*|lock-path=$work/lock|" \
      -e "s|^pg1-path=.*|pg1-path=$cluster/data|" \
      -e "s|^pg1-socket-path=.*|pg1-socket-path=$cluster/run|" \
      "$pgbr_root/ops/pgbackrest/pgbackrest.conf" >"$work/pgbackrest.conf"
  pgbr_own "$work"
  local p="$work"; while [ "$p" != / ]; do chmod o+x "$p" 2>/dev/null || true; p=$(dirname "$p"); done
}

pgbr_archive_settings() {
  local work=$1
  sed -e 's/#.*//' -e '/^[[:space:]]*$/d' \
      -e "s|pgbackrest --stanza|pgbackrest --config=$work/pgbackrest.conf --stanza|" \
      "$pgbr_root/ops/pgbackrest/postgresql.conf"
}

pgbr() {
  local work=$1; shift
  pgbr_as_server pgbackrest --config="$work/pgbackrest.conf" --stanza=lms "$@"
}

pgbr_restore_into() {
  local work=$1 dir=$2; shift 2
  mkdir -p "$dir/run"
  pgbr_own "$dir"
  local p="$dir"; while [ "$p" != / ]; do chmod o+x "$p" 2>/dev/null || true; p=$(dirname "$p"); done
  pgbr "$work" --pg1-path="$dir/data" "$@" restore || return
  # the restored postgresql.conf still names the source's socket folder and archive command
  printf '%s\n' "# restored copy (devenv/pgbackrest.sh)" "unix_socket_directories = '$dir/run'" \
    "archive_mode = off" | pgbr_as_server tee -a "$dir/data/postgresql.conf" >/dev/null
}

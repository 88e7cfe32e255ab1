#!/usr/bin/env bash
# `make bench-recovery` (bench/recovery.sh [rto|rpo|all]): recovery time and recovery point of
# the shipped pgBackRest setup (ops/pgbackrest/), measured on private clusters.
#
#   rto   SCALE (default medium) data from bench/data/generate.sh into a cluster, archiving
#         switched on, a full backup (timed), a burst of writes after it (WAL to replay), the
#         server stopped, then the clock runs: pgbackrest restore into an empty folder, start,
#         WAL replay to the end of the archive, promotion, first answered queries.
#   rpo   TRIALS (default 3) crashes of a primary taking one acknowledged write every ~0.2 s:
#         at a random moment 70-130 s in, the server is killed (immediate stop) and its pg_wal
#         deleted (the machine is lost, only the repository survives); restore to the end of the
#         archive; data lost = time between the last acknowledged write and the last one the
#         restored cluster holds. archive_timeout is the shipped 60 s.
# State lives in BENCH_DIR (default .bench/recovery, removed at the end unless KEEP=1).
# Prints every figure and the command; the machine's load before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
. devenv/pgbackrest.sh
mode=${1:-all}
scale=${SCALE:-medium}
trials=${TRIALS:-3}
base=${BENCH_DIR:-$root/.bench/recovery}
now() { date +%s.%N; }
since() { printf '%.1f' "$(echo "$(now) - $1" | bc)"; }
on() { local c=$1; shift; devenv/cluster.sh psql "$c" -X -At -v ON_ERROR_STOP=1 "$@"; }

rm -rf "$base"; mkdir -p "$base"
cleanup() {
  for c in "$base"/*/; do [ -d "$c/data" ] && devenv/cluster.sh stop "$c" >/dev/null 2>&1 || true; done
  for p in "$base"/*/writer.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true; done
  [ "${KEEP:-0}" = 1 ] || rm -rf "$base"
}
trap cleanup EXIT

echo "bench/recovery.sh $mode (SCALE=$scale TRIALS=$trials) on $(hostname), $(nproc) cores; pgBackRest $(pgbackrest version | cut -d' ' -f2)"
echo "load before: $(uptime | sed 's/.*load average/load average/')"

# wait_promoted CLUSTER: until the server answers outside recovery
wait_promoted() {
  for _ in $(seq 1 3000); do
    [ "$(on "$1" -d postgres -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ] && return 0
    sleep 0.1
  done
  return 1
}

rto() {
  local c=$base/rto-primary r=$base/rto-restored w=$base/rto-backrest t
  echo "== RTO at SCALE=$scale"
  pgbr_init "$w" "$c"
  devenv/cluster.sh init "$c" "lms.clock_override = ''" >/dev/null
  devenv/cluster.sh start "$c"
  ( eval "$(devenv/cluster.sh env "$c")"; export PGDATABASE=lms_bench; BCRYPT_COST=4 bench/data/generate.sh "$scale" ) \
    | grep -E 'database size|done in|rows:' | sed 's/^ */  data: /'
  # archiving on, as in production from day one (the data was generated with wal_level=minimal)
  pgbr_archive_settings "$w" | sed '1i # archiving (bench/recovery.sh)' | pgbr_as_server tee -a "$c/data/postgresql.conf" >/dev/null
  devenv/cluster.sh restart "$c"
  pgbr "$w" stanza-create >"$base/rto.log" 2>&1
  t=$(now); pgbr "$w" --type=full backup >>"$base/rto.log" 2>&1
  echo "  full backup: $(since "$t") s"
  pgbr "$w" --output=json info | python3 -c '
import json, sys
b = json.load(sys.stdin)[0]["backup"][-1]
print("  backup size: database %.0f MB, in the repository %.0f MB (zstd)" % (b["info"]["size"] / 1e6, b["info"]["repository"]["delta"] / 1e6))'
  # WAL written after the backup, which the restore has to replay
  local lsn0 lsn1
  lsn0=$(on "$c" -d lms_bench -c "SELECT pg_current_wal_lsn()")
  t=$(now)
  on "$c" -d lms_bench -F $'\t' -v phase=R -v n=2000 -f tests/recovery/writes.sql >"$base/rto-writes.tsv"
  echo "  after the backup: $(wc -l <"$base/rto-writes.tsv") acknowledged writes in $(since "$t") s"
  # and the heaviest routine batch, a full recompute of every learner's totals and boards
  t=$(now)
  on "$c" -d lms_bench -c "SELECT lms.recompute_gamification()" >/dev/null
  echo "  then lms.recompute_gamification(): $(since "$t") s"
  lsn1=$(on "$c" -d lms_bench -c "SELECT pg_current_wal_lsn()")
  local wal_mb; wal_mb=$(on "$c" -d postgres -c "SELECT round(pg_wal_lsn_diff('$lsn1', '$lsn0') / 1e6, 1)")
  echo "  WAL written after the backup (to replay): $wal_mb MB"
  local last; last=$(on "$c" -d lms_bench -c "SELECT max(id) FROM lms.points_ledger")
  on "$c" -d postgres -c "SELECT pg_switch_wal()" >/dev/null
  pgbr "$w" check >>"$base/rto.log" 2>&1
  devenv/cluster.sh stop "$c"

  t=$(now)
  pgbr_restore_into "$w" "$r" >>"$base/rto.log" 2>&1
  local restored; restored=$(since "$t")
  devenv/cluster.sh start "$r"
  wait_promoted "$r"
  local promoted; promoted=$(since "$t")
  local got; got=$(on "$r" -d lms_bench -c "SELECT max(id) FROM lms.points_ledger")
  on "$r" -d lms_bench -c "SELECT count(*) FROM lms.leaderboard('global', 'all', 10)" >/dev/null
  local answered; answered=$(since "$t")
  echo "  restore (files from the repository): $restored s"
  local replay; replay=$(echo "$promoted - $restored" | bc)
  echo "  start + WAL replay + promotion: $replay s ($(printf "%.1f" "$(echo "scale=3; $wal_mb / $replay" | bc)") MB of WAL per second, start-up included)"
  echo "  RTO (restore until the first answered board query): $answered s"
  [ "$got" = "$last" ] && echo "  restored cluster holds the last acknowledged ledger row ($last)" \
    || { echo "  MISMATCH: last ledger row $last, restored $got"; return 1; }
  devenv/cluster.sh stop "$r"
  rm -rf "$c" "$r" "$w"
}

rpo_trial() {
  local n=$1 d=$base/rpo-$1
  local c=$d/primary r=$d/restored w=$d/backrest
  mkdir -p "$d"
  pgbr_init "$w" "$c"
  mapfile -t archiving < <(pgbr_archive_settings "$w")
  devenv/cluster.sh init "$c" "lms.clock_override = ''" "${archiving[@]}" >/dev/null
  devenv/cluster.sh start "$c"
  on "$c" -d postgres -q -c "CREATE DATABASE lms"
  on "$c" -d lms -q -c "SET client_min_messages = warning" -c "CREATE EXTENSION lms CASCADE" \
    -c "SELECT lms.create_user('rpo@example.com', 'password123', 'RPO writer')" >/dev/null
  pgbr "$w" stanza-create >"$d/backrest.log" 2>&1
  pgbr "$w" --type=full backup >>"$d/backrest.log" 2>&1
  local uid; uid=$(on "$c" -d lms -c "SELECT id FROM lms.users WHERE email = 'rpo@example.com'")
  # the writer: one award per ~0.2 s, its key and the moment its answer came back
  ( i=0; while :; do
      i=$((i + 1))
      on "$c" -d lms -c "SELECT lms.award_points($uid, 1, 'admin_correction', 'rpo-$i')" >/dev/null 2>&1 || exit 0
      echo "$i $(now)" >>"$d/acked.txt"
      sleep 0.2
    done ) &
  echo $! >"$d/writer.pid"
  local crash_after=$(( 70 + RANDOM % 61 ))
  sleep "$crash_after"
  # the machine is lost: no clean shutdown, and the WAL not yet archived is gone with it
  pgbr_as_server "$(pg_config --bindir)/pg_ctl" -D "$c/data" -m immediate stop >/dev/null
  kill "$(cat "$d/writer.pid")" 2>/dev/null || true; wait 2>/dev/null || true
  rm -rf "$c/data/pg_wal"/0* "$c/data/pg_wal/archive_status"/*
  local t; t=$(now)
  pgbr_restore_into "$w" "$r" >>"$d/backrest.log" 2>&1
  devenv/cluster.sh start "$r"
  wait_promoted "$r"
  local took; took=$(since "$t")
  local kept; kept=$(on "$r" -d lms -c "SELECT coalesce(max(substr(source_key, 5)::int), 0) FROM lms.points_ledger WHERE source_key LIKE 'rpo-%'")
  local last; last=$(tail -1 "$d/acked.txt")
  local kept_at last_at
  kept_at=$(awk -v k="$kept" '$1 == k { print $2 }' "$d/acked.txt")
  [ -n "$kept_at" ] || kept_at=$(head -1 "$d/acked.txt" | cut -d' ' -f2)
  last_at=${last#* }
  printf '  trial %d: crash after %d s, %d writes acknowledged, %d restored, %d lost = %.1f s of writes; restore took %s s\n' \
    "$n" "$crash_after" "${last%% *}" "$kept" $(( ${last%% *} - kept )) "$(echo "$last_at - $kept_at" | bc)" "$took"
  echo "$(echo "$last_at - $kept_at" | bc)" >>"$base/rpo-losses.txt"
  devenv/cluster.sh stop "$r"
  rm -rf "$d"
}

rpo() {
  echo "== RPO: $trials crashes, archive_timeout = $(sed -n 's/^archive_timeout *= *//p' ops/pgbackrest/postgresql.conf) s, archive-async"
  : >"$base/rpo-losses.txt"
  for n in $(seq 1 "$trials"); do rpo_trial "$n"; done
  sort -n "$base/rpo-losses.txt" | awk '{ v[NR] = $1 } END { printf "  data lost per crash: median %.1f s, worst %.1f s (%d trials)\n", v[int((NR + 1) / 2)], v[NR], NR }'
}

case "$mode" in
  rto) rto ;;
  rpo) rpo ;;
  all) rto; rpo ;;
  *) echo "usage: bench/recovery.sh [rto|rpo|all]" >&2; exit 2 ;;
esac
echo "load after: $(uptime | sed 's/.*load average/load average/')"
echo "command: SCALE=$scale TRIALS=$trials bench/recovery.sh $mode"

#!/usr/bin/env bash
# Recovery suite: pgBackRest backups and point-in-time restore of a real cluster.
#
# A private cluster with WAL archiving (ops/pgbackrest/postgresql.conf) and the shipped
# pgBackRest configuration (ops/pgbackrest/pgbackrest.conf, paths rewritten by
# devenv/pgbackrest.sh) gets the demo data and a full backup; then three phases of acknowledged
# writes (lesson completions and awards, each logged with its answer):
#   A   full backup already taken; an incremental backup follows A
#   B   then a named restore point T = lms-recovery-T
#   C   after T
# Restores into new clusters, checked against the log:
#   to T (by name, from the incremental + WAL)       A and B present, C absent
#   to a time between A and the incremental          A present, B and C absent (pgBackRest picks
#     (from the full backup + WAL)                   the full backup by itself)
# and on each restored cluster: every counter agrees with its rows, recompute_gamification()
# reports 0 differences, boards refresh and rank, and a new write works.
# Needs nothing from the harness's cluster; last line "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
. devenv/pgbackrest.sh

pass=0; fail=0
check() { if [ "$1" = ok ]; then pass=$((pass+1)); echo "ok - $2"; else fail=$((fail+1)); echo "not ok - $2"; fi; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit; }

work=$(mktemp -d /tmp/lms-recovery.XXXXXX)
primary=$work/primary
cleanup() {
  for c in "$work"/primary "$work"/restore-*; do
    [ -d "$c/data" ] && devenv/cluster.sh stop "$c" >/dev/null 2>&1
  done
  rm -rf "$work"
}
trap cleanup EXIT

# psql on one of our clusters: on CLUSTER [psql args...]
on() { local c=$1; shift; devenv/cluster.sh psql "$c" -At -v ON_ERROR_STOP=1 "$@"; }

pgbr_init "$work/backrest" "$primary"
mapfile -t archiving < <(pgbr_archive_settings "$work/backrest")
if devenv/cluster.sh init "$primary" "lms.clock_override = ''" "${archiving[@]}" >/dev/null \
   && devenv/cluster.sh start "$primary"; then
  check ok "primary cluster with WAL archiving started"
else
  check fail "primary cluster with WAL archiving started"; finish
fi
[ "$(on "$primary" -d postgres -c 'SHOW archive_mode')" = on ] && check ok "archive_mode is on" || check fail "archive_mode is on"

on "$primary" -d postgres -q -c "CREATE DATABASE lms" \
  && on "$primary" -d lms -q -c "SET client_min_messages = warning" -c "CREATE EXTENSION lms CASCADE" \
  && on "$primary" -d lms -q -f demo/seed.sql >/dev/null \
  && check ok "demo data loaded" || { check fail "demo data loaded"; finish; }

if pgbr "$work/backrest" stanza-create >"$work/stanza.log" 2>&1 && pgbr "$work/backrest" check >>"$work/stanza.log" 2>&1; then
  check ok "stanza created; pgbackrest check archives a segment end to end"
else
  check fail "stanza create and check"; tail -20 "$work/stanza.log"; finish
fi
if pgbr "$work/backrest" --type=full backup >"$work/full.log" 2>&1; then
  check ok "full backup"
else
  check fail "full backup"; tail -20 "$work/full.log"; finish
fi

# one phase of acknowledged writes, appended to the log: phase NAME N
phase() {
  on "$primary" -d lms -F $'\t' -v phase="$1" -v n="$2" -f tests/recovery/writes.sql >>"$work/acked.tsv" 2>"$work/writes-$1.err"
  local got; got=$(grep -c "^$1"$'\t' "$work/acked.tsv")
  [ "$got" -eq $(( 2 * $2 )) ] && check ok "phase $1: $2 progress writes and $2 awards acknowledged" \
    || { check fail "phase $1: $got of $(( 2 * $2 )) writes acknowledged"; cat "$work/writes-$1.err"; }
  local open; open=$(awk -F'\t' -v p="$1" '$1 == p && $2 == "progress" && $5 != "true"' "$work/acked.tsv" | wc -l)
  [ "$open" -eq 0 ] && check ok "phase $1: every progress write completed its lesson" \
    || check fail "phase $1: $open progress writes left their lesson incomplete"
}
: >"$work/acked.tsv"
phase A 20
# the moment between A and the incremental backup (server time, after A's last commit)
sleep 1; time_a=$(on "$primary" -d lms -c "SELECT now()"); sleep 1
if pgbr "$work/backrest" --type=incr backup >"$work/incr.log" 2>&1; then
  check ok "incremental backup"
else
  check fail "incremental backup"; tail -20 "$work/incr.log"
fi
phase B 20
on "$primary" -d lms -c "SELECT pg_create_restore_point('lms-recovery-T')" >/dev/null \
  && check ok "restore point T created" || check fail "restore point T created"
phase C 20
# archive the segment holding C, as archive_timeout would a minute later
on "$primary" -d lms -c "SELECT pg_switch_wal()" >/dev/null
pgbr "$work/backrest" check >/dev/null 2>&1 && check ok "WAL up to C archived" || check fail "WAL up to C archived"

info=$(pgbr "$work/backrest" --output=json info)
nb=$(printf '%s' "$info" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(b["type"] for b in d[0]["backup"]))')
[ "$nb" = "full incr" ] && check ok "repository holds a full and an incremental backup" \
  || check fail "repository holds '$nb', expected 'full incr'"

# restore NAME KEPT PGBACKREST-RESTORE-ARGS...: restore into a new cluster, start it, compare it
restore() {
  local name=$1 kept=$2; shift 2
  local dir=$work/restore-$name t0=$SECONDS
  if ! pgbr_restore_into "$work/backrest" "$dir" "$@" >"$work/restore-$name.log" 2>&1; then
    check fail "$name: pgbackrest restore"; tail -20 "$work/restore-$name.log"; return
  fi
  if ! devenv/cluster.sh start "$dir"; then
    check fail "$name: restored cluster starts"; tail -20 "$dir/server.log"; return
  fi
  local rec=t
  for _ in $(seq 1 300); do
    rec=$(on "$dir" -d postgres -c "SELECT pg_is_in_recovery()" 2>/dev/null) && [ "$rec" = f ] && break
    sleep 0.2
  done
  [ "$rec" = f ] && check ok "$name: restored, recovered and promoted in $((SECONDS - t0)) s" \
    || { check fail "$name: still in recovery"; tail -20 "$dir/server.log"; return; }
  grep -q "recovery stopping" "$dir/server.log" && check ok "$name: recovery stopped at its target" \
    || check fail "$name: recovery stopped at its target (server.log says nothing)"

  on "$dir" -d lms -q -c "CREATE TABLE pg_temp.acked (phase text, kind text, user_id bigint, key text, answer text)" \
    -c "\\copy pg_temp.acked FROM '$work/acked.tsv'" -v kept="$kept" -F ' ' -f tests/recovery/verify.sql >"$work/verify-$name.txt" 2>&1
  while read -r line; do
    n=${line##* }; what=${line% *}
    [ "$n" = 0 ] && check ok "$name: $what: 0" || check fail "$name: $what: $n"
  done < <(grep -E ' [0-9]+$' "$work/verify-$name.txt")
  [ "$(grep -cE ' [0-9]+$' "$work/verify-$name.txt")" -eq 4 ] || { check fail "$name: comparison ran"; cat "$work/verify-$name.txt"; }

  bad=$(on "$dir" -d lms -F ' ' -f tests/backup/invariants.sql | awk '$NF != 0')
  [ -z "$bad" ] && check ok "$name: every counter agrees with its rows; recompute reports 0 differences" \
    || { check fail "$name: counters"; echo "$bad"; }

  # the boards work: refresh, the global board ranks the learner of the last kept award at the
  # points their scores say, and a new write goes through
  local u; u=$(awk -F'\t' -v k="${kept##*,}" '$1 == k && $2 == "award" { u = $3 } END { print u }' "$work/acked.tsv")
  local board
  board=$(on "$dir" -d lms -c "SELECT lms.refresh_leaderboards()" \
            -c "SELECT r.points = s.total_points AND r.rank >= 1 FROM lms.user_rank('global', 'all', $u) r, lms.learner_scores s WHERE s.user_id = $u" 2>&1 | tail -1)
  [ "$board" = t ] && check ok "$name: boards refresh; learner $u ranked with their restored points" \
    || check fail "$name: boards after restore: $board"
  on "$dir" -d lms -c "SELECT lms.award_points($u, 1, 'admin_correction', 'after-restore-$name')" | grep -qE '^[0-9]+$' \
    && check ok "$name: new writes after restore" || check fail "$name: new writes after restore"
  devenv/cluster.sh stop "$dir" >/dev/null 2>&1
}

restore to-T A,B --type=name --target=lms-recovery-T --target-action=promote
restore to-time A --type=time "--target=$time_a" --target-action=promote
sed -n 's/.*\(repo1: restore backup set [^,]*\).*/\1/p' "$work/restore-to-T.log" "$work/restore-to-time.log" >"$work/sets.txt"
sets=$(cut -d' ' -f5 "$work/sets.txt" | sed -E 's/.*([FDI])$/\1/' | tr '\n' ' ')
[ "$sets" = "I F " ] && check ok "to-T restored the incremental set, to-time the full set" \
  || { check fail "backup sets chosen: '$sets' (expected incremental then full)"; cat "$work/sets.txt"; }

finish

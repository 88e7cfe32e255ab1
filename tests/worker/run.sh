#!/usr/bin/env bash
# The leaderboard background worker, on a cluster of its own with shared_preload_libraries = 'lms'
# (the main test cluster runs a stock configuration, which the other suites cover):
# with the worker in charge, a board read does not refresh a changed board, so a learner who
# earns points appears on the board only if the worker refreshes it.
set -uo pipefail
cd "$(dirname "$0")/../.."
pass=0; fail=0
check() { if [ "$1" = ok ]; then pass=$((pass+1)); echo "ok - $2"; else fail=$((fail+1)); echo "not ok - $2"; fi; }
dir=$(mktemp -d /tmp/lms-worker.XXXXXX)
trap 'devenv/cluster.sh stop "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT
devenv/cluster.sh init "$dir" "shared_preload_libraries = 'lms'" "lms.leaderboard_database = 'lms_worker'" \
  "lms.leaderboard_refresh_interval = '1s'" >/dev/null
devenv/cluster.sh start "$dir" && check ok "server starts with lms preloaded" || { check fail "server starts with lms preloaded"; echo "$pass passed, $fail failed"; exit 1; }
eval "$(devenv/cluster.sh env "$dir")"
q() { psql -X -At -v ON_ERROR_STOP=1 -d lms_worker "$@"; }
psql -X -q -d postgres -c "CREATE DATABASE lms_worker"
q -c "SET client_min_messages = warning" -c "CREATE EXTENSION lms CASCADE" >/dev/null
uid=$(q -c "SET lms.bcrypt_cost = 4" -c "SELECT lms.create_user('worker@example.com', 'password123', 'Worker Test')" | tail -1)

# the worker connects to its database once the extension exists
for _ in $(seq 1 40); do
  n=$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'lms leaderboard refresher'")
  [ "$n" = 1 ] && break; sleep 0.25
done
[ "$n" = 1 ] && check ok "the refresher runs" || check fail "the refresher runs (found $n)"

q -c "SELECT count(*) FROM lms.leaderboard('global', 'all')" >/dev/null   # first read builds the board
q -c "SELECT lms.award_points($uid, 42, 'admin_correction', 'worker-test-1')" >/dev/null
found=""
for _ in $(seq 1 40); do
  found=$(q -c "SELECT rank || ':' || points FROM lms.leaderboard('global', 'all') WHERE user_id = $uid")
  [ -n "$found" ] && break; sleep 0.25
done
[ "$found" = "1:42" ] && check ok "the worker puts a new score on the board within seconds" \
  || check fail "the worker puts a new score on the board within seconds (got '$found')"

# a configuration reload reaches the worker, and it survives DROP/CREATE EXTENSION
devenv/cluster.sh psql "$dir" -d postgres -q -c "ALTER SYSTEM SET lms.leaderboard_refresh_interval = '500ms'" -c "SELECT pg_reload_conf()" >/dev/null
q -c "SET client_min_messages = warning" -c "DROP EXTENSION lms CASCADE" -c "CREATE EXTENSION lms CASCADE" >/dev/null
uid=$(q -c "SET lms.bcrypt_cost = 4" -c "SELECT lms.create_user('again@example.com', 'password123', 'Again')" | tail -1)
q -c "SELECT count(*) FROM lms.leaderboard('global', 'all')" >/dev/null
q -c "SELECT lms.award_points($uid, 7, 'admin_correction', 'worker-test-2')" >/dev/null
found=""
for _ in $(seq 1 40); do
  found=$(q -c "SELECT rank || ':' || points FROM lms.leaderboard('global', 'all') WHERE user_id = $uid")
  [ -n "$found" ] && break; sleep 0.25
done
[ "$found" = "1:7" ] && check ok "after a reload and DROP/CREATE EXTENSION the worker still refreshes" \
  || check fail "after a reload and DROP/CREATE EXTENSION the worker still refreshes (got '$found')"

# the worker rolls a league week over once it has ended: points earned in the week of
# 2026-03-02, then the server's clock moves to the next Monday (lms.clock_override, reloaded)
q -c "SET lms.clock_override = '2026-03-04 10:00:00+00'" -c "SELECT lms.award_points($uid, 9, 'quiz_passed', 'worker-league-1')" >/dev/null
devenv/cluster.sh psql "$dir" -d postgres -q -c "ALTER SYSTEM SET lms.clock_override = '2026-03-09 00:00:05+00'" -c "SELECT pg_reload_conf()" >/dev/null
rolled=""
for _ in $(seq 1 40); do
  rolled=$(q -c "SELECT w.week || ':' || w.members || ':' || m.outcome FROM lms.league_weeks w JOIN lms.league_members m ON m.week = w.week WHERE m.user_id = $uid")
  [ -n "$rolled" ] && break; sleep 0.25
done
devenv/cluster.sh psql "$dir" -d postgres -q -c "ALTER SYSTEM RESET lms.clock_override" -c "SELECT pg_reload_conf()" >/dev/null
[ "$rolled" = "2026-03-02:1:promoted" ] && check ok "the worker rolls a league week over once it has ended" \
  || check fail "the worker rolls a league week over once it has ended (got '$rolled')"
# (a FATAL "database does not exist" before CREATE DATABASE is the worker waiting for it)
grep -E "ERROR|FATAL|PANIC" "$dir/server.log" | grep -vE "canceling|database \"lms_worker\" does not exist" | head -5
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

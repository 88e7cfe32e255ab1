#!/usr/bin/env bash
# `make bench-leagues`: weekly leagues and the group ladder at scale (docs/performance.md,
# "Leagues and group ladders"), on a database made by `make bench-data SCALE=...` (libpq
# environment; PGDATABASE default lms_bench). Every student of it takes part:
#   1. last week: every learner earns points in it (one ledger row each, loaded with the trigger
#      off and the totals updated set-based), then lms.league_rebuild(week) forms the week's
#      cohorts set-based;
#   2. the rollover of that week (lms.league_rollover() at Monday 00:00:30 UTC), timed
#      (target: under 60 s at 1M learners); a second one finds nothing to do;
#   3. this week: every learner earns their first points of the week through the real path (the
#      ledger trigger and lms.league_count_many), in batches of BATCH (default 5,000) learners per
#      statement and transaction in JOBS parallel sessions, timed; BATCH=all gives every learner
#      their first points in one statement (one session): the path of a recompute or of an
#      achievement granted to everyone;
#   4. checks: every learner is in exactly one cohort of this week, in the tier the rollover gave
#      them, no cohort holds more than its capacity, sizes agree with members; exits non-zero
#      otherwise;
#   5. NGROUPS groups of GROUP_SIZE learners, then the first read of the group ladder (the global
#      board's refresh feeds it) and lms.group_scores_rebuild() (0 rows disagreeing);
#   6. GET /leagues/me in the server (pgbench, CLIENTS clients, SECONDS s), then through the
#      gateway under the realistic mix (bench/loadtest/run.sh realistic, CONNECTIONS, DURATION;
#      the gateway started here on LISTEN, default 127.0.0.1:18581; MIX=0 skips it): target p95
#      under 5 ms for GET /leagues/me.
# The leagues of the database are reset first (league tables emptied): run it on bench data only.
set -euo pipefail
cd "$(dirname "$0")/.."
export PGDATABASE=${PGDATABASE:-lms_bench}
jobs=${JOBS:-2}
batch=${BATCH:-5000}
if [ "$batch" = all ]; then jobs=1; batch=1000000000000; fi
groups=${NGROUPS:-2000}
group_size=${GROUP_SIZE:-30}
clients=${CLIENTS:-4}
seconds=${SECONDS_PGBENCH:-20}
listen=${LISTEN:-127.0.0.1:18581}
run=$(date +%s)
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
since() { printf '%.1f' "$(echo "$(now) - $1" | bc)"; }
fail=0
check() { if [ "$1" = ok ]; then echo "  ok   $2"; else echo "  FAIL $2"; fail=1; fi; }

echo "bench-leagues: database $PGDATABASE, $(q -c "SELECT count(*) FROM lms.users WHERE role = 'student'") students; load: $(uptime | sed 's/.*load average: //')"
echo "  command: PGDATABASE=$PGDATABASE JOBS=$jobs BATCH=${BATCH:-5000} NGROUPS=$groups GROUP_SIZE=$group_size bench/leagues.sh"
this_week=$(q -c "SELECT lms.league_week(now())")
last_week=$(q -c "SELECT lms.league_week(now()) - 7")
echo "  last week $last_week, this week $this_week"
q -c "SET client_min_messages = warning" -c "TRUNCATE lms.league_members, lms.league_cohorts, lms.league_weeks, lms.groups CASCADE" \
  -c "DELETE FROM lms.league_settings" -c "DELETE FROM lms.league_tiers"

# ---- 1. last week
t=$(now)
q -v lw="$last_week" -v run="$run" <<'SQL'
SET synchronous_commit = off;
SET session_replication_role = replica;
INSERT INTO lms.points_ledger (user_id, points, reason, source_key, created_at, note)
SELECT u.id, 1 + abs(hashint8(u.id * 7 + :run)) % 300, 'admin_correction', 'bench-league:' || :run || ':1:' || u.id,
       (:'lw'::date)::timestamp AT TIME ZONE 'UTC' + (abs(hashint8(u.id)) % 604000) * interval '1 second', 'bench: league week'
  FROM lms.users u WHERE u.role = 'student';
RESET session_replication_role;
INSERT INTO lms.learner_scores AS s (user_id, total_points, level, reached_at)
SELECT l.user_id, l.points, lms.level_for(l.points), l.created_at
  FROM lms.points_ledger l WHERE l.source_key LIKE 'bench-league:' || :run || ':1:%'
ON CONFLICT (user_id) DO UPDATE SET total_points = s.total_points + EXCLUDED.total_points,
  level = lms.level_for(s.total_points + EXCLUDED.total_points), reached_at = greatest(s.reached_at, EXCLUDED.reached_at);
SQL
echo "  last week's points loaded (one ledger row per learner, trigger off): $(since "$t") s"
t=$(now)
formed=$(q -c "SELECT lms.league_rebuild('$last_week')")
echo "  lms.league_rebuild('$last_week'): $formed learners in $(q -c "SELECT count(*) FROM lms.league_cohorts WHERE week = '$last_week'") cohorts: $(since "$t") s"
q -c "VACUUM ANALYZE lms.league_members, lms.league_cohorts, lms.points_ledger"

# ---- 2. the rollover
t=$(now)
r=$(q -F ' ' -c "SET lms.clock_override = '$this_week 00:00:30+00'" -c "SELECT week, members, promoted, demoted, took_ms FROM lms.league_rollover()")
secs=$(since "$t")
echo "  rollover of $last_week (lms.league_rollover() at $this_week 00:00:30 UTC): $secs s wall; week members promoted demoted took_ms: $r"
check "$(echo "$secs < 60" | bc | sed 's/1/ok/')" "rollover of $(echo "$r" | cut -d' ' -f2) learners under 60 s ($secs s)"
again=$(q -c "SET lms.clock_override = '$this_week 00:01:00+00'" -c "SELECT count(*) FROM lms.league_rollover()")
check "$([ "$again" = 0 ] && echo ok)" "a second rollover finds nothing to do"

# ---- 3. this week: the real join path
t=$(now)
for j in $(seq 0 $((jobs - 1))); do
  q -v run="$run" -v jobs="$jobs" -v job="$j" -v batch="$batch" <<'SQL' &
SET synchronous_commit = off;
SELECT set_config('bench.run', :'run', false), set_config('bench.jobs', :'jobs', false), set_config('bench.job', :'job', false),
       set_config('bench.batch', :'batch', false) \gset
DO $$
DECLARE
  run bigint := current_setting('bench.run')::bigint;
  jobs int := current_setting('bench.jobs')::int;
  job int := current_setting('bench.job')::int;
  batch bigint := current_setting('bench.batch')::bigint;
  lo bigint := 0;
  hi bigint;
  top bigint := (SELECT max(id) FROM lms.users);
BEGIN
  WHILE lo <= top LOOP
    hi := lo + batch * jobs;
    INSERT INTO lms.points_ledger (user_id, points, reason, source_key, note)
    SELECT u.id, 1 + abs(hashint8(u.id * 13 + run)) % 300, 'admin_correction', 'bench-league:' || run || ':2:' || u.id, 'bench: league week'
      FROM lms.users u WHERE u.role = 'student' AND u.id >= lo AND u.id < hi AND u.id % jobs = job;
    COMMIT;
    lo := hi;
  END LOOP;
END $$;
SQL
done
wait
joined=$(q -c "SELECT count(*) FROM lms.league_members WHERE week = '$this_week'")
secs=$(since "$t")
echo "  this week's first points of $joined learners through the ledger trigger ($jobs sessions, $( [ "${BATCH:-5000}" = all ] && echo "all in one statement" || echo "${BATCH:-5000} a statement and transaction")): $secs s ($(echo "$joined / $secs" | bc) joins/s)"
q -v run="$run" <<'SQL'
INSERT INTO lms.learner_scores AS s (user_id, total_points, level, reached_at)
SELECT l.user_id, l.points, lms.level_for(l.points), l.created_at
  FROM lms.points_ledger l WHERE l.source_key LIKE 'bench-league:' || :run || ':2:%'
ON CONFLICT (user_id) DO UPDATE SET total_points = s.total_points + EXCLUDED.total_points,
  level = lms.level_for(s.total_points + EXCLUDED.total_points), reached_at = greatest(s.reached_at, EXCLUDED.reached_at);
SQL

# ---- 4. checks
read -r members distinct unplaced listed <<<"$(q -F ' ' -c "
  SELECT count(*), count(DISTINCT m.user_id), count(*) FILTER (WHERE m.cohort_id IS NULL),
         (SELECT count(*) FROM lms.users u WHERE u.role = 'student' AND u.status = 'active' AND u.leaderboard_visible)
    FROM lms.league_members m WHERE m.week = '$this_week'")"
check "$([ "$members" = "$listed" ] && [ "$distinct" = "$listed" ] && [ "$unplaced" = 0 ] && echo ok)" \
  "this week every learner is in exactly one cohort ($members rows, $distinct learners, $unplaced without a cohort, $listed listed students)"
wrong=$(q -c "SELECT count(*) FROM lms.league_members m JOIN lms.league_members p ON p.user_id = m.user_id AND p.week = m.week - 7
               WHERE m.week = '$this_week' AND m.tier IS DISTINCT FROM p.new_tier")
check "$([ "$wrong" = 0 ] && echo ok)" "every learner starts this week in the tier the rollover gave them ($wrong not)"
bad=$(q -c "SELECT count(*) FROM lms.league_cohorts c WHERE c.week = '$this_week'
             AND (c.size > c.capacity OR c.size <> (SELECT count(*) FROM lms.league_members m WHERE m.cohort_id = c.id))")
check "$([ "$bad" = 0 ] && echo ok)" "no cohort over its capacity, every size equal to its members ($bad not)"
q -F ' ' -c "SELECT 'this week by tier:', string_agg(format('%s %s learners / %s cohorts', tier, n, c), ', ' ORDER BY tier)
               FROM (SELECT m.tier, count(*) AS n, count(DISTINCT m.cohort_id) AS c FROM lms.league_members m
                      WHERE m.week = '$this_week' GROUP BY 1) x"

# ---- 5. groups
t=$(now)
q -v groups="$groups" -v size="$group_size" <<'SQL'
SET synchronous_commit = off;
WITH owner AS (SELECT min(id) AS id FROM lms.users WHERE role = 'admin'),
g AS (INSERT INTO lms.groups (name, owner_id) SELECT 'Bench group ' || n, owner.id FROM generate_series(1, :groups) n, owner RETURNING id)
INSERT INTO lms.group_scores (group_id, win, members, points, average) SELECT g.id, w, 0, 0, 0 FROM g, unnest(ARRAY['all', 'week', 'month']) w;
INSERT INTO lms.group_members (group_id, user_id)
SELECT g.id, s.id FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM lms.groups) g
  JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM lms.users WHERE role = 'student') s
    ON s.k / :size = g.k AND s.k < :groups * :size;
SQL
rows=$(q -c "SELECT lms.group_scores_rebuild()")
echo "  $groups groups of $group_size learners made, scores built: $(since "$t") s ($rows rows)"
t=$(now)
q -c "SELECT count(*) FROM lms.refresh_leaderboards(true)" >/dev/null
echo "  refresh of the changed boards (feeds the ladder): $(since "$t") s"
t=$(now)
q -c "SELECT count(*) FROM lms.group_ladder('week', 'average', 50, 0)" >/dev/null
echo "  a ladder page: $(since "$t") s"
d=$(q -c "SELECT lms.group_scores_rebuild()")
check "$([ "$d" = 0 ] && echo ok)" "the ladder agrees with a rebuild from the boards ($d rows disagreeing)"

# ---- 6. GET /leagues/me
q <<'SQL'
DROP TABLE IF EXISTS public.bench_league_tokens;
CREATE TABLE public.bench_league_tokens AS
SELECT row_number() OVER () AS i, x.token, x.id
  FROM (SELECT lms.new_token() AS token, u.id FROM lms.users u WHERE u.role = 'student' ORDER BY random() LIMIT 1000) x;
INSERT INTO lms.sessions (token_hash, user_id, created_at, expires_at)
SELECT lms.token_hash(b.token), b.id, now(), now() + interval '1 day' FROM public.bench_league_tokens b;
SQL
script=$(mktemp /tmp/bench-leagues.XXXXXX)
echo '\set i random(1, 1000)
SELECT (lms.api_leagues_me(b.token, NULL, NULL, NULL)).status FROM public.bench_league_tokens b WHERE b.i = :i;' >"$script"
echo "  GET /leagues/me in the server: pgbench -n -M prepared -c $clients -j $clients -T $seconds (lms.api_leagues_me, random learners)"
pgbench -n -M prepared -c "$clients" -j "$clients" -T "$seconds" -f "$script" 2>&1 \
  | grep -E "^(latency average|latency stddev|tps|pgbench: error)" | sed 's/^/    /'
rm -f "$script"

if [ "${MIX:-1}" != 0 ]; then
  dir=$(mktemp -d /tmp/bench-leagues-gw.XXXXXX)
  LMS_DATABASE_URL="host=$PGHOST port=${PGPORT:-5432} dbname=$PGDATABASE user=lms_gateway" LMS_LISTEN="$listen" \
    LMS_LOGIN_RATE=1000000 LMS_ACCESS_LOG=off LMS_MAX_CLIENT_CONNECTIONS=0 gateway/lms-gateway >"$dir/gateway.log" 2>&1 &
  gw=$!
  trap 'kill $gw 2>/dev/null || true; rm -rf "$dir"' EXIT
  q -c "ALTER ROLE lms_gateway LOGIN" >/dev/null
  for _ in $(seq 1 50); do curl -fs "http://$listen/ready" >/dev/null 2>&1 && break; sleep 0.2; done
  echo "  the realistic mix through the gateway: BASE_URL=http://$listen CONNECTIONS=${CONNECTIONS:-100} DURATION=${DURATION:-60s} LOGIN=${LOGIN:-0} bench/loadtest/run.sh realistic"
  BASE_URL="http://$listen" CONNECTIONS=${CONNECTIONS:-100} DURATION=${DURATION:-60s} LOGIN=${LOGIN:-0} LMS_POOL_DIR="$dir/pool" \
    bench/loadtest/run.sh realistic >"$dir/mix.txt" 2>&1 || true
  grep -E "^(route|GET /leagues/me|GET /leaderboards/groups|GET /gamification/me|POST /progress|TOTAL|total)" "$dir/mix.txt" | sed 's/^/    /'
  p95=$(awk '$1 == "GET" && $2 == "/leagues/me" {print $6}' "$dir/mix.txt")
  check "$([ -n "$p95" ] && [ "$(echo "$p95 < 5" | bc)" = 1 ] && echo ok)" "GET /leagues/me p95 under 5 ms under the mix (${p95:-none} ms)"
  kill $gw 2>/dev/null; wait $gw 2>/dev/null || true
fi
q -c "DROP TABLE IF EXISTS public.bench_league_tokens"
echo "bench-leagues: done; load: $(uptime | sed 's/.*load average: //')"
exit $fail

#!/usr/bin/env bash
# `make bench-data SCALE=tiny|small|medium|large`: load-test data into the database named by the
# libpq environment (PGHOST, PGPORT, PGUSER; PGDATABASE, default lms_bench; created if missing).
#
#   scale    learners   courses (5 modules x 6 lessons)   instructors
#   tiny          200         4                                2      (CI smoke)
#   small      10,000        20                                5
#   medium    100,000       200                               50
#   large   1,000,000     2,000                              500
# LEARNERS= and COURSES= override the scale. BCRYPT_COST (default 10, the extension's default)
# is the cost of the one shared password hash, so logins under load cost what they would in
# production; use 4 for smoke runs. NOW anchors every generated timestamp (default: the current
# hour), so a run with the same scale and NOW gives the same rows. A database that already holds users is refused unless
# FRESH=1, which drops and re-creates the extension (and every row of it) first.
#
# Prints how long each phase took, the row counts and the database size; fails when a counter
# disagrees with its rows (tests/backup/invariants.sql) or recompute reports differences.
set -euo pipefail
cd "$(dirname "$0")/../.."
scale=${1:-${SCALE:-small}}
case "$scale" in
  tiny) learners=200; courses=4 ;;
  small) learners=10000; courses=20 ;;
  medium) learners=100000; courses=200 ;;
  large) learners=1000000; courses=2000 ;;
  *) echo "bench-data: unknown SCALE '$scale' (tiny, small, medium, large)" >&2; exit 2 ;;
esac
learners=${LEARNERS:-$learners}
courses=${COURSES:-$courses}
instructors=$(( courses / 4 > 2 ? courses / 4 : 2 ))
cost=${BCRYPT_COST:-10}
anchor=${NOW:-$(date -u +'%Y-%m-%d %H:00:00+00')}
export PGDATABASE=${PGDATABASE:-lms_bench}
# generated history is a load, not events: lms emits no xAPI statements for it (the achievements
# the recompute grants at medium scale made 340,802 statements and took 270 s of its 322 s)
export PGOPTIONS="${PGOPTIONS:-} -c lms.xapi_emit=off"
psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
since() { printf '%.1f' "$(echo "$(now) - $1" | bc)"; }

start=$(now)
echo "bench-data: scale $scale: $learners learners, $courses courses, $instructors instructors into database $PGDATABASE (timestamps anchored at $anchor)"
if ! psql -X -At -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$PGDATABASE'" | grep -q 1; then
  psql_q -d postgres -c "CREATE DATABASE \"$PGDATABASE\""
fi
has_lms=$(psql -X -At -c "SELECT count(*) FROM pg_extension WHERE extname = 'lms'")
if [ "$has_lms" = 1 ] && [ "$(psql -X -At -c 'SELECT count(*) > 0 FROM lms.users')" = t ]; then
  if [ "${FRESH:-0}" != 1 ]; then
    echo "bench-data: $PGDATABASE already holds lms data; FRESH=1 drops and re-creates the extension" >&2
    exit 1
  fi
  psql_q -c "SET client_min_messages = warning" -c "DROP EXTENSION lms CASCADE"
fi
psql_q -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS lms CASCADE"
# pg_stat_statements is optional (it needs shared_preload_libraries): the report reads it
psql -X -q -c "SET client_min_messages = error" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null 2>&1 || true

psql_q -At -v learners="$learners" -v courses="$courses" -v instructors="$instructors" -v bcrypt_cost="$cost" -v anchor="$anchor" \
  -f bench/data/generate.sql | sed -n 's/^\(.*: [0-9.]* s\)$/  \1/p'

has_gamification=$(psql -X -At -c "SELECT count(*) FROM pg_proc WHERE oid = to_regproc('lms.recompute_gamification')::oid")
if [ "$has_gamification" = 1 ] && [ -f bench/data/gamification.sql ]; then
  t=$(now)
  psql_q -At -f bench/data/gamification.sql | sed 's/^/  /'
  echo "  gamification (ledger, recompute, boards): $(since "$t") s"
else
  echo "  gamification: skipped (lms.recompute_gamification is not installed yet)"
fi

# the derived summaries (analytics, user counts), counted once from the bulk-loaded rows (the
# loads above run with triggers off)
t=$(now)
psql_q -c "SELECT lms.recount_analytics()" >/dev/null
echo "  summaries (analytics, user counts): $(since "$t") s"

t=$(now)
psql_q -c "VACUUM ANALYZE"
echo "  vacuum analyze: $(since "$t") s"

t=$(now)
# a check that errors fails the run (a missing line would otherwise read as a passed one)
if [ "$has_gamification" = 1 ]; then
  checks=$(psql -X -At -F ' ' -v ON_ERROR_STOP=1 -f tests/backup/invariants.sql) || bad="the invariants query failed"
else
  # without the gamification functions, every counter line but the recompute one
  checks=$(sed -e '/^UNION ALL$/{N;/gamification/d;}' tests/backup/invariants.sql | psql -X -At -F ' ' -v ON_ERROR_STOP=1) \
    || bad="the invariants query failed"
fi
bad=${bad:-$(echo "$checks" | awk '$NF != 0')}
echo "  invariants: $(since "$t") s"
if [ -n "$bad" ]; then
  echo "bench-data: counters disagree with their rows:"; echo "$bad"; exit 1
fi

psql -X -At -F ' ' -c "SELECT 'rows: users ' || (SELECT count(*) FROM lms.users) || ', courses ' || (SELECT count(*) FROM lms.courses)
  || ', lessons ' || (SELECT count(*) FROM lms.lessons) || ', enrollments ' || (SELECT count(*) FROM lms.enrollments)
  || ', lesson_progress ' || (SELECT count(*) FROM lms.lesson_progress)
  || ', quiz_attempts ' || (SELECT count(*) FROM lms.quiz_attempts)" | sed 's/^/  /'
psql -X -At -c "SELECT '  database size: ' || pg_size_pretty(pg_database_size(current_database()))
  || ' (' || pg_database_size(current_database()) || ' bytes)'"
echo "bench-data: done in $(since "$start") s (scale $scale, every counter checked)"

#!/usr/bin/env bash
# `make bench-bulk_load`: one INSERT ... SELECT of LEARNERS x LESSONS progress rows of one course
# and one DELETE of half of them, timed, on a throwaway cluster (the analytics summaries follow
# such statements once per statement; row by row they were quadratic: docs/performance.md).
#   LEARNERS=8000 LESSONS=20 bench/bulk_load.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
learners=${LEARNERS:-8000}
lessons=${LESSONS:-20}
make -s -C "$root" >/dev/null && make -s -C "$root" install >/dev/null
c=$(mktemp -d /tmp/lms-bulk.XXXXXX)
trap '"$root/devenv/cluster.sh" stop "$c" >/dev/null 2>&1; rm -rf "$c"' EXIT
"$root/devenv/cluster.sh" init "$c" >/dev/null
"$root/devenv/cluster.sh" start "$c" >/dev/null
eval "$("$root/devenv/cluster.sh" env "$c")"
psql -X -q -c "SET client_min_messages = warning" -c "CREATE EXTENSION lms CASCADE"
psql -X -q -v learners="$learners" -v lessons="$lessons" -f "$root/bench/xapi/emit_data.sql" >/dev/null
now() { date +%s.%N; }
t0=$(now)
psql -X -q -c "INSERT INTO lms.lesson_progress (user_id, lesson_id, course_id, module_id, watched_seconds, last_position_seconds, completion_percentage)
  SELECT e.user_id, l.id, l.course_id, l.module_id, 300, 300, 50 FROM lms.enrollments e JOIN lms.lessons l ON l.course_id = e.course_id"
t1=$(now)
psql -X -q -c "DELETE FROM lms.lesson_progress WHERE user_id % 2 = 0"
t2=$(now)
agree=$(psql -XAtc "SELECT (SELECT sum(started) FROM lms.lesson_stats) = count(*) FROM lms.lesson_progress")
printf 'bulk load: INSERT of %d progress rows %.2f s; DELETE of half %.2f s; lesson_stats agree with the rows: %s\n' \
  $((learners * lessons)) "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" "$agree"
echo "command: LEARNERS=$learners LESSONS=$lessons bench/bulk_load.sh; load: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$agree" = t ]

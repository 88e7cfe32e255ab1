#!/usr/bin/env bash
# `make bench-recalculate`: the point rules' recalculation at scale (docs/performance.md,
# "Leagues, point rules and group ladders"), on a database made by
# `make bench-data SCALE=medium` (100k learners; libpq environment, PGDATABASE default
# lms_bench). An admin changes four rules (video lessons 10 -> 15, quiz pass 20 -> 25, course
# completion 100 -> 150, streak bonus 50 -> 60) and recalculates:
#   1. the first run re-scores every past event and writes the corrections, timed;
#   2. a second run finds nothing to correct (the cost of looking), timed;
#   3. one course's recalculation after a per-course rule, timed;
#   4. lms.recompute_gamification() must find 0 differences (timed);
#   5. the rules go back to their defaults and a last run undoes the corrections.
# Prints every figure and the command that produced it; exits non-zero when a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
export PGDATABASE=${PGDATABASE:-lms_bench}
q() { psql -X -q -At -F ' ' -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
since() { printf '%.1f' "$(echo "$(now) - $1" | bc)"; }
fail=0
check() { if [ "$1" = ok ]; then echo "  ok   $2"; else echo "  FAIL $2"; fail=1; fi; }

echo "bench-recalculate: database $PGDATABASE: $(q -c "SELECT count(*) FROM lms.users WHERE role = 'student'") students,"\
" $(q -c "SELECT count(*) FROM lms.points_ledger") ledger rows, $(q -c "SELECT count(*) FROM lms.lesson_progress WHERE is_completed") lessons completed;"\
" load: $(uptime | sed 's/.*load average: //')"
echo "  command: PGDATABASE=$PGDATABASE bench/recalculate.sh"
course=$(q -c "SELECT min(id) FROM lms.courses WHERE is_published")
q -c "DELETE FROM lms.point_rules" -c "SELECT pg_stat_reset()" >/dev/null
# the generated lessons have their own points (10): hand the video lessons to their rule
q -c "UPDATE lms.lessons SET points = NULL WHERE kind = 'video' AND points = 10" >/dev/null
q -c "INSERT INTO lms.point_rules (rule, points) VALUES ('lesson_video', 15), ('quiz_passed', 25), ('course_completed', 150), ('streak_bonus', 60)"

run() {  # run LABEL [course]: one recalculation, its figures
  local t r
  t=$(now)
  r=$(q -c "SELECT events, corrections, learners, points, took_ms FROM lms.recalculate_points(${2:-NULL})")
  echo "  $1: $(since "$t") s wall; events corrections learners points took_ms: $r"
  LAST=$r
}
run "first run after 4 rule changes (every course)"
corrections=$(echo "$LAST" | cut -d' ' -f2)
check "$([ "$corrections" -gt 0 ] && echo ok)" "the first run corrects past events ($corrections corrections)"
run "second run (nothing to correct)"
check "$([ "$(echo "$LAST" | cut -d' ' -f2)" = 0 ] && echo ok)" "a second run writes nothing"
q -c "INSERT INTO lms.point_rules (rule, course_id, points) VALUES ('course_completed', $course, 300)"
run "one course after its own completion value (course $course)" "$course"
t=$(now)
d=$(q -c "SELECT differences FROM lms.recompute_gamification()")
echo "  lms.recompute_gamification(): $(since "$t") s, $d differences"
check "$([ "$d" = 0 ] && echo ok)" "recompute finds 0 differences after the recalculations"
q -c "DELETE FROM lms.point_rules" -c "UPDATE lms.lessons SET points = 10 WHERE kind = 'video' AND points IS NULL" >/dev/null
run "back to the defaults (undoes every correction)"
left=$(q -c "SELECT coalesce(sum(points), 0) FROM lms.points_ledger WHERE reason = 'recalculation'")
check "$([ "$left" = 0 ] && echo ok)" "the corrections sum to 0 once the rules are back ($left)"
echo "bench-recalculate: done; load: $(uptime | sed 's/.*load average: //')"
exit $fail

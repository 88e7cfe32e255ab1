#!/usr/bin/env bash
# Issue #2 benchmark: prints figures (never a pass/fail test).
#  1. lms.course_progress latency on a 10-lesson and a 1,000-lesson course (ratio should be ~1)
#  2. the usual LMS progress SQL (count over lessons LEFT JOIN progress) vs lms.course_progress
#  3. lms.record_progress throughput at 16 clients beside pgbench's own -N write transaction
# Runs on a private cluster of its own (default durability settings), removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
learners=${LEARNERS:-2000}
secs=${SECONDS_PER_RUN:-15}
clients=${CLIENTS:-16}
rounds=${ROUNDS:-3}
work=$(mktemp -d /tmp/lms-bench.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'devenv/cluster.sh stop "$work/pg" >/dev/null 2>&1; rm -rf "$work"' EXIT
devenv/deps.sh
make -s >/dev/null && make -s install >/dev/null
devenv/cluster.sh init "$work/pg" >/dev/null && devenv/cluster.sh start "$work/pg"
eval "$(devenv/cluster.sh env "$work/pg")"
export PGDATABASE=lms_bench
psql -X -q -d postgres -c "CREATE DATABASE lms_bench"
psql -X -q -c "SET client_min_messages=warning" -c "CREATE EXTENSION lms CASCADE"
t0=$(date +%s.%N)
psql -X -q -v learners="$learners" -f bench/core/data.sql >/dev/null
# the points, streaks and boards that progress implies (the load-test generator's own step)
psql -X -q -f bench/data/gamification.sql >/dev/null
psql -X -q -c "CREATE EXTENSION pg_stat_statements"
echo "data: $learners learners, $(psql -X -At -c 'SELECT count(*) FROM lms.lesson_progress') progress rows in $(echo "$(date +%s.%N) - $t0" | bc) s"
bad=$(psql -X -At -F ' ' -f tests/backup/invariants.sql | awk '$NF != 0')
[ -z "$bad" ] || { echo "counter invariants broken by the generator:"; echo "$bad"; exit 1; }

small=$(psql -X -At -c "SELECT id FROM lms.courses WHERE slug = 'small-course'")
large=$(psql -X -At -c "SELECT id FROM lms.courses WHERE slug = 'large-course'")
first=$(psql -X -At -c "SELECT min(id) FROM lms.users WHERE role = 'student'")
last=$(psql -X -At -c "SELECT max(id) FROM lms.users WHERE role = 'student'")

script() {  # script NAME SQL: a pgbench script picking a random learner
  printf '\\set uid random(%s, %s)\n%s\n' "$first" "$last" "$2" >"$work/$1.sql"
}
# median latency in ms from a pgbench per-transaction log (-l); column 3 is microseconds
median_ms() { cat "$work"/log/"$1".* | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]/1000}'; }
run_latency() {  # run_latency NAME PATTERN: one client; median client latency, mean server time
  mkdir -p "$work/log"; rm -f "$work"/log/"$1".*
  psql -X -q -c "SELECT pg_stat_statements_reset()" >/dev/null
  (cd "$work/log" && pgbench -n -M prepared -c 1 -T "$secs" -l --log-prefix="$1" -f "$work/$1.sql" >"$work/$1.out" 2>&1)
  psql -X -At -c "SELECT round(mean_exec_time::numeric, 4) FROM pg_stat_statements
                   WHERE query LIKE '%$2%' AND query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC LIMIT 1" >"$work/$1.server"
  printf '%-22s client median %7s ms   server mean %7s ms   tps %s\n' "$1" "$(median_ms "$1")" "$(cat "$work/$1.server")" \
    "$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' "$work/$1.out" | cut -d. -f1)"
}
server_ms() { cat "$work/$1.server"; }

echo
echo "== 1. lms.course_progress: does the cost grow with the course? (1 client, ${secs}s, both interleaved)"
# the two statements differ in shape (not only in a constant) so pg_stat_statements keeps them apart
script progress_small "SELECT * FROM lms.course_progress(:uid, $small);"
script progress_large "SELECT * FROM lms.course_progress(:uid, $large) WHERE :uid > 0;"
# one pgbench run alternating both scripts at random, so load from elsewhere falls on both alike;
# its log's 4th column says which script each transaction ran
mkdir -p "$work/log"; rm -f "$work"/log/pair.*
psql -X -q -c "SELECT pg_stat_statements_reset()" >/dev/null
(cd "$work/log" && pgbench -n -M prepared -c 1 -T "$secs" -l --log-prefix=pair \
   -f "$work/progress_small.sql@1" -f "$work/progress_large.sql@1" >"$work/pair.out" 2>&1)
pair_median() { cat "$work"/log/pair.* | awk -v k="$1" '$4 == k {print $3}' | sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]/1000}'; }
pair_server() {  # pair_server small|large
  local shape="NOT LIKE"; [ "$1" = large ] && shape="LIKE"
  psql -X -At -c "SELECT round(mean_exec_time::numeric, 4) FROM pg_stat_statements
                   WHERE query LIKE '%course_progress%' AND query $shape '%WHERE%'"
}
s=$(pair_median 0); l=$(pair_median 1)
printf '%-22s client median %7s ms   server mean %7s ms\n' progress_small "$s" "$(pair_server small)"
printf '%-22s client median %7s ms   server mean %7s ms\n' progress_large "$l" "$(pair_server large)"
echo "$(pair_server large)" >"$work/progress_large.server"
echo "ratio 1,000-lesson / 10-lesson: client $(echo "scale=2; $l / $s" | bc), server $(echo "scale=2; $(pair_server large) / $(pair_server small)" | bc)   (target <= 1.2)"

echo
echo "== 2. the usual LMS SQL on the 1,000-lesson course vs lms.course_progress"
script usual_sql "SELECT count(*), count(CASE WHEN lp.is_completed THEN 1 END)
  FROM lms.lessons l LEFT JOIN lms.lesson_progress lp ON lp.lesson_id = l.id AND lp.user_id = :uid
  JOIN lms.modules m ON m.id = l.module_id WHERE m.course_id = $large AND l.is_published;"
run_latency usual_sql 'lesson_progress lp'
u=$(median_ms usual_sql)
echo "usual SQL / lms.course_progress: server time $(echo "scale=1; $(server_ms usual_sql) / $(server_ms progress_large)" | bc)x   (target >= 20x); client latency $(echo "scale=1; $u / $l" | bc)x (includes the fixed round trip)"

echo
echo "== 3. write throughput at $clients clients ($rounds alternating rounds of ${secs}s)"
# lesson ids of the small course are consecutive: pick one without a query of its own
lesson_lo=$(psql -X -At -c "SELECT min(id) FROM lms.lessons WHERE course_id = $small")
printf '\\set uid random(%s, %s)\n\\set lesson random(%s, %s)\n\\set sec random(1, 500)\nSELECT lms.record_progress(:uid, :lesson, :sec, :sec, 50);\n' \
  "$first" "$last" "$lesson_lo" "$((lesson_lo + 9))" >"$work/record_progress.sql"
tps_of() { sed -nE 's/^tps = ([0-9.]+).*/\1/p' "$1" | cut -d. -f1; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
pgbench -i -q -s 10 >/dev/null 2>&1
# alternate the two loads so that whatever else the machine does falls on both alike
rps=(); ns=()
for round in $(seq 1 "$rounds"); do
  pgbench -n -M prepared -c "$clients" -j 2 -T "$secs" -f "$work/record_progress.sql" >"$work/rp.out" 2>&1
  pgbench -n -N -M prepared -c "$clients" -j 2 -T "$secs" >"$work/n.out" 2>&1
  rps+=("$(tps_of "$work/rp.out")"); ns+=("$(tps_of "$work/n.out")")
  printf 'round %d: lms.record_progress %6s tps, pgbench -N %6s tps\n' "$round" "${rps[-1]}" "${ns[-1]}"
done
rp=$(median "${rps[@]}"); n=$(median "${ns[@]}")
printf 'median: lms.record_progress %6s tps, pgbench -N %6s tps\n' "$rp" "$n"
echo "record_progress / pgbench -N: $(echo "scale=2; $rp / $n" | bc)   (target >= 1.0)"
bad=$(psql -X -At -F ' ' -f tests/backup/invariants.sql | awk '$NF != 0')
[ -z "$bad" ] && echo "counters still agree with their rows after the write run" || { echo "COUNTERS DISAGREE:"; echo "$bad"; }
echo
echo "command: make bench-core (LEARNERS=$learners SECONDS_PER_RUN=$secs CLIENTS=$clients ROUNDS=$rounds), $(date -u +%F), $(nproc) cores"

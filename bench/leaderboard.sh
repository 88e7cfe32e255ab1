#!/usr/bin/env bash
# Issue #3 benchmark: prints figures (never a pass/fail test).
#  1. a top-50 page plus a "my rank" read (lms.leaderboard + lms.user_rank), median latency at
#     1,000,000 learners vs 10,000 (aim: ratio <= 1.5)
#  2. refreshing every board at 1,000,000 learners: first (full) build, the incremental refresh
#     the worker runs after 1,000 awards and with nothing changed (aim: < 3 s), a forced full
#     rebuild, 100 visibility changes
#  3. the same reads against Redis sorted sets loaded with the same scores
#     (ZREVRANGE lb 0 49 WITHSCORES + ZREVRANK), measured in the same run
#  4. lms.record_progress completing a text lesson (points, achievements) at 16 clients, beside
#     a plain progress write (no completion)
# Runs on a private cluster of its own (and a private redis-server on a unix socket), both
# removed at the end.   LEARNERS_SMALL=10000 LEARNERS_LARGE=1000000 SECONDS_PER_RUN=10 CLIENTS=16
set -euo pipefail
cd "$(dirname "$0")/.."
small=${LEARNERS_SMALL:-10000}
large=${LEARNERS_LARGE:-1000000}
secs=${SECONDS_PER_RUN:-10}
clients=${CLIENTS:-16}
work=$(mktemp -d /tmp/lms-bench-lb.XXXXXX)
chmod 755 "$work"
redis_pid=""
cleanup() {
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true
  devenv/cluster.sh stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
make -s >/dev/null && make -s install >/dev/null
devenv/cluster.sh init "$work/pg" >/dev/null && devenv/cluster.sh start "$work/pg"
eval "$(devenv/cluster.sh env "$work/pg")"
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }

# median latency in ms from a pgbench per-transaction log (-l); column 3 is microseconds
median_ms() { cat "$work"/log/"$1".* | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]/1000}'; }
latency() {  # latency DB NAME SCRIPT: one client, median latency
  mkdir -p "$work/log"; rm -f "$work"/log/"$2".*
  (cd "$work/log" && pgbench -n -M prepared -c 1 -T "$secs" -l --log-prefix="$2" -f "$3" "$1" >"$work/$2.out" 2>&1)
  echo "$(median_ms "$2")"
}

echo "== data"
for n in "$small" "$large"; do
  db=lb_$n
  psql -X -q -d postgres -c "CREATE DATABASE $db"
  psql -X -q -d "$db" -c "SET client_min_messages=warning" -c "CREATE EXTENSION lms CASCADE"
  t0=$(now)
  psql -X -q -d "$db" -v learners="$n" -f bench/leaderboard/data.sql
  echo "$n learners: $(psql -X -At -d "$db" -c 'SELECT count(*) FROM lms.points_ledger') ledger rows generated in $(since "$t0") s"
done

echo "== 2. refresh of every board ($(psql -X -At -d "lb_$large" -c 'SELECT 3 * (1 + count(*)) FROM lms.courses') boards) at $large learners"
t0=$(now)
psql -X -q -d "lb_$large" -c "SELECT count(*) FROM lms.refresh_leaderboards()" >/dev/null
echo "first build (full, set-based):                 $(since "$t0") s   (entries: $(psql -X -At -d "lb_$large" -c 'SELECT count(*) FROM lms.board_entries'), histogram buckets: $(psql -X -At -d "lb_$large" -c 'SELECT count(*) FROM lms.board_counts'), global:all distinct scores: $(psql -X -At -d "lb_$large" -c "SELECT count(*) FROM lms.board_counts WHERE board = 'global' AND win = 'all'"))"
psql -X -q -d "lb_$large" -c "VACUUM ANALYZE lms.board_entries, lms.board_counts, lms.boards" >/dev/null
t0=$(now)
psql -X -q -d "lb_$large" -c "SELECT count(*) FROM lms.refresh_leaderboards(true)" >/dev/null
echo "incremental pass right after the build:        $(since "$t0") s   (nothing changed)"
for round in 1 2; do
  psql -X -q -d "lb_$large" -c "SELECT count(lms.award_points(u, 25, 'quiz_passed', 'bench$round:' || u, (SELECT min(id) FROM lms.courses) + u % 20))
    FROM (SELECT (random() * ($large - 1))::bigint + 1 AS u FROM generate_series(1, 1000)) x" >/dev/null
  t0=$(now)
  n_changed=$(psql -X -At -d "lb_$large" -c "SELECT count(*) FROM lms.refresh_leaderboards(true)")
  echo "after 1,000 awards, incremental (round $round):   $(since "$t0") s   ($n_changed boards changed, as the worker does)"
done
t0=$(now)
n_changed=$(psql -X -At -d "lb_$large" -c "SELECT count(*) FROM lms.refresh_leaderboards(true)")
echo "next pass (marks settle):                      $(since "$t0") s   ($n_changed boards)"
t0=$(now)
n_changed=$(psql -X -At -d "lb_$large" -c "SELECT count(*) FROM lms.refresh_leaderboards(true)")
echo "nothing changed, incremental:                  $(since "$t0") s   ($n_changed boards)"
psql -X -q -d "lb_$large" -c "SELECT count(lms.award_points(u, 25, 'quiz_passed', 'bench10:' || u, (SELECT min(id) FROM lms.courses)))
  FROM (SELECT (random() * ($large - 1))::bigint + 1 AS u FROM generate_series(1, 10)) x" >/dev/null
t0=$(now)
n_changed=$(psql -X -At -d "lb_$large" -c "SELECT count(*) FROM lms.refresh_leaderboards(true)")
echo "10 awards in one course, incremental:          $(since "$t0") s   ($n_changed boards)"
t0=$(now)
psql -X -q -d "lb_$large" -c "SELECT count(*) FROM lms.refresh_leaderboards()" >/dev/null
echo "full rebuild of every board (forced, as recompute and the admin route do): $(since "$t0") s"
psql -X -q -d "lb_$large" -c "UPDATE lms.users SET leaderboard_visible = NOT leaderboard_visible WHERE id IN (SELECT (random() * ($large - 1))::bigint + 1 FROM generate_series(1, 100))" >/dev/null
t0=$(now)
psql -X -q -d "lb_$large" -c "SELECT count(*) FROM lms.refresh_leaderboards(true)" >/dev/null
echo "100 visibility changes, incremental:           $(since "$t0") s"
echo "command: psql -c 'SELECT count(*) FROM lms.refresh_leaderboards(true)'  (incremental, what the worker runs); lms.refresh_leaderboards() = full rebuild"
psql -X -q -d "lb_$small" -c "SELECT count(*) FROM lms.refresh_leaderboards()" >/dev/null
psql -X -q -d "lb_$small" -c "VACUUM ANALYZE lms.board_entries, lms.board_counts, lms.boards" >/dev/null

echo "== 1. top-50 page + my rank, 1 client, median over ${secs} s"
for n in "$small" "$large"; do
  printf '\\set uid random(1, %s)\nSELECT * FROM lms.leaderboard('"'"'global'"'"', '"'"'all'"'"', 50, 0);\nSELECT * FROM lms.user_rank('"'"'global'"'"', '"'"'all'"'"', :uid);\n' "$n" >"$work/read_$n.sql"
  eval "pg_$n=\$(latency lb_$n read_$n $work/read_$n.sql)"
done
eval "p_small=\$pg_$small; p_large=\$pg_$large"
echo "postgres  $small learners: median ${p_small} ms"
echo "postgres  $large learners: median ${p_large} ms   ratio $(echo "scale=2; $p_large / $p_small" | bc)"
echo "command: pgbench -n -M prepared -c 1 -T $secs -l -f read.sql  (read.sql = leaderboard('global','all',50,0) + user_rank('global','all',random uid))"
for n in "$small" "$large"; do
  printf '\\set off random(0, %s)\nSELECT * FROM lms.leaderboard('"'"'global'"'"', '"'"'all'"'"', 50, :off);\n' "$((n * 9 / 10))" >"$work/deep_$n.sql"
  eval "deep_$n=\$(latency lb_$n deep_$n $work/deep_$n.sql)"
done
eval "d_small=\$deep_$small; d_large=\$deep_$large"
echo "deep page (random offset 0..90 %): $small learners median ${d_small} ms, $large learners median ${d_large} ms"
# the same reads timed inside the server (2,000 calls in one statement: no client round trips)
for n in "$small" "$large"; do
  ms=$(psql -X -At -d "lb_$n" -c "SELECT round(extract(epoch FROM clock_timestamp() - t) * 1000 / 2000, 3) FROM (SELECT clock_timestamp() AS t) s,
    LATERAL (SELECT count(*) FROM generate_series(1, 2000) g,
             LATERAL (SELECT count(*) FROM lms.leaderboard('global', 'all', 50 + g % 1, 0)) p,
             LATERAL (SELECT count(*) FROM lms.user_rank('global', 'all', (g * 7919) % $n + 1)) r) x")
  echo "in-server, page + my rank per call: $n learners ${ms} ms"
done

echo "== 3. Redis sorted sets, same scores ($large learners), 1 client"
redis-server --port 0 --unixsocket "$work/redis.sock" --save '' --appendonly no --daemonize no \
  --logfile "$work/redis.log" &
redis_pid=$!
for _ in $(seq 50); do redis-cli -s "$work/redis.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
t0=$(now)
psql -X -At -d "lb_$large" -c "SELECT 'ZADD lb ' || string_agg(s.total_points || ' ' || lpad(s.user_id::text, 12, '0'), ' ')
  FROM lms.learner_scores s JOIN lms.users u ON u.id = s.user_id AND u.leaderboard_visible
 GROUP BY s.user_id / 1000" | redis-cli -s "$work/redis.sock" --pipe >/dev/null
echo "loaded $(redis-cli -s "$work/redis.sock" zcard lb) members in $(since "$t0") s"
rb() {  # rb ARGS...: redis-benchmark p50 in ms
  redis-benchmark -s "$work/redis.sock" -c 1 -n 50000 "$@" 2>/dev/null |
    awk '/p50/ {getline; print $3; exit}'
}
r_page=$(rb ZREVRANGE lb 0 49 WITHSCORES)
r_rank=$(rb -r "$large" ZREVRANK lb __rand_int__)
r_sum=$(echo "$r_page + $r_rank" | bc)
echo "redis ZREVRANGE 0 49 WITHSCORES p50 ${r_page} ms, ZREVRANK p50 ${r_rank} ms, together ${r_sum} ms"
echo "postgres / redis at $large learners: $(echo "scale=2; $p_large / $r_sum" | bc)"
echo "command: redis-benchmark -c 1 -n 50000 ZREVRANGE lb 0 49 WITHSCORES; redis-benchmark -c 1 -n 50000 -r $large ZREVRANK lb __rand_int__"

echo "== 4. record_progress at $clients clients, ${secs} s each ($small learners, 200 text lessons)"
psql -X -q -d "lb_$small" -f bench/leaderboard/progress.sql >/dev/null
read -r video first_text <<<"$(psql -X -At -F ' ' -d "lb_$small" -c "SELECT min(l.id) FILTER (WHERE kind = 'video'), min(l.id) FILTER (WHERE kind = 'text')
  FROM lms.lessons l JOIN lms.courses c ON c.id = l.course_id WHERE c.slug = 'bench-progress'")"
printf '\\set uid random(1, %s)\nSELECT lms.record_progress(:uid, %s, 30, 30, 10);\n' "$small" "$video" >"$work/plain.sql"
printf '\\set uid random(1, %s)\n\\set l random(0, 199)\nSELECT lms.record_progress(:uid, %s + :l, 0, 0, 0, true);\n' "$small" "$first_text" >"$work/complete.sql"
for s in plain complete; do
  pgbench -n -M prepared -c "$clients" -j 2 -T "$secs" -f "$work/$s.sql" "lb_$small" >"$work/$s.out" 2>&1
  printf '%-9s tps %8s   latency avg %s ms\n' "$s" \
    "$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' "$work/$s.out" | cut -d. -f1)" \
    "$(sed -nE 's/^latency average = ([0-9.]+).*/\1/p' "$work/$s.out")"
done
echo "completions awarded: $(psql -X -At -d "lb_$small" -c "SELECT count(*) FROM lms.points_ledger WHERE reason = 'lesson_completed'") lessons, $(psql -X -At -d "lb_$small" -c "SELECT count(*) FROM lms.user_achievements") achievements; recompute: $(psql -X -At -d "lb_$small" -c "SELECT differences FROM lms.recompute_gamification()") differences"
echo "command: pgbench -n -M prepared -c $clients -j 2 -T $secs -f {plain,complete}.sql  (plain = video write below the threshold, complete = text lesson completed:true)"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB, $(date -u +%Y-%m-%d)"

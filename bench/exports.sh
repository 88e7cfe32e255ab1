#!/usr/bin/env bash
# Streamed exports (docs/exports.md): a course whose progress export has BENCH_ROWS rows
# (default 1,000,000: 10,000 learners x 100 lessons), exported through the gateway as CSV;
# prints the time to the first byte, the total time and throughput, and the gateway's RSS before
# and its peak during the export (sampled every 20 ms), with the commands.
#   bench/exports.sh            (uses PGHOST/... when exported, else a private cluster)
# Targets (issue 16): first byte < 200 ms, gateway RSS growth < 20 MB.
BENCH_DB=${BENCH_DB:-lms_bench_exports}
source "$(dirname "$0")/xapi/common.sh"
rows=${BENCH_ROWS:-1000000}
lessons=100
learners=$(( (rows + lessons - 1) / lessons ))

if [ "$fresh_db" = 1 ]; then
  t0=$(date +%s.%N)
  psql -X -q -v ON_ERROR_STOP=1 -v learners="$learners" -v lessons="$lessons" <<'SQL'
SET lms.bcrypt_cost = 4;
SELECT lms.create_user('owner@bench.example', 'bench-password', 'Owner', 'instructor') AS owner \gset
SELECT password_hash AS ph FROM lms.users WHERE id = :owner \gset
INSERT INTO lms.courses (slug, title, instructor_id, is_published) VALUES ('export-bench', 'Export bench', :owner, true) RETURNING id AS c \gset
INSERT INTO lms.modules (course_id, title, position) SELECT :c, 'Module ' || m, m FROM generate_series(1, 10) m;
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, duration_seconds)
SELECT md.id, :c, 'Lesson ' || md.position || '.' || p, 'video', p, 600
  FROM lms.modules md, generate_series(1, :lessons / 10) p WHERE md.course_id = :c;
INSERT INTO lms.users (email, password_hash, display_name)
SELECT 'learner' || i || '@bench.example', :'ph', 'Learner, "number" ' || i FROM generate_series(1, :learners) i;
INSERT INTO lms.lesson_progress (user_id, lesson_id, course_id, module_id, watched_seconds, last_position_seconds, completion_percentage)
SELECT u.id, l.id, l.course_id, l.module_id, 300, 300, 50
  FROM lms.users u CROSS JOIN lms.lessons l WHERE u.email LIKE 'learner%@bench.example' AND l.course_id = :c;
ANALYZE;
SQL
  printf "   generated %s progress rows in %.1f s\n" "$(psql -XAtc 'SELECT count(*) FROM lms.lesson_progress')" "$(echo "$(date +%s.%N) - $t0" | bc)"
fi
start_gateway
tok=$(token_for owner@bench.example)
cid=$(psql -XAtc "SELECT id FROM lms.courses WHERE slug = 'export-bench'")
echo "== streamed export  ($(psql -XAtc "SELECT count(*) FROM lms.lesson_progress p JOIN lms.lessons l ON l.id = p.lesson_id WHERE l.course_id = $cid") rows)"
machine
rss() { awk '/VmRSS/{print $2}' "/proc/$gw/status"; }
for run in 1 2; do
  before=$(rss)
  ( peak=$before; while [ -f "$work/sampling" ]; do r=$(rss); [ "$r" -gt "$peak" ] && peak=$r && echo "$peak" >"$work/peak"; sleep 0.02; done ) &
  touch "$work/sampling"; echo "$before" >"$work/peak"; sampler=$!
  cmd=(curl -s -o /dev/null -H "Authorization: Bearer <owner token>" -w '%{http_code} %{time_starttransfer} %{time_total} %{size_download}' "$url/api/v1/courses/$cid/export/progress")
  out=$(curl -s -o /dev/null -H "Authorization: Bearer $tok" -w '%{http_code} %{time_starttransfer} %{time_total} %{size_download}' "$url/api/v1/courses/$cid/export/progress")
  rm -f "$work/sampling"; wait "$sampler" 2>/dev/null || true
  peak=$(cat "$work/peak")
  read -r code ttfb total size <<<"$out"
  echo "   \$ ${cmd[*]}"
  printf "   run %d: HTTP %s, first byte %.1f ms, whole export %.2f s, %.1f MB (%.1f MB/s, %.0f rows/s), gateway RSS %d kB before, peak %d kB (+%.1f MB)\n" \
    "$run" "$code" "$(echo "$ttfb * 1000" | bc -l)" "$total" "$(echo "$size / 1000000" | bc -l)" \
    "$(echo "$size / 1000000 / $total" | bc -l)" "$(echo "$rows / $total" | bc -l)" "$before" "$peak" "$(echo "($peak - $before) / 1000" | bc -l)"
done
echo "   load after: $(cut -d' ' -f1-3 /proc/loadavg)"

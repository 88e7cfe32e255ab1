#!/usr/bin/env bash
# The pool of logged-in accounts the wrk scenarios use, written to $LMS_POOL_DIR
# (default /tmp/lms-loadtest):
#   learners.tsv  user_id, email, token, course_id (an active enrollment, else any), the ids of
#                 that course's published video and text lessons (comma separated)
#   staff.tsv     role (instructor|admin), user_id, email, token, course_id, lesson ids (an
#                 instructor's own course; the admin gets the first course)
#   courses.txt   the ids of the published courses
# POOL learners (default 1000) are taken spread evenly over all learners. Tokens are issued the
# way POST /auth/login issues them (lms.new_token(), its SHA-256 in lms.sessions, the
# lms.token_ttl lifetime) but directly in SQL, which skips bcrypt and the gateway's login rate
# limit: a load test measures the routes, not how fast it can log its users in. Needs the
# database behind the gateway (PGHOST/PGPORT/PGUSER/PGDATABASE) as a superuser.
set -euo pipefail
pool=${POOL:-1000}
dir=${LMS_POOL_DIR:-/tmp/lms-loadtest}
mkdir -p "$dir"
q() { psql -X -q -At -F $'\t' -v ON_ERROR_STOP=1 "$@"; }

q -v pool="$pool" >"$dir/learners.tsv" <<'SQL'
WITH n AS (SELECT count(*) AS total, min(id) AS lo FROM lms.users WHERE role = 'student' AND status = 'active'),
picked AS (
  SELECT u.id, u.email FROM lms.users u, n
   WHERE u.role = 'student' AND u.status = 'active'
     AND (u.id - n.lo) % greatest(1, n.total / :pool) = 0
   ORDER BY u.id LIMIT :pool),
tok AS MATERIALIZED (SELECT p.id, p.email, lms.new_token() AS token FROM picked p),
ins AS (
  INSERT INTO lms.sessions (token_hash, user_id, created_at, expires_at)
  SELECT lms.token_hash(t.token), t.id, lms.clock(), lms.clock() + current_setting('lms.token_ttl')::interval FROM tok t)
SELECT t.id, t.email, t.token, e.course_id,
       (SELECT string_agg(l.id::text, ',' ORDER BY mo.position, l.position)
          FROM lms.lessons l JOIN lms.modules mo ON mo.id = l.module_id
         WHERE l.course_id = e.course_id AND l.is_published AND l.kind <> 'quiz'
           AND (l.available_from IS NULL OR l.available_from <= lms.clock()))
  FROM tok t
  LEFT JOIN LATERAL (SELECT en.course_id FROM lms.enrollments en
                      WHERE en.user_id = t.id AND en.status IN ('active', 'completed')
                      ORDER BY en.status = 'active' DESC, en.id LIMIT 1) e ON true
 ORDER BY t.id;
SQL

q >"$dir/staff.tsv" <<'SQL'
WITH picked AS (
  SELECT u.id, u.email, u.role FROM lms.users u
   WHERE u.status = 'active' AND (u.role = 'admin' OR (u.role = 'instructor'
         AND EXISTS (SELECT FROM lms.courses c WHERE c.instructor_id = u.id AND c.is_published)))
   ORDER BY u.role, u.id LIMIT 101),
tok AS MATERIALIZED (SELECT p.*, lms.new_token() AS token FROM picked p),
ins AS (
  INSERT INTO lms.sessions (token_hash, user_id, created_at, expires_at)
  SELECT lms.token_hash(t.token), t.id, lms.clock(), lms.clock() + current_setting('lms.token_ttl')::interval FROM tok t)
SELECT t.role, t.id, t.email, t.token, c.id,
       (SELECT string_agg(l.id::text, ',' ORDER BY l.id) FROM lms.lessons l WHERE l.course_id = c.id)
  FROM tok t
  JOIN LATERAL (SELECT co.id FROM lms.courses co
                 WHERE co.is_published AND (t.role = 'admin' OR co.instructor_id = t.id)
                 ORDER BY co.id LIMIT 1) c ON true
 ORDER BY t.role, t.id;
SQL

q -c "SELECT id FROM lms.courses WHERE is_published ORDER BY id" >"$dir/courses.txt"

echo "pool: $(wc -l <"$dir/learners.tsv") learners, $(grep -c '^instructor' "$dir/staff.tsv" || true) instructors, $(grep -c '^admin' "$dir/staff.tsv" || true) admin, $(wc -l <"$dir/courses.txt") courses in $dir"

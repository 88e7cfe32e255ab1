-- Load-test data at scale for `make bench-data SCALE=small|medium|large` (bench/data/generate.sh).
--
-- psql variables: learners, courses, instructors, bcrypt_cost, anchor.
-- Shape: an admin, :instructors instructors, :courses published courses of 5 modules x 6 lessons
-- (lessons 1-4 video, 5 text, 6 quiz with 3 questions), :learners learners with 3 enrollments
-- each (popular courses get more), progress on about a third of the lessons of every enrollment
-- (85 % of those completed, the rest partly watched), and every 20th learner has finished the
-- first of their courses (all 30 lessons, the quiz passed, the enrollment completed).
--
-- Fast: set-based INSERT ... SELECT with triggers and foreign-key checks off
-- (session_replication_role = replica) and every counter the write paths maintain set afterwards
-- in one statement per counter; bench/data/generate.sh checks them with tests/backup/invariants.sql.
-- Deterministic: setseed() first, no parallel plans for random(), and every timestamp relative
-- to the anchor :anchor (generate.sh: NOW, default the current hour), so the same scale and
-- anchor give the same rows.
-- Accounts: admin@example.com, instructor<n>@example.com, learner<n>@example.com, all with the
-- password "password123" (one shared bcrypt hash made once at cost :bcrypt_cost).
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET max_parallel_workers_per_gather = 0;
-- bulk work: big sorts and hashes in memory, no wait for each commit's flush
SET work_mem = '256MB';
SET synchronous_commit = off;
SELECT setseed(0.5);
\timing off

\echo phase users
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
SET lms.bcrypt_cost = :bcrypt_cost;
SELECT lms.create_user('admin@example.com', 'password123', 'Ada Admin', 'admin') AS admin_id \gset
SET session_replication_role = replica;
-- every generated instant is relative to this anchor (psql variable anchor, a timestamptz)
CREATE TEMP TABLE gen_now AS SELECT :'anchor'::timestamptz AS now;
INSERT INTO lms.users (email, password_hash, display_name, role, created_at, updated_at)
SELECT format('instructor%s@example.com', g), u.password_hash, format('Instructor %s', g), 'instructor',
       n.now - interval '400 days', n.now - interval '400 days'
  FROM generate_series(1, :instructors) g, lms.users u, gen_now n
 WHERE u.id = :admin_id
 ORDER BY g;
INSERT INTO lms.users (email, password_hash, display_name, timezone, leaderboard_visible, created_at, updated_at)
SELECT format('learner%s@example.com', g), u.password_hash, format('Learner %s', g),
       (ARRAY['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Tokyo', 'Pacific/Auckland',
              'America/Los_Angeles', 'Asia/Kolkata', 'Europe/London'])[1 + g % 8],
       g % 50 <> 0,                                       -- 2 % keep off the leaderboards
       n.now - interval '200 days' + (g % 1000) * interval '1 minute',
       n.now - interval '200 days' + (g % 1000) * interval '1 minute'
  FROM generate_series(1, :learners) g, lms.users u, gen_now n
 WHERE u.id = :admin_id
 ORDER BY g;
-- learner n has id learner_base + n, instructor i has id instructor_base + i
SELECT min(id) - 1 AS learner_base FROM lms.users WHERE role = 'student' \gset
SELECT min(id) - 1 AS instructor_base FROM lms.users WHERE role = 'instructor' \gset
SELECT format('users: %s s', round((extract(epoch FROM clock_timestamp()) - :t0)::numeric, 1)) AS "phase";

\echo phase catalog
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
INSERT INTO lms.courses (slug, title, summary, category, instructor_id, is_published, created_at, updated_at)
SELECT format('course-%s', c),
       format('Course %s: %s', c, (ARRAY['SQL from zero', 'PostgreSQL internals', 'C for systems programmers',
         'HTTP in depth', 'Data modelling', 'Query performance', 'Concurrency control', 'Backups and recovery',
         'Indexing strategies', 'JSON in the database', 'Security basics', 'Observability'])[1 + c % 12]),
       format('Generated course number %s for load tests.', c),
       (ARRAY['databases', 'programming', 'operations', 'web', 'data'])[1 + c % 5],
       :instructor_base + 1 + (c - 1) % :instructors, true,
       n.now - interval '365 days', n.now - interval '365 days'
  FROM generate_series(1, :courses) c, gen_now n
 ORDER BY c;
SELECT min(id) - 1 AS course_base FROM lms.courses WHERE slug LIKE 'course-%' \gset
INSERT INTO lms.modules (course_id, title, position, created_at)
SELECT :course_base + c, format('Module %s', m), m, n.now - interval '365 days'
  FROM generate_series(1, :courses) c, generate_series(1, 5) m, gen_now n
 ORDER BY c, m;
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, duration_seconds, points, is_preview,
                         content, video_playback_id, created_at, updated_at)
SELECT mo.id, mo.course_id, format('Lesson %s.%s', mo.position, l),
       CASE WHEN l <= 4 THEN 'video' WHEN l = 5 THEN 'text' ELSE 'quiz' END, l,
       CASE WHEN l <= 4 THEN 300 + 60 * ((mo.course_id + mo.position + l) % 10) WHEN l = 5 THEN 240 ELSE 120 END,
       10, mo.position = 1 AND l = 1,
       CASE WHEN l = 5 THEN format('Reading %s of module %s.', l, mo.position) END,
       CASE WHEN l <= 4 THEN format('vid-%s-%s-%s', mo.course_id, mo.position, l) END,
       n.now - interval '365 days', n.now - interval '365 days'
  FROM lms.modules mo, generate_series(1, 6) l, gen_now n
 WHERE mo.course_id > :course_base
 ORDER BY mo.course_id, mo.position, l;
INSERT INTO lms.quizzes (lesson_id, title, pass_score, max_attempts, created_at)
SELECT l.id, format('Check %s', l.title), 60, 3, n.now - interval '365 days'
  FROM lms.lessons l, gen_now n
 WHERE l.kind = 'quiz' AND l.course_id > :course_base
 ORDER BY l.id;
INSERT INTO lms.quiz_questions (quiz_id, position, prompt, choices, answer)
SELECT q.id, p, (ARRAY['Which is a PostgreSQL index type?', 'What does MVCC stand for?', 'Default port?'])[p],
       (ARRAY['["btree", "hashmap", "list"]', '["Many versions", "Multi-version concurrency control"]',
              '["3306", "5432", "6379"]'])[p]::jsonb,
       (ARRAY[0, 1, 1])[p]
  FROM lms.quizzes q, generate_series(1, 3) p
 ORDER BY q.id, p;
-- the counters the authoring path maintains (every generated lesson is published)
UPDATE lms.modules mo SET lesson_count = 6 WHERE mo.course_id > :course_base;
UPDATE lms.courses c SET lesson_count = x.n, total_duration_seconds = x.d
  FROM (SELECT course_id, count(*) AS n, sum(duration_seconds) AS d
          FROM lms.lessons WHERE is_published GROUP BY 1) x
 WHERE x.course_id = c.id;
SELECT format('catalog: %s s', round((extract(epoch FROM clock_timestamp()) - :t0)::numeric, 1)) AS "phase";

\echo phase enrollments
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
-- three distinct courses per learner: a skewed first pick (popular courses get more learners),
-- then two more a third of the catalog apart
CREATE TEMP TABLE gen_enroll AS
SELECT g AS n, k, :learner_base + g AS user_id,
       :course_base + 1 + (b.base + k * greatest(1, :courses / 3)) % :courses AS course_id,
       n.now - interval '1 day' - random() * interval '60 days' AS enrolled_at,
       (g % 20 = 0 AND k = 0) AS finishes
  FROM (SELECT g, floor(:courses * power(random(), 2))::int AS base FROM generate_series(1, :learners) g) b,
       generate_series(0, 2) k, gen_now n
 ORDER BY g, k;
-- the lesson map: (course, 1..30) -> lesson
CREATE TEMP TABLE gen_lessons AS
SELECT l.course_id, row_number() OVER (PARTITION BY l.course_id ORDER BY mo.position, l.position) AS seq,
       l.id AS lesson_id, l.module_id, l.kind, l.duration_seconds, l.points
  FROM lms.lessons l JOIN lms.modules mo ON mo.id = l.module_id
 WHERE l.course_id > :course_base;
CREATE INDEX ON gen_lessons (course_id, seq);
ANALYZE gen_lessons;
SELECT format('enrollment plan: %s s', round((extract(epoch FROM clock_timestamp()) - :t0)::numeric, 1)) AS "phase";

\echo phase progress
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
-- about a third of each enrollment's lessons touched (all of them for the finishers); 85 % of
-- those completed; a touched quiz lesson is completed by a passed attempt
CREATE TEMP TABLE gen_progress AS
SELECT x.user_id, gl.lesson_id, gl.course_id, gl.module_id, gl.kind, gl.duration_seconds, gl.points,
       x.finishes OR gl.kind = 'quiz' OR x.r2 < 0.85 AS done,
       x.enrolled_at + (x.r3 * 0.98 + 0.01) * (n.now - x.enrolled_at) AS at,
       10 + floor(x.r2 * 70)::int AS partial_pct
  FROM (SELECT e.user_id, e.course_id, e.enrolled_at, e.finishes, s,
               random() AS r1, random() AS r2, random() AS r3
          FROM gen_enroll e CROSS JOIN generate_series(1, 30) s) x
  JOIN gen_lessons gl ON gl.course_id = x.course_id AND gl.seq = x.s
  CROSS JOIN gen_now n
 WHERE x.finishes OR x.r1 < 0.3333;
INSERT INTO lms.lesson_progress (user_id, lesson_id, course_id, module_id, watched_seconds, last_position_seconds,
                                 completion_percentage, is_completed, completed_at, started_at, updated_at)
SELECT user_id, lesson_id, course_id, module_id,
       CASE WHEN done THEN duration_seconds ELSE duration_seconds * partial_pct / 100 END,
       CASE WHEN done THEN duration_seconds ELSE duration_seconds * partial_pct / 100 END,
       CASE WHEN done THEN 100 ELSE partial_pct END,
       done, CASE WHEN done THEN at END, at - interval '10 minutes', at
  FROM gen_progress
 ORDER BY user_id, lesson_id;
-- a passed first attempt, every answer right, for each completed quiz lesson
INSERT INTO lms.quiz_attempts (quiz_id, user_id, attempt_no, answers, score, passed, created_at)
SELECT q.id, p.user_id, 1, a.answers, 100, true, p.at
  FROM gen_progress p JOIN lms.quizzes q ON q.lesson_id = p.lesson_id
  JOIN (SELECT quiz_id, jsonb_object_agg(id::text, answer) AS answers FROM lms.quiz_questions GROUP BY 1) a
    ON a.quiz_id = q.id
 WHERE p.kind = 'quiz' AND p.done
 ORDER BY q.id, p.user_id;
SELECT format('progress: %s s', round((extract(epoch FROM clock_timestamp()) - :t0)::numeric, 1)) AS "phase";

\echo phase counters
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
-- enrollments with the counters of the progress write path: completed lessons, status,
-- completion time, last activity and the last lesson touched
INSERT INTO lms.enrollments (user_id, course_id, status, completed_lessons, enrolled_at, completed_at,
                             last_activity_at, last_lesson_id, last_position_seconds, last_active_hour)
SELECT e.user_id, e.course_id,
       CASE WHEN coalesce(x.done, 0) = 30 THEN 'completed' ELSE 'active' END,
       coalesce(x.done, 0), e.enrolled_at,
       CASE WHEN coalesce(x.done, 0) = 30 THEN x.last_done END,
       x.last_at, x.last_lesson, x.last_pos, lms.hour_of(x.last_at)
  FROM gen_enroll e
  LEFT JOIN (SELECT p.user_id, p.course_id, count(*) FILTER (WHERE p.done) AS done,
                    max(p.at) FILTER (WHERE p.done) AS last_done, max(p.at) AS last_at,
                    (array_agg(p.lesson_id ORDER BY p.at DESC))[1] AS last_lesson,
                    (array_agg(CASE WHEN p.done THEN p.duration_seconds
                                    ELSE p.duration_seconds * p.partial_pct / 100 END ORDER BY p.at DESC))[1] AS last_pos
               FROM gen_progress p GROUP BY 1, 2) x
    ON x.user_id = e.user_id AND x.course_id = e.course_id
 ORDER BY e.n, e.k;
INSERT INTO lms.module_progress (user_id, module_id, completed_lessons)
SELECT user_id, module_id, count(*) FROM gen_progress WHERE done GROUP BY 1, 2 ORDER BY 1, 2;
UPDATE lms.courses c SET active_enrollments = coalesce(x.active, 0), seats_taken = coalesce(x.seats, 0)
  FROM (SELECT c2.id, count(e.id) FILTER (WHERE e.status = 'active') AS active,
               count(e.id) FILTER (WHERE e.status IN ('active', 'completed')) AS seats
          FROM lms.courses c2 LEFT JOIN lms.enrollments e ON e.course_id = c2.id GROUP BY 1) x
 WHERE x.id = c.id;
SELECT format('counters: %s s', round((extract(epoch FROM clock_timestamp()) - :t0)::numeric, 1)) AS "phase";
RESET session_replication_role;

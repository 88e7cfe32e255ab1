-- Gamification for the generated data (bench/data/generate.sh, after generate.sql): the ledger
-- rows the scoring code (extension/scoring.c) would have written for that progress, with the
-- same reasons, points and source keys, and the learners' active days; then
-- lms.recompute_gamification() builds totals, levels, per-course totals, streaks, achievements
-- (with their ledger rows) and the boards from them. Running recompute a second time (as
-- tests/backup/invariants.sql does) must report 0 differences.
--   lesson_completed  lesson points   lesson:<user>:<lesson>        course, lesson
--   quiz_passed       20              quiz_pass:<user>:<quiz>       course, quiz
--   quiz_perfect      10              quiz_perfect:<user>:<quiz>    course, quiz
--   course_completed  100             course:<user>:<course>        course, course
--   streak_bonus      50              streak:<user>:<YYYY-MM-DD>    every 7th consecutive local day
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET max_parallel_workers_per_gather = 0;
-- bulk work: big sorts and hashes in memory, no wait for each commit's flush
SET work_mem = '256MB';
SET synchronous_commit = off;
SET session_replication_role = replica;
SET maintenance_work_mem = '1GB';

-- Bulk load: the ledger's secondary indexes (by user, by course, by time, the unique source
-- key) are dropped and built once the rows are in. Filled row by row in time order, each is a
-- random insert per row, 3/4 of this phase at 300,000 learners (247 s); built afterwards, a
-- sort each. Their definitions are read from the catalog, so they come back exactly as the
-- extension made them; one transaction, so a failure leaves them in place.
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
BEGIN;
CREATE TEMP TABLE gen_ledger_indexes AS
SELECT i.indexrelid::regclass::text AS index_name, pg_get_indexdef(i.indexrelid) AS index_def,
       c.conname, pg_get_constraintdef(c.oid) AS constraint_def
  FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
 WHERE i.indrelid = 'lms.points_ledger'::regclass AND NOT i.indisprimary;
SELECT CASE WHEN conname IS NULL THEN format('DROP INDEX %s', index_name)
            ELSE format('ALTER TABLE lms.points_ledger DROP CONSTRAINT %I', conname) END
  FROM gen_ledger_indexes \gexec

INSERT INTO lms.points_ledger (user_id, points, reason, source_key, course_id, source_id, created_at)
SELECT p.user_id, l.points, 'lesson_completed', 'lesson:' || p.user_id || ':' || l.id, l.course_id, l.id, p.completed_at
  FROM lms.lesson_progress p JOIN lms.lessons l ON l.id = p.lesson_id
 WHERE p.is_completed AND l.points <> 0
 ORDER BY p.completed_at, p.user_id, l.id;

INSERT INTO lms.points_ledger (user_id, points, reason, source_key, course_id, source_id, created_at)
SELECT a.user_id, x.points, x.reason, x.prefix || a.user_id || ':' || q.id, l.course_id, q.id, a.created_at
  FROM lms.quiz_attempts a JOIN lms.quizzes q ON q.id = a.quiz_id JOIN lms.lessons l ON l.id = q.lesson_id
  CROSS JOIN (VALUES (20, 'quiz_passed', 'quiz_pass:', 0), (10, 'quiz_perfect', 'quiz_perfect:', 100)) x(points, reason, prefix, min_score)
 WHERE a.passed AND a.score >= x.min_score
 ORDER BY a.created_at, a.user_id, q.id, x.points DESC;

INSERT INTO lms.points_ledger (user_id, points, reason, source_key, course_id, source_id, created_at)
SELECT e.user_id, 100, 'course_completed', 'course:' || e.user_id || ':' || e.course_id, e.course_id, e.course_id, e.completed_at
  FROM lms.enrollments e
 WHERE e.status = 'completed'
 ORDER BY e.completed_at, e.user_id;

-- active days: a progress write or a quiz attempt, on the learner's own calendar
CREATE TEMP TABLE gen_days AS
SELECT x.user_id, lms.active_day(u.timezone, x.at) AS day, min(x.at) AS first_at
  FROM (SELECT user_id, updated_at AS at FROM lms.lesson_progress
        UNION ALL SELECT user_id, created_at FROM lms.quiz_attempts) x
  JOIN lms.users u ON u.id = x.user_id
 GROUP BY 1, 2;
INSERT INTO lms.streak_days (user_id, day)
SELECT user_id, day FROM gen_days ORDER BY 1, 2;

-- the streak bonus on every 7th consecutive day of each run
INSERT INTO lms.points_ledger (user_id, points, reason, source_key, course_id, source_id, created_at)
SELECT r.user_id, 50, 'streak_bonus', 'streak:' || r.user_id || ':' || to_char(r.day, 'YYYY-MM-DD'), NULL, NULL, r.first_at
  FROM (SELECT g.user_id, g.day, g.first_at,
               row_number() OVER (PARTITION BY g.user_id, g.grp ORDER BY g.day) AS k
          FROM (SELECT d.*, d.day - (row_number() OVER (PARTITION BY d.user_id ORDER BY d.day))::int AS grp
                  FROM gen_days d) g) r
 WHERE r.k % 7 = 0
 ORDER BY r.first_at, r.user_id;

SELECT CASE WHEN conname IS NULL THEN index_def
            ELSE format('ALTER TABLE lms.points_ledger ADD CONSTRAINT %I %s', conname, constraint_def) END
  FROM gen_ledger_indexes \gexec
COMMIT;
RESET session_replication_role;
SELECT format('ledger and active days: %s s', round((extract(epoch FROM clock_timestamp()) - :t0)::numeric, 1));

SELECT 'ledger rows: ' || string_agg(reason || ' ' || n, ', ' ORDER BY reason)
  FROM (SELECT reason, count(*) AS n FROM lms.points_ledger GROUP BY 1) x;
SELECT 'active days: ' || count(*) FROM lms.streak_days;
ANALYZE lms.points_ledger, lms.streak_days, lms.lesson_progress, lms.users;
-- first pass: builds learner_scores, course_scores, achievements and boards (its "differences"
-- is every learner, since nothing was there before)
-- The achievements it grants are points of this week: through the ledger's league trigger every
-- learner would join this week's league one by one inside this one transaction, where each join
-- re-checks every cohort the transaction has already filled (1M learners: stopped after 35
-- minutes in the joins). Generated history is a load, not events: the trigger is off for it and
-- the week's leagues are formed set-based afterwards, as after any bulk load.
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
BEGIN;
ALTER TABLE lms.points_ledger DISABLE TRIGGER points_ledger_league;
SELECT 'recompute (build): ' || users || ' learners' FROM lms.recompute_gamification();
ALTER TABLE lms.points_ledger ENABLE TRIGGER points_ledger_league;
COMMIT;
SELECT format('recompute with the first build of every board: %s s', round((extract(epoch FROM clock_timestamp()) - :t0)::numeric, 1));
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
SELECT format('this week''s leagues formed (lms.league_rebuild): %s learners in %s s', lms.league_rebuild(),
              round((extract(epoch FROM clock_timestamp()) - :t0)::numeric, 1));
-- recompute built every board (global and per course, each window)
SELECT 'boards built: ' || count(*) || ', entries ' || sum(total) FROM lms.boards;
SELECT 'achievements granted: ' || count(*) FROM lms.user_achievements;

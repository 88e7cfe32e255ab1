\i tests/regress/setup.psql
SET lms.clock_override = '';   -- the monitoring row reads the wall clock: so do these writes
-- The monitoring row (lms.ops_metrics, read by the Prometheus PostgreSQL exporter): board
-- freshness and the last hour's scoring by the wall clock. Empty database: one row of zeros.
SELECT boards, global_board_age_seconds IS NULL AS no_global_board, awards_1h, points_1h,
       lesson_completions_1h, course_completions_1h, learners_scoring_1h
  FROM lms.ops_metrics;

SELECT lms.create_user('ana@example.org', 'learn-pass-1', 'Ana') AS ana,
       lms.create_user('ben@example.org', 'learn-pass-2', 'Ben') AS ben,
       lms.create_user('cy@example.org', 'learn-pass-3', 'Cy') AS cy \gset
-- an award two hours ago is outside the window
SELECT set_config('lms.clock_override', (now() - interval '2 hours')::text, false) IS NOT NULL AS clock_set;
SELECT lms.award_points(:cy, 50, 'admin_correction', 'ops-old') IS NOT NULL AS old_award;
SELECT set_config('lms.clock_override', '', false) = '' AS clock_reset;
-- now: Ana completes a lesson and a course (which earns her the seeded first_course achievement,
-- 50 points) and gets a correction, Ben completes a lesson: 5 awards, 166 points, 2 learners
SELECT lms.award_points(:ana, 10, 'lesson_completed', 'ops-l1-ana') IS NOT NULL,
       lms.award_points(:ana, 100, 'course_completed', 'ops-c1-ana') IS NOT NULL,
       lms.award_points(:ana, -4, 'admin_correction', 'ops-fix-ana') IS NOT NULL,
       lms.award_points(:ben, 10, 'lesson_completed', 'ops-l1-ben') IS NOT NULL;
SELECT awards_1h, points_1h, lesson_completions_1h, course_completions_1h, learners_scoring_1h
  FROM lms.ops_metrics;

-- boards: built now, so fresh; their age grows with the wall clock
SELECT count(*) > 0 AS refreshed FROM lms.refresh_leaderboards();
SELECT boards > 0 AS has_boards, global_board_age_seconds BETWEEN 0 AND 60 AS global_fresh,
       oldest_board_age_seconds >= 0 AS oldest_known
  FROM lms.ops_metrics;
UPDATE lms.boards SET generated_at = generated_at - interval '10 minutes' WHERE board = 'global' AND win = 'all';
SELECT global_board_age_seconds BETWEEN 600 AND 660 AS global_ten_minutes_old,
       oldest_board_age_seconds >= global_board_age_seconds AS oldest_is_oldest
  FROM lms.ops_metrics;

-- the monitoring role reads it as an analyst; the gateway's role may not
SET ROLE lms_analyst;
SELECT awards_1h FROM lms.ops_metrics;
RESET ROLE;
SET ROLE lms_gateway;
SELECT awards_1h FROM lms.ops_metrics;
RESET ROLE;

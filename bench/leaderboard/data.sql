-- Generated gamification data for bench/leaderboard.sh, set-based, straight into the tables:
-- :learners learners, 20 published courses, two ledger entries per learner spread over the last
-- 60 days (80 % of them in a course), and the totals derived from the ledger exactly as the
-- write path keeps them (so lms.recompute_gamification() would agree).
SET client_min_messages = warning;
INSERT INTO lms.users (email, password_hash, display_name)
SELECT 'learner' || i || '@bench.example', 'x', 'Learner ' || i FROM generate_series(1, :learners) i;
INSERT INTO lms.courses (slug, title, instructor_id, is_published)
SELECT 'bench-course-' || i, 'Course ' || i, 1, true FROM generate_series(1, 20) i;
INSERT INTO lms.points_ledger (user_id, points, reason, source_key, course_id, created_at)
SELECT u, 1 + (random() * 500)::int, 'quiz_passed', 'gen:' || u || ':' || k,
       CASE WHEN random() < 0.8 THEN (SELECT min(id) FROM lms.courses) + (random() * 19)::int END,
       now() - random() * interval '60 days'
  FROM generate_series(1, :learners) u, generate_series(1, 2) k;
INSERT INTO lms.learner_scores (user_id, total_points, level, reached_at)
SELECT user_id, sum(points), lms.level_for(sum(points)), max(created_at)
  FROM lms.points_ledger GROUP BY user_id;
INSERT INTO lms.course_scores (course_id, user_id, points, reached_at)
SELECT course_id, user_id, sum(points), max(created_at)
  FROM lms.points_ledger WHERE course_id IS NOT NULL GROUP BY course_id, user_id;
-- some learners hide themselves
UPDATE lms.users SET leaderboard_visible = false WHERE id % 50 = 0;
VACUUM ANALYZE;

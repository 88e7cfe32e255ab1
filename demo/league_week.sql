-- This week's league activity for `make demo`, run on every start: the demo's points were
-- earned the week its data was loaded; in a later week nobody has points yet, so the league
-- would show empty cohorts. Then the past weeks are rolled over (promotions and demotions), and
-- 150 learners finish a video lesson they had not finished, through lms.record_progress like
-- any progress write: their first points of the week put them in cohorts of their new tiers.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SELECT count(*) AS weeks_rolled_over FROM lms.league_rollover();
SELECT setseed(0.31);
WITH quiet AS (
  SELECT NOT EXISTS (SELECT FROM lms.league_members m WHERE m.week = lms.league_week(lms.clock())) AS yes),
pick AS (
  SELECT DISTINCT ON (e.user_id) e.user_id, l.id AS lesson_id, l.duration_seconds
    FROM quiet, lms.enrollments e
    JOIN lms.users u ON u.id = e.user_id AND u.email ~ '^learner[0-9]+@'
    JOIN lms.lessons l ON l.course_id = e.course_id AND l.kind = 'video' AND l.duration_seconds > 0 AND l.is_published
   WHERE quiet.yes AND e.status = 'active' AND random() < 0.5
     AND NOT EXISTS (SELECT FROM lms.lesson_progress p WHERE p.user_id = e.user_id AND p.lesson_id = l.id AND p.is_completed)
   ORDER BY e.user_id, l.id
   LIMIT 150)
SELECT count(lms.record_progress(p.user_id, p.lesson_id, p.duration_seconds, p.duration_seconds, 100)) AS lessons_finished_this_week
  FROM pick p;

-- Unfinished viewing for `make demo` (loaded after demo/seed.sql, which completes whole lessons
-- only): learners who started a video and stopped part-way, more of them the further into a
-- course the lesson is, so the instructor pages show started above completed. Through
-- lms.record_progress, like any progress write. Deterministic.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SELECT setseed(0.17);
WITH candidates AS MATERIALIZED (
  SELECT e.user_id, l.id AS lesson_id, l.duration_seconds, m.position, random() AS pick, random() AS share
    FROM lms.enrollments e
    JOIN lms.lessons l ON l.course_id = e.course_id AND l.kind = 'video' AND l.duration_seconds > 0
    JOIN lms.modules m ON m.id = l.module_id
   WHERE e.status = 'active'
     AND NOT EXISTS (SELECT 1 FROM lms.lesson_progress p WHERE p.user_id = e.user_id AND p.lesson_id = l.id)
   ORDER BY e.user_id, l.id)
SELECT count(lms.record_progress(user_id, lesson_id, w, w, round(100.0 * w / duration_seconds, 2))) AS partial_watches
  FROM candidates, LATERAL (SELECT (duration_seconds * (0.1 + 0.6 * share))::int AS w) x
 WHERE pick < 0.12 + 0.06 * position;

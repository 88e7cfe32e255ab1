-- One phase of acknowledged writes for the recovery suite: :n learners each complete one video lesson
-- they had not completed (lms.record_progress) and receive an admin award (lms.award_points).
-- \gexec runs every generated statement on its own, so each one commits before its answer
-- line is printed: a printed line is an acknowledged write. Output, tab-separated:
--   phase  progress  user_id  lesson_id  is_completed
--   phase  award     user_id  source_key ledger_id
\set ON_ERROR_STOP on
SELECT format($s$SELECT %L, 'progress', %s, %s, lms.record_progress(%s, %s, 600, 600, 100)->'lesson'->>'is_completed'$s$,
              :'phase', c.user_id, c.lesson_id, c.user_id, c.lesson_id),
       format($s$SELECT %L, 'award', %s, %L, lms.award_points(%s, 7, 'admin_correction', %L)$s$,
              :'phase', c.user_id, 'recovery-' || :'phase' || '-' || c.user_id,
              c.user_id, 'recovery-' || :'phase' || '-' || c.user_id)
  FROM (SELECT DISTINCT ON (e.user_id) e.user_id, l.id AS lesson_id
          FROM lms.enrollments e
          JOIN lms.lessons l ON l.course_id = e.course_id
         WHERE e.status = 'active' AND l.is_published AND l.kind = 'video'
           AND (l.available_from IS NULL OR l.available_from <= now())
           AND NOT EXISTS (SELECT FROM lms.lesson_progress p
                            WHERE p.user_id = e.user_id AND p.lesson_id = l.id AND p.is_completed)
           AND NOT EXISTS (SELECT FROM lms.points_ledger x
                            WHERE x.user_id = e.user_id AND x.source_key LIKE 'recovery-%')
         ORDER BY e.user_id, l.id
         LIMIT :n) c
\gexec

-- Every stored counter recomputed from the rows it summarizes; prints one line per mismatch
-- kind with its count (0 everywhere is the healthy answer).
SELECT 'course lesson_count/total_duration' AS counter, count(*) AS mismatches
  FROM lms.courses c
  LEFT JOIN (SELECT l.course_id, count(*) AS n, sum(l.duration_seconds) AS d
               FROM lms.lessons l WHERE l.is_published GROUP BY 1) x ON x.course_id = c.id
 WHERE c.lesson_count <> coalesce(x.n, 0) OR c.total_duration_seconds <> coalesce(x.d, 0)
UNION ALL
SELECT 'module lesson_count', count(*)
  FROM lms.modules m
  LEFT JOIN (SELECT l.module_id, count(*) AS n FROM lms.lessons l WHERE l.is_published GROUP BY 1) x ON x.module_id = m.id
 WHERE m.lesson_count <> coalesce(x.n, 0)
UNION ALL
SELECT 'course active_enrollments/seats_taken', count(*)
  FROM lms.courses c
  LEFT JOIN (SELECT e.course_id, count(*) FILTER (WHERE e.status = 'active') AS active,
                    count(*) FILTER (WHERE e.status IN ('active', 'completed')) AS seats
               FROM lms.enrollments e GROUP BY 1) x ON x.course_id = c.id
 WHERE c.active_enrollments <> coalesce(x.active, 0) OR c.seats_taken <> coalesce(x.seats, 0)
UNION ALL
SELECT 'enrollment completed_lessons', count(*)
  FROM lms.enrollments e
  LEFT JOIN (SELECT p.user_id, l.course_id, count(*) AS n
               FROM lms.lesson_progress p JOIN lms.lessons l ON l.id = p.lesson_id
              WHERE p.is_completed AND l.is_published GROUP BY 1, 2) x
         ON x.user_id = e.user_id AND x.course_id = e.course_id
 WHERE e.completed_lessons <> coalesce(x.n, 0)
UNION ALL
SELECT 'module_progress completed_lessons', count(*)
  FROM (SELECT p.user_id, l.module_id, count(*) AS n
          FROM lms.lesson_progress p JOIN lms.lessons l ON l.id = p.lesson_id
         WHERE p.is_completed AND l.is_published GROUP BY 1, 2) x
  FULL JOIN lms.module_progress mp ON mp.user_id = x.user_id AND mp.module_id = x.module_id
 WHERE coalesce(mp.completed_lessons, 0) <> coalesce(x.n, 0)
UNION ALL
SELECT 'board_slots learners', count(*)
  FROM (SELECT e.board, e.win, e.points, lms.board_slot(e.reached_at) AS slot, count(*) AS n
          FROM lms.board_entries e GROUP BY 1, 2, 3, 4) x
  FULL JOIN lms.board_slots s ON s.board = x.board AND s.win = x.win AND s.points = x.points AND s.slot = x.slot
 WHERE coalesce(s.learners, 0) <> coalesce(x.n, 0)
UNION ALL
SELECT 'gamification (recompute differences)', (SELECT differences FROM lms.recompute_gamification())
ORDER BY 1;

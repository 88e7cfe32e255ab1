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
  FROM (SELECT e.board, e.win, e.points, lms.hour_of(e.reached_at) AS slot, count(*) AS n
          FROM lms.board_entries e GROUP BY 1, 2, 3, 4) x
  FULL JOIN lms.board_slots s ON s.board = x.board AND s.win = x.win AND s.points = x.points AND s.slot = x.slot
 WHERE coalesce(s.learners, 0) <> coalesce(x.n, 0)
UNION ALL
SELECT 'board_parts learners', count(*)
  FROM (SELECT e.board, e.win, e.points, e.reached_at, e.user_id >> g.shift AS part, count(*) AS n
          FROM lms.board_entries e
          JOIN (SELECT DISTINCT p.board, p.win, p.points, p.reached_at, p.shift FROM lms.board_parts p) g
            ON g.board = e.board AND g.win = e.win AND g.points = e.points AND g.reached_at = e.reached_at
         GROUP BY 1, 2, 3, 4, 5) x
  FULL JOIN lms.board_parts s ON s.board = x.board AND s.win = x.win AND s.points = x.points
                             AND s.reached_at = x.reached_at AND s.part = x.part
 WHERE coalesce(s.learners, 0) <> coalesce(x.n, 0)
UNION ALL
SELECT 'lesson_stats started/completed', count(*)
  FROM (SELECT s.lesson_id, sum(s.started) AS started, sum(s.completed) AS completed FROM lms.lesson_stats s GROUP BY 1) a
  FULL JOIN (SELECT p.lesson_id, count(*) AS started, count(*) FILTER (WHERE p.is_completed) AS completed
               FROM lms.lesson_progress p GROUP BY 1) x ON x.lesson_id = a.lesson_id
 WHERE coalesce(a.started, 0) <> coalesce(x.started, 0) OR coalesce(a.completed, 0) <> coalesce(x.completed, 0)
UNION ALL
SELECT 'course_enrollment_stats learners', count(*)
  FROM (SELECT s.course_id, s.status, s.completed_lessons, sum(s.learners) AS n FROM lms.course_enrollment_stats s GROUP BY 1, 2, 3) a
  FULL JOIN (SELECT e.course_id, e.status, e.completed_lessons, count(*) AS n FROM lms.enrollments e GROUP BY 1, 2, 3) x
    ON x.course_id = a.course_id AND x.status = a.status AND x.completed_lessons = a.completed_lessons
 WHERE coalesce(a.n, 0) <> coalesce(x.n, 0)
UNION ALL
SELECT 'enrollment last_active_hour', count(*) FROM lms.enrollments e
 WHERE e.last_active_hour IS DISTINCT FROM lms.hour_of(e.last_activity_at)
UNION ALL
-- (hours more than 8 days before a course's latest are pruned: no read needs them)
SELECT 'course_activity learners', count(*)
  FROM (SELECT a.course_id, a.hour, sum(a.learners) AS n FROM lms.course_activity a GROUP BY 1, 2) a
  FULL JOIN (SELECT e.course_id, e.last_active_hour AS hour, count(*) AS n FROM lms.enrollments e
              WHERE e.last_active_hour IS NOT NULL GROUP BY 1, 2) x ON x.course_id = a.course_id AND x.hour = a.hour
 WHERE coalesce(a.n, 0) <> coalesce(x.n, 0)
   AND (a.hour IS NOT NULL OR x.hour >= (SELECT max(y.last_active_hour) - 192 FROM lms.enrollments y WHERE y.course_id = x.course_id))
UNION ALL
SELECT 'course_points points', count(*)
  FROM (SELECT p.course_id, sum(p.points) AS n FROM lms.course_points p GROUP BY 1) a
  FULL JOIN (SELECT c.course_id, sum(c.points) AS n FROM lms.course_scores c GROUP BY 1) x ON x.course_id = a.course_id
 WHERE coalesce(a.n, 0) <> coalesce(x.n, 0)
UNION ALL
SELECT 'user_counts users', count(*)
  FROM (SELECT c.role, c.status, sum(c.users) AS n FROM lms.user_counts c GROUP BY 1, 2) a
  FULL JOIN (SELECT u.role, u.status, count(*) AS n FROM lms.users u GROUP BY 1, 2) x ON x.role = a.role AND x.status = a.status
 WHERE coalesce(a.n, 0) <> coalesce(x.n, 0)
UNION ALL
SELECT 'gamification (recompute differences)', (SELECT differences FROM lms.recompute_gamification())
ORDER BY 1;

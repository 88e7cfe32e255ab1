-- Analyst view: one row per learner with enrollments, lessons, points, level and streak.
CREATE VIEW lms.learner_activity AS
SELECT u.id AS user_id,
       u.display_name,
       coalesce(e.active, 0) AS enrollments_active,
       coalesce(e.completed, 0) AS enrollments_completed,
       coalesce(s.lessons_completed, 0) AS lessons_completed,
       coalesce(s.total_points, 0) AS total_points,
       coalesce(s.level, 1) AS level,
       coalesce(s.current_streak, 0) AS current_streak,
       e.last_activity_at
  FROM lms.users u
  LEFT JOIN lms.learner_scores s ON s.user_id = u.id
  LEFT JOIN (SELECT en.user_id,
                    count(*) FILTER (WHERE en.status = 'active') AS active,
                    count(*) FILTER (WHERE en.status = 'completed') AS completed,
                    max(en.last_activity_at) AS last_activity_at
               FROM lms.enrollments en GROUP BY en.user_id) e ON e.user_id = u.id
 WHERE u.role = 'student';

COMMENT ON VIEW lms.learner_activity IS 'One row per student: enrollments, completed lessons, points, level and streak';
COMMENT ON COLUMN lms.learner_activity.user_id IS 'The learner (lms.users.id)';
COMMENT ON COLUMN lms.learner_activity.display_name IS 'The learner''s display name';
COMMENT ON COLUMN lms.learner_activity.enrollments_active IS 'Enrollments with status active';
COMMENT ON COLUMN lms.learner_activity.enrollments_completed IS 'Enrollments with status completed';
COMMENT ON COLUMN lms.learner_activity.lessons_completed IS 'Lessons the learner has completed';
COMMENT ON COLUMN lms.learner_activity.total_points IS 'Points in the ledger, corrections included';
COMMENT ON COLUMN lms.learner_activity.level IS 'Level: level n starts at 100*n*(n-1)/2 points';
COMMENT ON COLUMN lms.learner_activity.current_streak IS 'Consecutive active days (learner''s time zone) up to the last active day';
COMMENT ON COLUMN lms.learner_activity.last_activity_at IS 'Latest progress write over all enrollments';

-- Read-only views for analysts (role lms_analyst reads these and nothing else; see 95_privileges.sql).

-- lms_analyst executes no function of ours (only built-ins: the contract's "reads the views and
-- nothing else"), so this view is the one place that spells out inline what lms.clock() (the
-- instant lms.clock_override names, else the transaction's start), lms.effective_status() and
-- lms.analytics_progress() compute (rules.c); tests/regress/sql/analytics.sql checks that it
-- agrees with GET /courses/{id}/analytics.
CREATE VIEW lms.course_stats AS
SELECT c.id AS course_id,
       c.slug,
       c.title,
       c.instructor_id,
       c.is_published,
       c.lesson_count,
       c.total_duration_seconds,
       coalesce(e.active, 0) AS active_enrollments,
       coalesce(e.completed, 0) AS completed_enrollments,
       coalesce(e.dropped, 0) AS dropped_enrollments,
       coalesce(e.expired, 0) AS expired_enrollments,
       CASE WHEN coalesce(e.active + e.completed, 0) > 0
            THEN pg_catalog.round(e.completed * 100.0 / (e.active + e.completed), 2) ELSE 0 END AS completion_rate,
       coalesce(pg_catalog.round(e.progress_sum / nullif(e.active + e.completed, 0), 2), 0) AS average_progress
  FROM lms.courses c
  CROSS JOIN LATERAL (
    SELECT coalesce(nullif(pg_catalog.current_setting('lms.clock_override', true), '')::timestamptz, pg_catalog.now()) AS ts
  ) clock
  LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE x.status = 'active'
                              AND (x.expires_at IS NULL OR x.expires_at > clock.ts))::int AS active,
           count(*) FILTER (WHERE x.status = 'completed')::int AS completed,
           count(*) FILTER (WHERE x.status = 'dropped')::int AS dropped,
           count(*) FILTER (WHERE x.status = 'expired'
                              OR (x.status = 'active' AND x.expires_at <= clock.ts))::int AS expired,
           sum(CASE WHEN c.lesson_count > 0
                    THEN pg_catalog.round(least(x.completed_lessons, c.lesson_count) * 100.0 / c.lesson_count, 2)
                    ELSE 0 END)
             FILTER (WHERE x.status = 'completed'
                        OR (x.status = 'active' AND (x.expires_at IS NULL OR x.expires_at > clock.ts)))
             AS progress_sum
      FROM lms.enrollments x
     WHERE x.course_id = c.id
  ) e ON true;

COMMENT ON VIEW lms.course_stats IS
  'One row per course (drafts included): catalog counters and enrollment figures, computed at read time. '
  'Definitions match GET /courses/{id}/analytics.';
COMMENT ON COLUMN lms.course_stats.course_id IS 'lms.courses.id';
COMMENT ON COLUMN lms.course_stats.slug IS 'URL name of the course';
COMMENT ON COLUMN lms.course_stats.title IS 'Course title';
COMMENT ON COLUMN lms.course_stats.instructor_id IS 'The owning instructor (lms.users.id)';
COMMENT ON COLUMN lms.course_stats.is_published IS 'True once the course is published';
COMMENT ON COLUMN lms.course_stats.lesson_count IS 'Published lessons';
COMMENT ON COLUMN lms.course_stats.total_duration_seconds IS 'Sum of the published lessons'' durations';
COMMENT ON COLUMN lms.course_stats.active_enrollments IS 'Enrollments with status active whose access has not expired';
COMMENT ON COLUMN lms.course_stats.completed_enrollments IS 'Enrollments with status completed';
COMMENT ON COLUMN lms.course_stats.dropped_enrollments IS 'Enrollments the learner dropped';
COMMENT ON COLUMN lms.course_stats.expired_enrollments IS 'Enrollments past their access_days window (stored as expired, or active past expires_at)';
COMMENT ON COLUMN lms.course_stats.completion_rate IS 'completed / (active + completed) * 100, 2 decimals; 0 without such enrollments';
COMMENT ON COLUMN lms.course_stats.average_progress IS 'Mean progress_percentage (completed lessons / lesson_count * 100, at most 100) over active and completed enrollments, 2 decimals; 0 without such enrollments';

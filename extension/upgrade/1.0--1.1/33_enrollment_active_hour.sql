-- The enrollment's last-active hour (10_tables.sql; 69_analytics_summaries.sql fills it).
ALTER TABLE lms.enrollments ADD COLUMN last_active_hour bigint;
CREATE INDEX enrollments_active_hour ON lms.enrollments (course_id, last_active_hour)
  WHERE last_active_hour IS NOT NULL;

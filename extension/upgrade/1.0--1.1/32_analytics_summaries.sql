-- The summaries of the analytics and of GET /admin/users (87_analytics_summaries.sql,
-- 80_admin.sql) and the enrollment's last-active hour; 69_analytics_summaries.sql fills them.
CREATE TABLE lms.lesson_stats (
  course_id bigint NOT NULL,
  lesson_id bigint NOT NULL,
  shard int NOT NULL,
  started bigint NOT NULL,
  completed bigint NOT NULL,
  PRIMARY KEY (course_id, lesson_id, shard)
);
CREATE TABLE lms.course_enrollment_stats (
  course_id bigint NOT NULL,
  status text NOT NULL,
  completed_lessons int NOT NULL,
  shard int NOT NULL,
  learners bigint NOT NULL,
  PRIMARY KEY (course_id, status, completed_lessons, shard)
);
CREATE TABLE lms.course_activity (
  course_id bigint NOT NULL,
  hour bigint NOT NULL,
  shard int NOT NULL,
  learners bigint NOT NULL,
  PRIMARY KEY (course_id, hour, shard)
);
CREATE TABLE lms.course_points (
  course_id bigint NOT NULL,
  shard int NOT NULL,
  points bigint NOT NULL,
  PRIMARY KEY (course_id, shard)
);
CREATE TABLE lms.user_counts (
  role text NOT NULL,
  status text NOT NULL,
  shard int NOT NULL,
  users bigint NOT NULL,
  PRIMARY KEY (role, status, shard)
);
ALTER TABLE lms.enrollments ADD COLUMN last_active_hour bigint;
CREATE INDEX enrollments_active_hour ON lms.enrollments (course_id, last_active_hour)
  WHERE last_active_hour IS NOT NULL;

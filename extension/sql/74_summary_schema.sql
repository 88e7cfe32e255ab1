-- The summaries the analytics and GET /admin/users read, kept by the writes (how:
-- 87_analytics_summaries.sql and 80_admin.sql). Each is split in several rows by learner, so that
-- a cohort acting together (1,000 watchers finishing a lesson, registrations arriving together)
-- does not queue on one row. They are derived data: pg_dump leaves them out
-- (95_privileges.sql) and a restore rebuilds them through the same triggers as it loads the
-- rows; lms.recount_analytics() rebuilds them from the rows. This file is also the upgrade step
-- extension/upgrade/1.0--1.1/32_analytics_summaries.sql (a link to it).

-- Per lesson: learners with a progress row on it (started), and of them those who completed it.
CREATE TABLE lms.lesson_stats (
  course_id bigint NOT NULL,
  lesson_id bigint NOT NULL,
  shard int NOT NULL,
  started bigint NOT NULL,
  completed bigint NOT NULL,
  PRIMARY KEY (course_id, lesson_id, shard)
);
-- Per course: enrollments by stored status and completed lessons (the average progress is a sum
-- over completed-lesson counts, whatever the course's lesson count is when it is read).
CREATE TABLE lms.course_enrollment_stats (
  course_id bigint NOT NULL,
  status text NOT NULL,
  completed_lessons int NOT NULL,
  shard int NOT NULL,
  learners bigint NOT NULL,
  PRIMARY KEY (course_id, status, completed_lessons, shard)
);
-- Per course and hour: enrollments whose last activity fell in that hour (lms.hour_of), for the
-- learners active in the last 7 days; rows older than 8 days are pruned as activity moves on.
CREATE TABLE lms.course_activity (
  course_id bigint NOT NULL,
  hour bigint NOT NULL,
  shard int NOT NULL,
  learners bigint NOT NULL,
  PRIMARY KEY (course_id, hour, shard)
);
-- Per course: the learners' course points (lms.course_scores) summed.
CREATE TABLE lms.course_points (
  course_id bigint NOT NULL,
  shard int NOT NULL,
  points bigint NOT NULL,
  PRIMARY KEY (course_id, shard)
);

-- How many users hold each (role, status), in eight rows per pair (by id) so that registrations
-- arriving together do not queue on one row: GET /admin/users answers its total from here unless
-- it searches (counting 1,000,000 users took 161 ms a page). Kept by statement triggers on
-- lms.users; derived data (95_privileges.sql leaves it out of dumps, a restore rebuilds it).
CREATE TABLE lms.user_counts (
  role text NOT NULL,
  status text NOT NULL,
  shard int NOT NULL,
  users bigint NOT NULL,
  PRIMARY KEY (role, status, shard)
);

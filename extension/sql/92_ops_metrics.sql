-- Operations metrics: what an operator's monitoring reads from the database, in one row.
-- The Prometheus PostgreSQL exporter runs `SELECT * FROM lms.ops_metrics` (monitoring/
-- postgres-exporter/queries.yaml) as a monitoring role that is a member of lms_analyst, so the
-- row is a view (analysts read views only, see 95_privileges.sql). It reads the wall clock
-- (now()), never lms.clock_override: monitoring lives in real time. Cheap at any scale: the
-- boards table has one row per board, and the ledger is read through its time index for the
-- last hour only. Lessons worth 0 points leave no ledger row and are not counted as completions.
CREATE VIEW lms.ops_metrics AS
SELECT b.boards,
       b.global_board_age_seconds,
       b.oldest_board_age_seconds,
       l.awards_1h,
       l.points_1h,
       l.lesson_completions_1h,
       l.course_completions_1h,
       l.learners_scoring_1h
  FROM (SELECT count(*) AS boards,
               pg_catalog.date_part('epoch', pg_catalog.now()
                 - max(x.generated_at) FILTER (WHERE x.board = 'global' AND x.win = 'all')) AS global_board_age_seconds,
               pg_catalog.date_part('epoch', pg_catalog.now() - min(x.generated_at)) AS oldest_board_age_seconds
          FROM lms.boards x) b
 CROSS JOIN
       (SELECT count(*) AS awards_1h,
               coalesce(sum(p.points), 0) AS points_1h,
               count(*) FILTER (WHERE p.reason = 'lesson_completed') AS lesson_completions_1h,
               count(*) FILTER (WHERE p.reason = 'course_completed') AS course_completions_1h,
               count(DISTINCT p.user_id) AS learners_scoring_1h
          FROM lms.points_ledger p
         WHERE p.created_at > pg_catalog.now() - interval '1 hour') l;

COMMENT ON VIEW lms.ops_metrics IS
  'One row for monitoring (the Prometheus PostgreSQL exporter): board freshness and the last hour''s scoring activity';
COMMENT ON COLUMN lms.ops_metrics.boards IS 'Leaderboards materialized (lms.boards rows)';
COMMENT ON COLUMN lms.ops_metrics.global_board_age_seconds IS 'Seconds since the global all-time board was refreshed; NULL before its first build';
COMMENT ON COLUMN lms.ops_metrics.oldest_board_age_seconds IS 'Seconds since the least recently refreshed board was refreshed';
COMMENT ON COLUMN lms.ops_metrics.awards_1h IS 'Points ledger rows written in the last hour';
COMMENT ON COLUMN lms.ops_metrics.points_1h IS 'Points awarded in the last hour, corrections included';
COMMENT ON COLUMN lms.ops_metrics.lesson_completions_1h IS 'Lesson completions that earned points in the last hour';
COMMENT ON COLUMN lms.ops_metrics.course_completions_1h IS 'Course completions that earned points in the last hour';
COMMENT ON COLUMN lms.ops_metrics.learners_scoring_1h IS 'Distinct learners who earned points in the last hour (the active learners)';

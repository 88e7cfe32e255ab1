-- Point rules and custom events: the new tables (docs/gamification.md#point-rules). This file is
-- also the upgrade step extension/upgrade/1.0--1.1/36_point_rule_schema.sql (a link to it):
-- everything here is new in 1.1. The changes to 1.0 tables are in 10_tables.sql and
-- 85_gamification.sql, and for an update in the step 37_point_rules.sql; the functions in
-- 84_point_rules.sql and extension/point_rules.c.

-- Ledger reasons (extension/rules.c): built-in ones and custom events, [a-z][a-z0-9_]{0,63}
-- (the ledger's and the achievements' CHECKs); a custom event's reason is any valid one that is
-- not built in; every reason but recalculation counts for a period (week and month boards,
-- league weeks).
CREATE FUNCTION lms.reason_is_valid(reason text) RETURNS boolean
  AS 'MODULE_PATHNAME', 'lms_reason_is_valid' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lms.reason_is_custom(reason text) RETURNS boolean
  AS 'MODULE_PATHNAME', 'lms_reason_is_custom' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lms.reason_in_period(reason text) RETURNS boolean
  AS 'MODULE_PATHNAME', 'lms_reason_in_period_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Whether an admin may set a rule to this value (the rules, their defaults and limits live in
-- extension/point_rules.c): the table's CHECK and the PUT route ask the same question.
CREATE FUNCTION lms.point_rule_allows(rule text, course_id bigint, points int) RETURNS boolean
  AS 'MODULE_PATHNAME', 'lms_point_rule_allows' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- The points per kind of event an admin set, for every course (course_id NULL) or for one
-- course. A rule without a row has its default; nothing is seeded, so a dump restores cleanly.
CREATE TABLE lms.point_rules (
  rule text NOT NULL,
  course_id bigint REFERENCES lms.courses ON DELETE CASCADE,
  points int NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT lms.clock(),
  updated_by bigint REFERENCES lms.users ON DELETE SET NULL,
  CONSTRAINT point_rules_one UNIQUE NULLS NOT DISTINCT (rule, course_id),
  CONSTRAINT point_rules_allowed CHECK (lms.point_rule_allows(rule, course_id, points))
);

-- One row per recalculation: what it was asked (every course, or one), the rules it applied,
-- what it corrected. Its id is in the source key of every correction it wrote.
CREATE TABLE lms.point_recalculations (
  id bigserial PRIMARY KEY,
  course_id bigint,                 -- NULL: every course
  actor_id bigint REFERENCES lms.users ON DELETE SET NULL,
  started_at timestamptz NOT NULL,
  took_ms bigint,
  events bigint,                    -- past events re-scored
  corrections bigint,               -- ledger rows written
  learners bigint,
  points bigint,                    -- their sum
  rules jsonb NOT NULL
);

-- Custom events per learner and reason (forum_post, live_session ...): what an achievement of
-- kind reason_count compares with its threshold. Kept by the scoring code with each award.
CREATE TABLE lms.learner_reason_counts (
  user_id bigint NOT NULL REFERENCES lms.users ON DELETE CASCADE,
  reason text NOT NULL,
  events bigint NOT NULL,
  PRIMARY KEY (user_id, reason)
);

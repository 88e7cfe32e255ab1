-- The business rules SQL shares with the C code: each is written once, in C (rules.c), and
-- these are its SQL face, so the PL/pgSQL routes, the views and recompute cannot drift from
-- the hot paths (tests/regress/sql/rules.sql compares both sides at the boundaries).

-- An enrollment that grants access at an instant (NULL: lms.clock()): completed, or active
-- and not past expires_at.
CREATE FUNCTION lms.enrollment_live(status text, expires_at timestamptz, at timestamptz)
RETURNS boolean
  AS 'MODULE_PATHNAME', 'lms_enrollment_live_sql' LANGUAGE C STABLE PARALLEL SAFE;

-- The status an enrollment reads as now: 'active' past expires_at reads as 'expired'.
CREATE FUNCTION lms.effective_status(status text, expires_at timestamptz) RETURNS text
  AS 'MODULE_PATHNAME', 'lms_effective_status' LANGUAGE C STABLE PARALLEL SAFE;

-- part / whole as a percentage with two decimals, at most 100, rounded half up; 0.00 when
-- whole is 0 (progress of an enrollment or a module).
CREATE FUNCTION lms.progress_percentage(part int, whole int) RETURNS numeric
  AS 'MODULE_PATHNAME', 'lms_progress_percentage' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Level n starts at 100*n*(n-1)/2 points: 0 -> 1, 100 -> 2, 300 -> 3, 600 -> 4.
CREATE FUNCTION lms.level_for(points bigint) RETURNS int
  AS 'MODULE_PATHNAME', 'lms_level_for' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The points ledger's source key of an award, '<kind>:<user id>:<ref>': what makes an award
-- happen once ('lesson:7:42', 'achievement:7:first_lesson', 'streak:7:2026-03-02').
CREATE FUNCTION lms.source_key(kind text, user_id bigint, ref text) RETURNS text
  AS 'MODULE_PATHNAME', 'lms_source_key_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The point rules (point_rules.c): what each kind of event earns.
-- The points of a rule for a course (NULL: every course): the course's own value, else the
-- value for every course, else the default.
CREATE FUNCTION lms.point_rule(rule text, course_id bigint DEFAULT NULL) RETURNS int
  AS 'MODULE_PATHNAME', 'lms_point_rule_sql' LANGUAGE C STABLE PARALLEL SAFE;

-- A rule's default; NULL for a name that is not a rule.
CREATE FUNCTION lms.point_rule_default(rule text) RETURNS int
  AS 'MODULE_PATHNAME', 'lms_point_rule_default' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- What completing a lesson earns: its own points, or (NULL) its kind's rule for its course.
CREATE FUNCTION lms.lesson_points(kind text, course_id bigint, points int) RETURNS int
  AS 'MODULE_PATHNAME', 'lms_lesson_points_sql' LANGUAGE C STABLE PARALLEL SAFE;

-- The hour a timestamp falls in: whole hours since 2000-01-01 UTC. The hour slots of the boards'
-- tie groups (lms.board_slots) and of the courses' activity counts (lms.course_activity).
CREATE FUNCTION lms.hour_of(ts timestamptz) RETURNS bigint
  AS 'MODULE_PATHNAME', 'lms_hour_of_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

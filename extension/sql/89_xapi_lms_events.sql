-- From progress to the LRS: the statements lms emits for its own events, in the transaction of
-- the event (docs/xapi.md, "From progress to the LRS"; when and what: extension/xapi_emit.c).
-- They are the learner's (actor: lms.xapi_agent_of), about lessons and courses as
-- lms.xapi_activity_iri names them, stamped with lms's own authority, and served, filtered
-- and paged like any other statement (89_xapi_statements.sql).
--
--   event                                     verb           object                 statements
--   enrollment created or re-activated        registered     the course             one per start
--   the lesson's percentage reaches 25/50/75%  progressed     the lesson             one per quarter
--   the lesson completes                      completed      the lesson             one (none when a
--                                                                                    provider's `completed`
--                                                                                    statement did it)
--   the course completes                      completed      the course             one
--   a quiz attempt                            passed/failed  the quiz's lesson      one per attempt
--   points awarded (a ledger row > 0)         earned         the lesson or course   one per ledger row
--                                                            they were earned on
--   an achievement granted                    earned         the achievement        one

-- Whether lms emits statements: the setting lms.xapi_emit.
CREATE FUNCTION lms.xapi_emit_enabled() RETURNS boolean
  AS 'MODULE_PATHNAME', 'lms_xapi_emit_enabled' LANGUAGE C STABLE PARALLEL SAFE;

-- The id of the statement recording an event: the first 128 bits of SHA-256(secret, event
-- key) as a version-8 (custom) UUID.
CREATE FUNCTION lms.xapi_event_id(secret bytea, event_key text) RETURNS uuid
  AS 'MODULE_PATHNAME', 'lms_xapi_event_id' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The registration (xAPI context.registration) of everything a learner does in a course, one
-- per enrollment: GET /xapi/statements?registration= finds the learner's record in the course.
CREATE FUNCTION lms.xapi_registration(enrollment_id bigint) RETURNS uuid
  AS 'MODULE_PATHNAME', 'lms_xapi_registration' LANGUAGE C STABLE STRICT;

-- passed / failed for a quiz attempt (the attempt route), and earned for an achievement (the
-- set-based grant): the SQL event sites of extension/xapi_emit.c.
CREATE FUNCTION lms.xapi_emit_attempt(attempt_id bigint) RETURNS void
  AS 'MODULE_PATHNAME', 'lms_xapi_emit_attempt' LANGUAGE C VOLATILE STRICT;
CREATE FUNCTION lms.xapi_emit_achievement(user_id bigint, achievement_id bigint) RETURNS void
  AS 'MODULE_PATHNAME', 'lms_xapi_emit_achievement' LANGUAGE C VOLATILE STRICT;

-- Progress: the hot write (C, progress.c) and the reads of the counters it maintains.
-- Every progress write is O(1): counters on lms.enrollments (completed_lessons, last activity)
-- and lms.module_progress are maintained by the write; lms.courses.lesson_count by the catalog.

-- The SQL interface of POST /progress/lessons/{id}: the same document, errors raised
-- (P0002 lesson not found, 42501 not enrolled / locked, 22023 invalid values).
CREATE FUNCTION lms.record_progress(user_id bigint, lesson_id bigint, watched_seconds int,
                                    last_position_seconds int, completion_percentage numeric)
RETURNS jsonb
  AS 'MODULE_PATHNAME', 'lms_record_progress' LANGUAGE C VOLATILE STRICT;

-- The same with `completed` (text lessons complete with completed => true; NULL: not sent).
CREATE FUNCTION lms.record_progress(user_id bigint, lesson_id bigint, watched_seconds int,
                                    last_position_seconds int, completion_percentage numeric,
                                    completed boolean)
RETURNS jsonb
  AS 'MODULE_PATHNAME', 'lms_record_progress' LANGUAGE C VOLATILE;

-- The quiz pass: completes the lesson through the same exactly-once path.
-- {lesson_completed (true only for the call that completed it), points_awarded, course_completed}
CREATE FUNCTION lms.complete_lesson(user_id bigint, lesson_id bigint) RETURNS jsonb
  AS 'MODULE_PATHNAME', 'lms_complete_lesson' LANGUAGE C VOLATILE STRICT;

-- The same for a completion reported over xAPI (89_xapi_lessons.sql): reported = by a
-- `completed` statement, which is then the record: lms emits no `completed` of its own.
CREATE FUNCTION lms.complete_lesson(user_id bigint, lesson_id bigint, reported boolean) RETURNS jsonb
  AS 'MODULE_PATHNAME', 'lms_complete_lesson' LANGUAGE C VOLATILE STRICT;

-- One row from the counters (no row when the learner never enrolled, or for NULL ids): O(1)
-- whatever the course size. status reads 'expired' for an active enrollment past expires_at.
-- Deliberately not STRICT and without SET options, so the planner inlines it into the caller's
-- query (a prepared caller then runs two index lookups and nothing else).
CREATE FUNCTION lms.course_progress(user_id bigint, course_id bigint)
RETURNS TABLE (total_lessons int, completed_lessons int, progress_percentage numeric, status text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT c.lesson_count,
         LEAST(e.completed_lessons, c.lesson_count),
         lms.progress_percentage(e.completed_lessons, c.lesson_count),
         lms.effective_status(e.status, e.expires_at)
  FROM lms.enrollments e JOIN lms.courses c ON c.id = e.course_id
  WHERE e.user_id = course_progress.user_id AND e.course_id = course_progress.course_id;
END;

-- POST /progress/lessons/{id} (C, api_progress.c).
CREATE FUNCTION lms.api_progress_record(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
  AS 'MODULE_PATHNAME', 'lms_api_progress_record'
  LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- GET /progress/courses/{id}: the learner's course progress with the module breakdown
-- (C, api_progress_course.c). Readable with an active, completed or expired enrollment (expired
-- learners keep read access); a dropped learner, or one who never enrolled, gets 403 not_enrolled.
CREATE FUNCTION lms.api_progress_course(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
  AS 'MODULE_PATHNAME', 'lms_api_progress_course'
  LANGUAGE C STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

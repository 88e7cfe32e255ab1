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

-- GET /progress/courses/{id}: the learner's course progress with the module breakdown.
-- Readable with an active, completed or expired enrollment (expired learners keep read
-- access); a dropped learner, or one who never enrolled, gets 403 not_enrolled.
CREATE FUNCTION lms.api_progress_course(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true, id => true);
  uid bigint := (req.who).user_id;
  cid bigint := req.id;
  e lms.enrollments;
  c lms.courses;
  mods jsonb;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  SELECT * INTO c FROM lms.courses WHERE id = cid;
  IF c.id IS NULL THEN RETURN lms.not_found('Course'); END IF;
  SELECT * INTO e FROM lms.enrollments WHERE user_id = uid AND course_id = cid;
  IF e.id IS NULL OR e.status = 'dropped' THEN
    RETURN lms.problem(403, 'not_enrolled', 'You are not enrolled in this course.');
  END IF;
  SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'module_id', m.id, 'title', m.title, 'total_lessons', m.lesson_count,
           'completed_lessons', LEAST(coalesce(mp.completed_lessons, 0), m.lesson_count),
           'progress_percentage', lms.progress_percentage(coalesce(mp.completed_lessons, 0), m.lesson_count))
           ORDER BY m.position, m.id), '[]')
    INTO mods
    FROM lms.modules m
    LEFT JOIN lms.module_progress mp ON mp.user_id = uid AND mp.module_id = m.id
   WHERE m.course_id = cid;
  RETURN lms.ok(200, (SELECT pg_catalog.jsonb_build_object(
    'course_id', cid, 'total_lessons', p.total_lessons, 'completed_lessons', p.completed_lessons,
    'progress_percentage', p.progress_percentage, 'status', p.status,
    'last_lesson_id', e.last_lesson_id, 'last_position_seconds', e.last_position_seconds,
    'modules', mods)
    FROM lms.course_progress(uid, cid) p));
END
$$;

-- Enrollment: the lesson access check, lms.is_enrolled, enroll and drop (C, enrollment.c),
-- seats left, the contract's `enrollment` object, and the enrollment API functions.
-- A completed enrollment never expires (completion is permanent); expiry (access_days)
-- applies to active enrollments: past expires_at they read as 'expired', keep read access to
-- progress, and accept no new progress.

-- 'ok' | 'not_found' | 'unauthenticated' | 'not_enrolled' | 'lesson_locked' (user_id NULL:
-- anonymous). Admins and the course owner always get 'ok'.
CREATE FUNCTION lms.lesson_access(user_id bigint, lesson_id bigint) RETURNS text
  AS 'MODULE_PATHNAME', 'lms_lesson_access' LANGUAGE C STABLE PARALLEL SAFE;

-- An active enrollment not past expires_at, or a completed one.
CREATE FUNCTION lms.is_enrolled(user_id bigint, course_id bigint) RETURNS boolean
  AS 'MODULE_PATHNAME', 'lms_is_enrolled' LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- The enroll rules; result 'created' | 'reactivated' | 'existing' | 'not_found' |
-- 'enrollment_closed' | 'prerequisites_not_met' | 'course_full'.
CREATE FUNCTION lms.enroll(user_id bigint, course_id bigint, OUT result text, OUT enrollment_id bigint)
  AS 'MODULE_PATHNAME', 'lms_enroll' LANGUAGE C VOLATILE STRICT;

-- Drop a live enrollment and free its seat; false when there is none.
CREATE FUNCTION lms.unenroll(user_id bigint, course_id bigint) RETURNS boolean
  AS 'MODULE_PATHNAME', 'lms_unenroll' LANGUAGE C VOLATILE STRICT;

-- Seats a new learner could take now: capacity minus active and completed enrollments, not
-- counting active ones already past expires_at (their seats are released on the next enroll).
-- NULL without a capacity. One row read plus a range scan of enrollments_overdue.
CREATE FUNCTION lms.seats_left(course_id bigint) RETURNS int
LANGUAGE sql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN (SELECT GREATEST(0, c.capacity - c.seats_taken
                           + (SELECT count(*) FROM lms.enrollments e
                              WHERE e.course_id = c.id AND e.status = 'active'
                                AND e.expires_at IS NOT NULL AND e.expires_at <= lms.clock())::int)
        FROM lms.courses c WHERE c.id = seats_left.course_id);

-- The contract's `enrollment` object (status 'expired' for an active one past expires_at).
CREATE FUNCTION lms.enrollment_json(e lms.enrollments) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN (SELECT pg_catalog.jsonb_build_object(
          'id', e.id, 'user_id', e.user_id, 'course_id', e.course_id,
          'status', lms.effective_status(e.status, e.expires_at),
          'progress_percentage', lms.progress_percentage(e.completed_lessons, c.lesson_count),
          'completed_lessons', e.completed_lessons, 'total_lessons', c.lesson_count,
          'enrolled_at', lms.iso(e.enrolled_at), 'completed_at', lms.iso(e.completed_at),
          'expires_at', lms.iso(e.expires_at), 'last_activity_at', lms.iso(e.last_activity_at))
        FROM lms.courses c WHERE c.id = e.course_id);

-- POST /courses/{id}/enroll -> 201 enrollment (new or re-activated), 200 when already enrolled.
CREATE FUNCTION lms.api_enroll(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true, id => true);
  uid bigint := (req.who).user_id;
  cid bigint := req.id;
  r record;
  e lms.enrollments;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  r := lms.enroll(uid, cid);
  CASE r.result
    WHEN 'not_found' THEN RETURN lms.not_found('Course');
    WHEN 'enrollment_closed' THEN
      RETURN lms.problem(403, 'enrollment_closed', 'Enrollment for this course is not open now.');
    WHEN 'prerequisites_not_met' THEN
      RETURN lms.problem(403, 'prerequisites_not_met', 'Complete every prerequisite course first.');
    WHEN 'course_full' THEN
      RETURN lms.problem(409, 'course_full', 'The course has no seat left.');
    ELSE
      SELECT * INTO e FROM lms.enrollments WHERE id = r.enrollment_id;
      RETURN lms.ok(CASE r.result WHEN 'existing' THEN 200 ELSE 201 END, lms.enrollment_json(e));
  END CASE;
END
$$;

-- DELETE /courses/{id}/enroll -> 204, status dropped, seat freed; 404 when not enrolled.
CREATE FUNCTION lms.api_unenroll(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true, id => true);
  uid bigint := (req.who).user_id;
  cid bigint := req.id;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  IF NOT lms.unenroll(uid, cid) THEN
    RETURN lms.problem(404, 'not_found', 'You are not enrolled in this course.');
  END IF;
  RETURN ROW(204, NULL)::lms.api_response;
END
$$;

-- GET /enrollments/me ?status,page,limit -> page of enrollment + course_title, newest first.
CREATE FUNCTION lms.api_enrollments_me(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true);
  uid bigint := (req.who).user_id;
  pg lms.paging := lms.paging(coalesce(query, '{}'));
  st text := query->>'status';
  total bigint;
  items jsonb;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  IF pg.problem IS NOT NULL THEN RETURN pg.problem; END IF;
  IF st IS NOT NULL AND st NOT IN ('active', 'completed', 'dropped', 'expired') THEN
    RETURN lms.invalid('status', 'must be one of active, completed, dropped, expired');
  END IF;
  WITH mine AS (
    SELECT e, lms.effective_status(e.status, e.expires_at) AS shown
    FROM lms.enrollments e WHERE e.user_id = uid
  ), f AS (
    SELECT m.e FROM mine m WHERE st IS NULL OR m.shown = st
  )
  SELECT (SELECT count(*) FROM f),
         coalesce((SELECT pg_catalog.jsonb_agg(x.doc ORDER BY x.enrolled_at DESC, x.id DESC)
                   FROM (SELECT lms.enrollment_json(f.e) || pg_catalog.jsonb_build_object('course_title', c.title) AS doc,
                                (f.e).enrolled_at, (f.e).id
                         FROM f JOIN lms.courses c ON c.id = (f.e).course_id
                         ORDER BY (f.e).enrolled_at DESC, (f.e).id DESC
                         LIMIT pg.lim OFFSET (pg.page - 1)::bigint * pg.lim) x), '[]')
  INTO total, items;
  RETURN lms.ok(200, pg_catalog.jsonb_build_object('items', items, 'page', pg.page, 'limit', pg.lim, 'total', total));
END
$$;

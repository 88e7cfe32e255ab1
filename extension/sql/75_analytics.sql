-- Instructor analytics: GET /courses/{id}/analytics and GET /courses/{id}/students (owner, admin).
-- Cold paths: they aggregate the course's enrollments and progress at read time.

-- Progress of one enrollment in percent, as analytics shows it: lms.progress_percentage, but
-- a plain 0 (not 0.00) for a course without lessons, as 1.0 answered.
CREATE FUNCTION lms.analytics_progress(completed_lessons int, lesson_count int) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE WHEN lesson_count > 0 THEN lms.progress_percentage(completed_lessons, lesson_count) ELSE 0 END;

-- 401 / 404 / 403 for the owner-or-admin course routes; NULL when the caller may go on.
CREATE FUNCTION lms.course_owner_check(me lms.caller, course_id bigint) RETURNS lms.api_response
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  owner bigint;
BEGIN
  IF me.user_id IS NULL THEN RETURN lms.unauthenticated(); END IF;
  SELECT c.instructor_id INTO owner FROM lms.courses c WHERE c.id = course_owner_check.course_id;
  IF NOT FOUND THEN RETURN lms.not_found('Course'); END IF;
  IF me.role <> 'admin' AND owner <> me.user_id THEN
    RETURN lms.forbidden('Only the course owner or an admin may see this.');
  END IF;
  RETURN NULL;
END
$$;

-- GET /courses/{id}/analytics. Definitions (see also the view lms.course_stats, which this reads):
--   enrollments: active (not past expires_at), completed, dropped, expired, total (all of them);
--   completion_rate = completed / (active + completed) * 100; average_progress = mean progress
--   over active and completed enrollments (both 0 when there are none, 2 decimals);
--   active_learners_7d = learners of the course with activity in the last 7 days;
--   points_awarded_total = sum of the points ledger's entries carrying the course;
--   lessons[] (every lesson of the course, in module then lesson order): started = learners with
--   progress on it, completed = learners who completed it, completion_rate = completed / started * 100.
CREATE FUNCTION lms.api_course_analytics(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body);
  cid bigint := req.id;
  p lms.api_response := lms.course_owner_check(req.who, cid);
  s record;
  learners7 int;
  pts bigint := 0;
  lessons jsonb;
BEGIN
  IF p.status IS NOT NULL THEN RETURN p; END IF;
  SELECT * INTO s FROM lms.course_stats cs WHERE cs.course_id = cid;
  SELECT count(*) INTO learners7 FROM lms.enrollments e
   WHERE e.course_id = cid AND e.last_activity_at > lms.clock() - interval '7 days';
  -- the per-learner course totals sum the same ledger rows, one row per learner instead of one per award
  SELECT coalesce(sum(cs.points), 0) INTO pts FROM lms.course_scores cs WHERE cs.course_id = cid;
  SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'lesson_id', x.id, 'module_id', x.module_id, 'title', x.title, 'position', x.position,
           'kind', x.kind, 'is_published', x.is_published,
           'started', x.started, 'completed', x.completed,
           'completion_rate', CASE WHEN x.started > 0 THEN pg_catalog.round(x.completed * 100.0 / x.started, 2) ELSE 0 END)
         ORDER BY x.module_position, x.position, x.id), '[]')
    INTO lessons
    FROM (SELECT le.id, le.module_id, le.title, le.position, le.kind, le.is_published,
                 m.position AS module_position,
                 n.started, n.completed
            FROM lms.lessons le JOIN lms.modules m ON m.id = le.module_id
            -- one pass over each lesson's progress rows for both counts
            CROSS JOIN LATERAL (SELECT count(*) AS started, count(*) FILTER (WHERE lp.is_completed) AS completed
                                  FROM lms.lesson_progress lp WHERE lp.lesson_id = le.id) n
           WHERE le.course_id = cid) x;
  RETURN lms.ok(200, pg_catalog.jsonb_build_object(
    'course_id', cid,
    'enrollments', pg_catalog.jsonb_build_object(
       'active', s.active_enrollments, 'completed', s.completed_enrollments,
       'dropped', s.dropped_enrollments, 'expired', s.expired_enrollments,
       'total', s.active_enrollments + s.completed_enrollments + s.dropped_enrollments + s.expired_enrollments),
    'completion_rate', s.completion_rate,
    'average_progress', s.average_progress,
    'active_learners_7d', learners7,
    'points_awarded_total', pts,
    'lessons', lessons));
END
$$;

-- GET /courses/{id}/students ?page,limit,status: the course's learners in enrollment order,
-- every status unless filtered (status as it reads now: an active enrollment past its access
-- window is 'expired').
CREATE FUNCTION lms.api_course_students(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body);
  cid bigint := req.id;
  p lms.api_response := lms.course_owner_check(req.who, cid);
  pg lms.paging := lms.paging(query);
  want text := query->>'status';
  n int;
  lc int;
  items jsonb;
BEGIN
  IF p.status IS NOT NULL THEN RETURN p; END IF;
  IF (pg.problem).status IS NOT NULL THEN RETURN pg.problem; END IF;
  IF want IS NOT NULL AND want NOT IN ('active', 'completed', 'dropped', 'expired') THEN
    RETURN lms.invalid('status', 'must be one of active, completed, dropped, expired');
  END IF;
  SELECT c.lesson_count INTO lc FROM lms.courses c WHERE c.id = cid;
  SELECT count(*) INTO n FROM lms.enrollments e
   WHERE e.course_id = cid AND (want IS NULL OR lms.effective_status(e.status, e.expires_at) = want);
  SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'user_id', x.user_id, 'display_name', x.display_name, 'status', x.st,
           'progress_percentage', lms.analytics_progress(x.completed_lessons, lc),
           'completed_lessons', x.completed_lessons,
           'enrolled_at', lms.iso(x.enrolled_at),
           'last_activity_at', lms.iso(x.last_activity_at)) ORDER BY x.id), '[]')
    INTO items
    FROM (SELECT e.id, e.user_id, u.display_name, lms.effective_status(e.status, e.expires_at) AS st,
                 e.completed_lessons, e.enrolled_at, e.last_activity_at
            FROM lms.enrollments e JOIN lms.users u ON u.id = e.user_id
           WHERE e.course_id = cid AND (want IS NULL OR lms.effective_status(e.status, e.expires_at) = want)
           ORDER BY e.id
           LIMIT pg.lim OFFSET (pg.page - 1)::bigint * pg.lim) x;
  RETURN lms.ok(200, pg_catalog.jsonb_build_object('items', items, 'page', pg.page, 'limit', pg.lim, 'total', n));
END
$$;

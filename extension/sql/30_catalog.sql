-- The catalog: JSON renderers for courses, modules and lessons, the published-lesson counters,
-- and the read routes GET /courses, GET /courses/{id}, GET /lessons/{id}.
--
-- Functions here are PL/pgSQL or SQL without references to functions defined in later files
-- (lms.caller, lms.seats_left and lms.lesson_access live in the C core), so PL/pgSQL is used
-- wherever those are called: it binds names when it runs, not when it is created.

-- ---------------------------------------------------------------------------------------------
-- Renderers, reused by every route that answers a course, module or lesson.
-- ---------------------------------------------------------------------------------------------

-- The contract's `course` object. Every figure is a stored counter (lesson_count,
-- total_duration_seconds, active_enrollments) or an index probe (seats_left, prerequisites).
CREATE FUNCTION lms.course_json(c lms.courses) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
  RETURN pg_catalog.jsonb_build_object(
    'id', c.id,
    'slug', c.slug,
    'title', c.title,
    'summary', c.summary,
    'category', c.category,
    'instructor', (SELECT pg_catalog.jsonb_build_object('id', u.id, 'display_name', u.display_name)
                   FROM lms.users u WHERE u.id = c.instructor_id),
    'is_published', c.is_published,
    'lesson_count', c.lesson_count,
    'total_duration_seconds', c.total_duration_seconds,
    'enrollment_count', c.active_enrollments,
    'capacity', c.capacity,
    'seats_left', CASE WHEN c.capacity IS NOT NULL THEN lms.seats_left(c.id) END,
    'enroll_opens_at', lms.iso(c.enroll_opens_at),
    'enroll_closes_at', lms.iso(c.enroll_closes_at),
    'access_days', c.access_days,
    'prerequisite_course_ids',
      coalesce((SELECT pg_catalog.jsonb_agg(p.prerequisite_id ORDER BY p.prerequisite_id)
                FROM lms.course_prerequisites p WHERE p.course_id = c.id), '[]'::jsonb),
    'created_at', lms.iso(c.created_at),
    'updated_at', lms.iso(c.updated_at));
END
$$;

-- The contract's `module` object.
CREATE FUNCTION lms.module_json(m lms.modules) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN pg_catalog.jsonb_build_object('id', m.id, 'course_id', m.course_id, 'title', m.title,
                                     'position', m.position);

-- The contract's `lesson` object (without content, video_playback_id and progress, which only
-- GET /lessons/{id} and the authoring answers add). points is what completing it earns: its
-- author's (points_source 'lesson'), else its kind's point rule ('rule').
CREATE FUNCTION lms.lesson_json(l lms.lessons) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN pg_catalog.jsonb_build_object(
  'id', l.id, 'module_id', l.module_id, 'course_id', l.course_id, 'title', l.title,
  'kind', l.kind, 'position', l.position, 'duration_seconds', l.duration_seconds,
  'points', lms.lesson_points(l.kind, l.course_id, l.points),
  'points_source', CASE WHEN l.points IS NULL THEN 'rule' ELSE 'lesson' END,
  'is_preview', l.is_preview, 'is_published', l.is_published,
  'available_from', lms.iso(l.available_from));

-- GET /courses lists published courses newest first: this index serves the filter and the order.
CREATE INDEX courses_published_newest ON lms.courses (created_at DESC, id DESC) WHERE is_published;

-- ---------------------------------------------------------------------------------------------
-- Published-lesson counters.
--
-- courses.lesson_count / total_duration_seconds and modules.lesson_count count published lessons;
-- enrollments.completed_lessons and module_progress.completed_lessons count the completed ones.
-- A trigger on lms.lessons keeps them right for every writer (the authoring API, demo loaders,
-- a DBA's UPDATE, pg_restore): an insert recounts its course and module, an update that does
-- not change publication costs O(1); publishing or
-- unpublishing a lesson also visits the learners who completed it (lesson_progress_by_lesson),
-- since each of their completed_lessons changes. Learners' lesson_progress rows are kept, so
-- republishing gives their completions back. Writers must not adjust these counters themselves.
--
-- Lock order: the lesson row, the course row, the module row, enrollments, module_progress.
-- PATCH /lessons/{id} locks the lesson FOR UPDATE before anything else. For a completion and an
-- unpublish of the same lesson to serialize (so the fix-up below sees every completion, and no
-- completion is counted for a lesson already unpublished), the progress write path must read
-- the lesson with FOR KEY SHARE, which conflicts with FOR UPDATE only. A DBA's plain UPDATE of
-- is_published takes no such lock: do it while no learner is writing progress on that lesson.
-- ---------------------------------------------------------------------------------------------

-- Adds (sign = 1) or removes (sign = -1) one published lesson's share of every counter.
CREATE FUNCTION lms.lesson_counters_apply(l lms.lessons, sign int) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
  UPDATE lms.courses
     SET lesson_count = lesson_count + sign,
         total_duration_seconds = total_duration_seconds + sign * l.duration_seconds
   WHERE id = l.course_id;
  UPDATE lms.modules SET lesson_count = lesson_count + sign WHERE id = l.module_id;

  -- the learners who completed this lesson gain or lose it in their course and module counts
  UPDATE lms.enrollments e
     SET completed_lessons = e.completed_lessons + sign
    FROM lms.lesson_progress lp
   WHERE lp.lesson_id = l.id AND lp.is_completed
     AND e.user_id = lp.user_id AND e.course_id = l.course_id;
  IF sign > 0 THEN
    INSERT INTO lms.module_progress AS mp (user_id, module_id, completed_lessons)
    SELECT lp.user_id, l.module_id, 1
      FROM lms.lesson_progress lp
     WHERE lp.lesson_id = l.id AND lp.is_completed
    ON CONFLICT (user_id, module_id) DO UPDATE SET completed_lessons = mp.completed_lessons + 1;
  ELSE
    UPDATE lms.module_progress mp
       SET completed_lessons = mp.completed_lessons - 1
      FROM lms.lesson_progress lp
     WHERE lp.lesson_id = l.id AND lp.is_completed
       AND mp.user_id = lp.user_id AND mp.module_id = l.module_id;
  END IF;
END
$$;

-- Trigger on lms.lessons: keeps the counters above in step with every insert, update and delete.
CREATE FUNCTION lms.lessons_maintain_counters() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.is_published THEN
      -- A new lesson has no completions yet: only the course and module counts move. They are
      -- recounted rather than incremented, so that pg_restore (which COPYs lessons into courses
      -- whose counters were restored already) ends with the right figures. Recounting is an
      -- index range over one course's lessons: fine for an authoring write. The row locks come
      -- first so that the recount, a statement of its own, sees concurrent inserts.
      PERFORM 1 FROM lms.courses WHERE id = NEW.course_id FOR UPDATE;
      UPDATE lms.courses c
         SET lesson_count = x.n, total_duration_seconds = x.d
        FROM (SELECT count(*) AS n, coalesce(sum(l.duration_seconds), 0) AS d
                FROM lms.lessons l WHERE l.course_id = NEW.course_id AND l.is_published) x
       WHERE c.id = NEW.course_id;
      PERFORM 1 FROM lms.modules WHERE id = NEW.module_id FOR UPDATE;
      UPDATE lms.modules m
         SET lesson_count = (SELECT count(*) FROM lms.lessons l WHERE l.module_id = NEW.module_id AND l.is_published)
       WHERE m.id = NEW.module_id;
    END IF;
    RETURN NULL;
  ELSIF TG_OP = 'DELETE' THEN
    -- BEFORE DELETE: the learners' completions are still there to be subtracted
    IF OLD.is_published THEN
      PERFORM lms.lesson_counters_apply(OLD, -1);
    END IF;
    RETURN OLD;
  END IF;

  -- UPDATE
  IF NEW.module_id <> OLD.module_id OR NEW.course_id <> OLD.course_id THEN
    RAISE EXCEPTION 'a lesson cannot move to another module or course'
      USING ERRCODE = 'feature_not_supported',
            DETAIL = 'Create a new lesson in the other module and unpublish this one.';
  END IF;
  IF OLD.is_published AND NEW.is_published THEN
    IF NEW.duration_seconds <> OLD.duration_seconds THEN
      UPDATE lms.courses
         SET total_duration_seconds = total_duration_seconds + NEW.duration_seconds - OLD.duration_seconds
       WHERE id = NEW.course_id;
    END IF;
  ELSIF OLD.is_published THEN
    PERFORM lms.lesson_counters_apply(OLD, -1);
  ELSIF NEW.is_published THEN
    PERFORM lms.lesson_counters_apply(NEW, 1);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER lessons_counters_write
  AFTER INSERT OR UPDATE OF is_published, duration_seconds, module_id, course_id ON lms.lessons
  FOR EACH ROW EXECUTE FUNCTION lms.lessons_maintain_counters();
CREATE TRIGGER lessons_counters_delete
  BEFORE DELETE ON lms.lessons
  FOR EACH ROW EXECUTE FUNCTION lms.lessons_maintain_counters();

-- ---------------------------------------------------------------------------------------------
-- Read routes.
-- ---------------------------------------------------------------------------------------------

-- GET /courses ?page,limit,category,q,mine
-- Published courses, newest first (created_at desc, then id desc). category is an exact match;
-- q matches title or summary, case-insensitively, as a substring. mine=true lists the courses the
-- caller teaches, drafts included (a valid token is required; a student gets an empty page).
-- An invalid token is ignored unless mine=true (the route is public).
CREATE FUNCTION lms.api_courses_list(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  pg lms.paging := lms.paging(coalesce(query, '{}'));
  mine text := query->>'mine';
  cat text := query->>'category';
  q text := query->>'q';
  pattern text;
  who lms.caller;
  total bigint;
  items jsonb;
  doc jsonb;
BEGIN
  IF pg.problem IS NOT NULL THEN RETURN pg.problem; END IF;
  IF mine IS NOT NULL AND mine NOT IN ('true', 'false') THEN
    RETURN lms.invalid('mine', 'must be true or false');
  END IF;
  IF q IS NOT NULL AND pg_catalog.length(q) > 200 THEN
    RETURN lms.invalid('q', 'must be at most 200 characters');
  END IF;
  IF mine = 'true' THEN
    who := lms.caller(token);
    IF who.user_id IS NULL THEN RETURN lms.unauthenticated(); END IF;
  END IF;
  IF q IS NOT NULL AND q <> '' THEN
    pattern := '%' || pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(q, '\', '\\'), '%', '\%'), '_', '\_') || '%';
  END IF;

  -- Two shapes, so that each is planned for its own index: published courses newest first
  -- (courses_published_newest, the total from the same partial index) or the caller's own.
  IF mine = 'true' THEN
    SELECT count(*) INTO total FROM lms.courses c
     WHERE c.instructor_id = who.user_id
       AND (cat IS NULL OR c.category = cat)
       AND (pattern IS NULL OR c.title ILIKE pattern OR c.summary ILIKE pattern);
    SELECT pg_catalog.jsonb_agg(lms.course_json(p.c) ORDER BY (p.c).created_at DESC, (p.c).id DESC) INTO items
      FROM (SELECT c FROM lms.courses c
             WHERE c.instructor_id = who.user_id
               AND (cat IS NULL OR c.category = cat)
               AND (pattern IS NULL OR c.title ILIKE pattern OR c.summary ILIKE pattern)
             ORDER BY c.created_at DESC, c.id DESC
             LIMIT pg.lim OFFSET (pg.page - 1)::bigint * pg.lim) p;
  ELSE
    SELECT count(*) INTO total FROM lms.courses c
     WHERE c.is_published
       AND (cat IS NULL OR c.category = cat)
       AND (pattern IS NULL OR c.title ILIKE pattern OR c.summary ILIKE pattern);
    SELECT pg_catalog.jsonb_agg(lms.course_json(p.c) ORDER BY (p.c).created_at DESC, (p.c).id DESC) INTO items
      FROM (SELECT c FROM lms.courses c
             WHERE c.is_published
               AND (cat IS NULL OR c.category = cat)
               AND (pattern IS NULL OR c.title ILIKE pattern OR c.summary ILIKE pattern)
             ORDER BY c.created_at DESC, c.id DESC
             LIMIT pg.lim OFFSET (pg.page - 1)::bigint * pg.lim) p;
  END IF;
  doc := pg_catalog.jsonb_build_object('items', coalesce(items, '[]'::jsonb), 'page', pg.page,
                                       'limit', pg.lim, 'total', total);
  RETURN lms.ok(200, doc);
END
$$;

-- GET /courses/{id}: the course with its modules and their lessons in position order.
-- Drafts and unpublished lessons are visible to the owner and admins only (404 / left out for
-- everyone else); an invalid token reads as anonymous. Lesson items carry is_published too.
CREATE FUNCTION lms.api_course_get(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, id => true);
  cid bigint := req.id;
  who lms.caller;
  c lms.courses;
  see_all boolean := false;
  doc jsonb;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  SELECT * INTO c FROM lms.courses WHERE id = cid;
  IF NOT FOUND THEN RETURN lms.not_found('Course'); END IF;
  IF token IS NOT NULL THEN
    who := req.who;
    see_all := who.role = 'admin' OR who.user_id = c.instructor_id;
    see_all := coalesce(see_all, false);
  END IF;
  IF NOT c.is_published AND NOT see_all THEN RETURN lms.not_found('Course'); END IF;

  SELECT lms.course_json(c) || pg_catalog.jsonb_build_object('modules', coalesce(pg_catalog.jsonb_agg(
           pg_catalog.jsonb_build_object(
             'id', m.id, 'title', m.title, 'position', m.position,
             'lessons', coalesce((
                SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                         'id', l.id, 'title', l.title, 'position', l.position, 'kind', l.kind,
                         'duration_seconds', l.duration_seconds,
                         'points', lms.lesson_points(l.kind, l.course_id, l.points),
                         'points_source', CASE WHEN l.points IS NULL THEN 'rule' ELSE 'lesson' END,
                         'is_preview', l.is_preview, 'is_published', l.is_published,
                         'available_from', lms.iso(l.available_from))
                       ORDER BY l.position, l.id)
                  FROM lms.lessons l
                 WHERE l.module_id = m.id AND (l.is_published OR see_all)), '[]'::jsonb))
           ORDER BY m.position, m.id), '[]'::jsonb))
    INTO doc
    FROM lms.modules m WHERE m.course_id = c.id;
  RETURN lms.ok(200, doc);
END
$$;

-- The caller's progress on one lesson, as GET /lessons/{id} shows it (NULL when none).
CREATE FUNCTION lms.lesson_progress_json(user_id bigint, lesson_id bigint) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN (SELECT pg_catalog.jsonb_build_object(
                 'watched_seconds', lp.watched_seconds,
                 'last_position_seconds', lp.last_position_seconds,
                 'completion_percentage', lp.completion_percentage,
                 'is_completed', lp.is_completed,
                 'completed_at', lms.iso(lp.completed_at))
          FROM lms.lesson_progress lp
         WHERE lp.user_id = lesson_progress_json.user_id AND lp.lesson_id = lesson_progress_json.lesson_id);

-- GET /lessons/{id}: the lesson with content, video_playback_id, its quiz's id (null when it has
-- none: GET /quizzes/{id} takes the quiz id) and the caller's progress.
-- Who may read it is lms.lesson_access's answer (enrolled, owner, admin, preview; available_from;
-- unpublished course or lesson). An invalid token reads as anonymous, so preview lessons stay
-- readable and every other lesson answers 401.
CREATE FUNCTION lms.api_lesson_get(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, id => true);
  lid bigint := req.id;
  who lms.caller := req.who;
  l lms.lessons;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  CASE lms.lesson_access(who.user_id, lid)
    WHEN 'ok' THEN NULL;
    WHEN 'unauthenticated' THEN RETURN lms.unauthenticated();
    WHEN 'not_enrolled' THEN
      RETURN lms.problem(403, 'not_enrolled', 'Enroll in the course to read this lesson.');
    WHEN 'lesson_locked' THEN
      RETURN lms.problem(403, 'lesson_locked', 'This lesson is not available yet.');
    ELSE RETURN lms.not_found('Lesson');
  END CASE;
  SELECT * INTO l FROM lms.lessons WHERE id = lid;
  IF NOT FOUND THEN RETURN lms.not_found('Lesson'); END IF;
  RETURN lms.ok(200, lms.lesson_json(l) || pg_catalog.jsonb_build_object(
    'content', l.content,
    'video_playback_id', l.video_playback_id,
    'quiz_id', (SELECT q.id FROM lms.quizzes q WHERE q.lesson_id = l.id),
    'progress', CASE WHEN who.user_id IS NOT NULL THEN lms.lesson_progress_json(who.user_id, lid) END));
END
$$;

-- Authoring: POST/PATCH of courses, publishing, modules and lessons (owner or admin).
-- Cold paths in PL/pgSQL. Each route: 401 without a valid token, 400 invalid_id, 404 unknown
-- id, 403 when the caller is neither the owner nor an admin (or, to create a course, neither an
-- instructor nor an admin), 400 invalid_json for a missing or non-object body, 400
-- validation_failed listing every bad field, then the write, one audit row, and the object.
-- The course row is locked (FOR UPDATE) before any of its modules or lessons is written, which
-- serializes authoring on one course; PATCH /lessons/{id} locks the lesson row just before it.
-- Unknown body fields are ignored.

-- ---------------------------------------------------------------------------------------------
-- Input helpers.
-- ---------------------------------------------------------------------------------------------

-- A JSON number that is a whole number between lo and hi, else NULL.
CREATE FUNCTION lms.authoring_int(v jsonb, lo numeric, hi numeric) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN pg_catalog.jsonb_typeof(v) IS DISTINCT FROM 'number' THEN NULL
            WHEN v::numeric <> pg_catalog.trunc(v::numeric) THEN NULL
            WHEN v::numeric < lo OR v::numeric > hi THEN NULL
            ELSE v::numeric::bigint END;

-- A JSON string holding an ISO 8601 date or timestamp, else NULL. Without a zone it is UTC
-- (never the session's time zone).
CREATE FUNCTION lms.authoring_ts(v jsonb) RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
  s text;
BEGIN
  IF pg_catalog.jsonb_typeof(v) IS DISTINCT FROM 'string' THEN RETURN NULL; END IF;
  s := v #>> '{}';
  IF s !~ '^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}(:?\d{2})?)?)?$' THEN
    RETURN NULL;
  END IF;
  IF s ~ '[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}(:?\d{2})?)$' THEN
    RETURN s::timestamptz;
  END IF;
  RETURN s::timestamp AT TIME ZONE 'UTC';
EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format OR data_exception THEN
  RETURN NULL;
END
$$;

-- A slug from a title: lowercase, common Latin accents dropped, every run of other characters
-- than a-z and 0-9 becomes one hyphen, at most 100 characters (room for a -N suffix), 'course'
-- when nothing is left.
CREATE FUNCTION lms.slugify(title text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN coalesce(nullif(pg_catalog.rtrim(pg_catalog.left(pg_catalog.btrim(
         pg_catalog.regexp_replace(
           pg_catalog.translate(pg_catalog.lower(title),
                                'àáâãäåāăąçćčďèéêëēėęěìíîïīįłñńňòóôõöøōőŕřśšşťţùúûüūůűųýÿźżž',
                                'aaaaaaaaacccdeeeeeeeeiiiiiilnnnoooooooorrsssttuuuuuuuuyyzzz'),
           '[^a-z0-9]+', '-', 'g'), '-'), 100), '-'), ''),
       'course');

-- The caller may author this course: its instructor, or an admin.
CREATE FUNCTION lms.may_author(who lms.caller, instructor_id bigint) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(who.role = 'admin' OR who.user_id = instructor_id, false);

-- The body's known fields, for the audit row (lesson content is recorded by length only).
CREATE FUNCTION lms.audit_fields(body jsonb, known text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce((SELECT pg_catalog.jsonb_object_agg(e.key,
                          CASE WHEN e.key = 'content' AND pg_catalog.jsonb_typeof(e.value) = 'string'
                               THEN pg_catalog.to_jsonb(pg_catalog.length(e.value #>> '{}')) ELSE e.value END)
                   FROM pg_catalog.jsonb_each(body) e WHERE e.key = ANY (known)), '{}'::jsonb);

-- Validates a course body against the current row (cur.id NULL: a new course) and returns the
-- row with the changes applied, the prerequisite ids (NULL when not given) and every error.
CREATE FUNCTION lms.course_input(body jsonb, cur lms.courses,
                                 OUT c lms.courses, OUT prereqs bigint[], OUT errors jsonb)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  creating boolean := cur.id IS NULL;
  v jsonb;
  e jsonb;
  n bigint;
  ts timestamptz;
  bad_window boolean := false;
  unknown bigint[];
BEGIN
  c := cur;
  errors := '[]';

  IF body ? 'title' THEN
    v := body->'title';
    IF pg_catalog.jsonb_typeof(v) IS DISTINCT FROM 'string'
       OR pg_catalog.length(pg_catalog.btrim(v #>> '{}')) NOT BETWEEN 1 AND 200 THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'title', 'message', 'must be a non-empty string of at most 200 characters');
    ELSE
      c.title := pg_catalog.btrim(v #>> '{}');
    END IF;
  ELSIF creating THEN
    errors := errors || pg_catalog.jsonb_build_object('field', 'title', 'message', 'is required');
  END IF;

  IF body ? 'slug' AND (NOT creating OR body->'slug' <> 'null') THEN
    v := body->'slug';
    IF pg_catalog.jsonb_typeof(v) IS DISTINCT FROM 'string'
       OR (v #>> '{}') !~ '^[a-z0-9]+(-[a-z0-9]+)*$' OR pg_catalog.length(v #>> '{}') > 120 THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'slug', 'message', 'must be lowercase letters and digits in words joined by single hyphens, at most 120 characters');
    ELSE
      c.slug := v #>> '{}';
    END IF;
  END IF;

  IF body ? 'summary' THEN
    v := body->'summary';
    IF v = 'null' THEN
      c.summary := '';
    ELSIF pg_catalog.jsonb_typeof(v) <> 'string' OR pg_catalog.length(v #>> '{}') > 5000 THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'summary', 'message', 'must be a string of at most 5000 characters');
    ELSE
      c.summary := v #>> '{}';
    END IF;
  END IF;

  IF body ? 'category' THEN
    v := body->'category';
    IF v = 'null' THEN
      c.category := NULL;
    ELSIF pg_catalog.jsonb_typeof(v) <> 'string' OR pg_catalog.length(v #>> '{}') NOT BETWEEN 1 AND 60 THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'category', 'message', 'must be a string of 1 to 60 characters or null');
    ELSE
      c.category := v #>> '{}';
    END IF;
  END IF;

  IF body ? 'capacity' THEN
    v := body->'capacity';
    n := lms.authoring_int(v, 1, 2147483647);
    IF v <> 'null' AND n IS NULL THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'capacity', 'message', 'must be an integer between 1 and 2147483647 or null');
    ELSE
      c.capacity := n;
    END IF;
  END IF;

  IF body ? 'enroll_opens_at' THEN
    v := body->'enroll_opens_at';
    ts := lms.authoring_ts(v);
    IF v <> 'null' AND ts IS NULL THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'enroll_opens_at', 'message', 'must be an ISO 8601 timestamp or null');
      bad_window := true;
    ELSE
      c.enroll_opens_at := ts;
    END IF;
  END IF;

  IF body ? 'enroll_closes_at' THEN
    v := body->'enroll_closes_at';
    ts := lms.authoring_ts(v);
    IF v <> 'null' AND ts IS NULL THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'enroll_closes_at', 'message', 'must be an ISO 8601 timestamp or null');
      bad_window := true;
    ELSE
      c.enroll_closes_at := ts;
    END IF;
  END IF;
  IF NOT bad_window AND c.enroll_closes_at <= c.enroll_opens_at THEN
    errors := errors || pg_catalog.jsonb_build_object('field', 'enroll_closes_at', 'message', 'must be after enroll_opens_at');
  END IF;

  IF body ? 'access_days' THEN
    v := body->'access_days';
    n := lms.authoring_int(v, 1, 36500);
    IF v <> 'null' AND n IS NULL THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'access_days', 'message', 'must be an integer between 1 and 36500 or null');
    ELSE
      c.access_days := n;
    END IF;
  END IF;

  IF body ? 'prerequisite_course_ids' THEN
    v := body->'prerequisite_course_ids';
    prereqs := '{}';
    IF v = 'null' THEN
      NULL;   -- same as []
    ELSIF pg_catalog.jsonb_typeof(v) <> 'array' OR pg_catalog.jsonb_array_length(v) > 50 THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'prerequisite_course_ids', 'message', 'must be an array of at most 50 course ids');
      prereqs := NULL;
    ELSE
      FOR e IN SELECT x FROM pg_catalog.jsonb_array_elements(v) x LOOP
        n := lms.authoring_int(e, 1, 9223372036854775807);
        IF n IS NULL THEN
          errors := errors || pg_catalog.jsonb_build_object('field', 'prerequisite_course_ids', 'message', 'must contain course ids (positive integers) only');
          prereqs := NULL;
          EXIT;
        END IF;
        IF NOT n = ANY (prereqs) THEN prereqs := prereqs || n; END IF;
      END LOOP;
      IF prereqs IS NOT NULL THEN
        SELECT pg_catalog.array_agg(x ORDER BY x) INTO unknown
          FROM pg_catalog.unnest(prereqs) x
         WHERE NOT EXISTS (SELECT FROM lms.courses k WHERE k.id = x);
        IF unknown IS NOT NULL THEN
          errors := errors || pg_catalog.jsonb_build_object('field', 'prerequisite_course_ids', 'message',
                                'unknown course ids: ' || pg_catalog.array_to_string(unknown, ', '));
        ELSIF cur.id = ANY (prereqs) THEN
          errors := errors || pg_catalog.jsonb_build_object('field', 'prerequisite_course_ids', 'message', 'a course cannot be its own prerequisite');
        ELSIF NOT creating AND EXISTS (
            WITH RECURSIVE r(id) AS (
              SELECT pg_catalog.unnest(prereqs)
              UNION
              SELECT p.prerequisite_id FROM lms.course_prerequisites p JOIN r ON p.course_id = r.id)
            SELECT FROM r WHERE r.id = cur.id) THEN
          errors := errors || pg_catalog.jsonb_build_object('field', 'prerequisite_course_ids', 'message', 'would make a prerequisite cycle');
        END IF;
      END IF;
    END IF;
  END IF;

  IF body ? 'is_published' THEN
    v := body->'is_published';
    IF pg_catalog.jsonb_typeof(v) IS DISTINCT FROM 'boolean' THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'is_published', 'message', 'must be true or false');
    ELSIF creating AND v = 'true' THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'is_published', 'message', 'a new course has no lessons yet; publish it once it has one');
    ELSE
      c.is_published := v::text::boolean;
    END IF;
  END IF;
END
$$;

-- Validates a lesson body against the current row (cur.id NULL: a new lesson) and returns the
-- row with the changes applied and every error.
CREATE FUNCTION lms.lesson_input(body jsonb, cur lms.lessons, OUT l lms.lessons, OUT errors jsonb)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  creating boolean := cur.id IS NULL;
  v jsonb;
  n bigint;
  ts timestamptz;
BEGIN
  l := cur;
  errors := '[]';

  IF body ? 'title' THEN
    v := body->'title';
    IF pg_catalog.jsonb_typeof(v) IS DISTINCT FROM 'string'
       OR pg_catalog.length(pg_catalog.btrim(v #>> '{}')) NOT BETWEEN 1 AND 200 THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'title', 'message', 'must be a non-empty string of at most 200 characters');
    ELSE
      l.title := pg_catalog.btrim(v #>> '{}');
    END IF;
  ELSIF creating THEN
    errors := errors || pg_catalog.jsonb_build_object('field', 'title', 'message', 'is required');
  END IF;

  IF body ? 'kind' THEN
    v := body->'kind';
    IF pg_catalog.jsonb_typeof(v) IS DISTINCT FROM 'string' OR (v #>> '{}') NOT IN ('video', 'text', 'quiz') THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'kind', 'message', 'must be one of video, text, quiz');
    ELSE
      l.kind := v #>> '{}';
    END IF;
  ELSIF creating THEN
    errors := errors || pg_catalog.jsonb_build_object('field', 'kind', 'message', 'is required (video, text or quiz)');
  END IF;

  IF body ? 'duration_seconds' THEN
    n := lms.authoring_int(body->'duration_seconds', 0, 2147483647);
    IF n IS NULL THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'duration_seconds', 'message', 'must be an integer >= 0');
    ELSE
      l.duration_seconds := n;
    END IF;
  END IF;

  IF body ? 'video_playback_id' THEN
    v := body->'video_playback_id';
    IF v = 'null' THEN
      l.video_playback_id := NULL;
    ELSIF pg_catalog.jsonb_typeof(v) <> 'string' OR pg_catalog.length(v #>> '{}') NOT BETWEEN 1 AND 200 THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'video_playback_id', 'message', 'must be a string of 1 to 200 characters or null');
    ELSE
      l.video_playback_id := v #>> '{}';
    END IF;
  END IF;

  IF body ? 'content' THEN
    v := body->'content';
    IF v = 'null' THEN
      l.content := NULL;
    ELSIF pg_catalog.jsonb_typeof(v) <> 'string' THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'content', 'message', 'must be a string or null');
    ELSE
      l.content := v #>> '{}';
    END IF;
  END IF;

  IF body ? 'points' THEN
    -- null: the lesson earns its kind's point rule (and follows it when an admin changes it)
    n := lms.authoring_int(body->'points', 0, 100000);
    IF pg_catalog.jsonb_typeof(body->'points') = 'null' THEN
      l.points := NULL;
    ELSIF n IS NULL THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'points', 'message', 'must be null or an integer between 0 and 100000');
    ELSE
      l.points := n;
    END IF;
  END IF;

  IF body ? 'is_preview' THEN
    v := body->'is_preview';
    IF pg_catalog.jsonb_typeof(v) IS DISTINCT FROM 'boolean' THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'is_preview', 'message', 'must be true or false');
    ELSE
      l.is_preview := v::text::boolean;
    END IF;
  END IF;

  IF body ? 'is_published' THEN
    v := body->'is_published';
    IF pg_catalog.jsonb_typeof(v) IS DISTINCT FROM 'boolean' THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'is_published', 'message', 'must be true or false');
    ELSE
      l.is_published := v::text::boolean;
    END IF;
  END IF;

  IF body ? 'position' THEN
    n := lms.authoring_int(body->'position', 1, 1000000);
    IF n IS NULL THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'position', 'message', 'must be an integer between 1 and 1000000');
    ELSE
      l.position := n;
    END IF;
  END IF;

  IF body ? 'available_from' THEN
    v := body->'available_from';
    ts := lms.authoring_ts(v);
    IF v <> 'null' AND ts IS NULL THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'available_from', 'message', 'must be an ISO 8601 timestamp or null');
    ELSE
      l.available_from := ts;
    END IF;
  END IF;

  IF NOT creating THEN
    IF body ? 'module_id' AND body->'module_id' IS DISTINCT FROM pg_catalog.to_jsonb(cur.module_id) THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'module_id', 'message', 'moving a lesson to another module is not supported; create it in the other module instead');
    END IF;
    IF body ? 'course_id' AND body->'course_id' IS DISTINCT FROM pg_catalog.to_jsonb(cur.course_id) THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'course_id', 'message', 'moving a lesson to another course is not supported');
    END IF;
  END IF;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Courses.
-- ---------------------------------------------------------------------------------------------

-- POST /courses: a draft course owned by the caller (instructor or admin). Without a slug, one is
-- derived from the title, with -2, -3 ... appended when taken; a slug given and taken is 409.
CREATE FUNCTION lms.api_course_create(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true);
  who lms.caller := req.who;
  b jsonb := req.body;
  cur lms.courses;
  inp record;
  c lms.courses;
  base text;
  n int := 1;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  IF who.role NOT IN ('instructor', 'admin') THEN
    RETURN lms.forbidden('Only instructors and admins create courses.');
  END IF;
  IF b IS NULL THEN RETURN lms.invalid_body(); END IF;

  cur.summary := '';
  cur.is_published := false;
  inp := lms.course_input(b, cur);
  IF inp.errors <> '[]' THEN RETURN lms.validation_failed(inp.errors); END IF;
  c := inp.c;

  IF c.slug IS NULL THEN
    base := lms.slugify(c.title);
    c.slug := base;
    WHILE EXISTS (SELECT FROM lms.courses k WHERE k.slug = c.slug) LOOP
      n := n + 1;
      c.slug := base || '-' || n;
    END LOOP;
  END IF;

  BEGIN
    INSERT INTO lms.courses (slug, title, summary, category, instructor_id, capacity,
                             enroll_opens_at, enroll_closes_at, access_days)
    VALUES (c.slug, c.title, c.summary, c.category, who.user_id, c.capacity,
            c.enroll_opens_at, c.enroll_closes_at, c.access_days)
    RETURNING * INTO c;
  EXCEPTION WHEN unique_violation THEN
    RETURN lms.problem(409, 'slug_taken', 'Another course already uses this slug.');
  END;
  IF inp.prereqs IS NOT NULL THEN
    INSERT INTO lms.course_prerequisites (course_id, prerequisite_id)
    SELECT c.id, x FROM pg_catalog.unnest(inp.prereqs) x;
  END IF;

  PERFORM lms.audit(who.user_id, 'course.create', 'course', c.id,
                    lms.audit_fields(b, '{title,slug,summary,category,capacity,enroll_opens_at,enroll_closes_at,access_days,prerequisite_course_ids}')
                    || pg_catalog.jsonb_build_object('slug', c.slug));
  RETURN lms.ok(201, lms.course_json(c));
END
$$;

-- PATCH /courses/{id}: any course field; prerequisite_course_ids replaces the set;
-- is_published:true follows POST /publish (409 course_empty). A capacity below the seats already
-- held (active and completed enrollments) is 409 capacity_below_enrolled.
CREATE FUNCTION lms.api_course_patch(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true, id => true);
  who lms.caller := req.who;
  cid bigint := req.id;
  b jsonb := req.body;
  cur lms.courses;
  inp record;
  c lms.courses;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  SELECT * INTO cur FROM lms.courses WHERE id = cid FOR UPDATE;
  IF NOT FOUND THEN RETURN lms.not_found('Course'); END IF;
  IF NOT lms.may_author(who, cur.instructor_id) THEN
    RETURN lms.forbidden('Only the course''s instructor and admins change it.');
  END IF;
  IF b IS NULL THEN RETURN lms.invalid_body(); END IF;

  inp := lms.course_input(b, cur);
  IF inp.errors <> '[]' THEN RETURN lms.validation_failed(inp.errors); END IF;
  c := inp.c;
  IF c.is_published AND NOT cur.is_published AND cur.lesson_count = 0 THEN
    RETURN lms.problem(409, 'course_empty', 'A course needs at least one published lesson to be published.');
  END IF;
  IF c.capacity < cur.seats_taken THEN
    RETURN lms.problem(409, 'capacity_below_enrolled',
                       pg_catalog.format('%s seats are already taken; the capacity cannot be lower.', cur.seats_taken));
  END IF;

  BEGIN
    UPDATE lms.courses
       SET slug = c.slug, title = c.title, summary = c.summary, category = c.category,
           capacity = c.capacity, enroll_opens_at = c.enroll_opens_at,
           enroll_closes_at = c.enroll_closes_at, access_days = c.access_days,
           is_published = c.is_published, updated_at = lms.clock()
     WHERE id = cid
    RETURNING * INTO c;
  EXCEPTION WHEN unique_violation THEN
    RETURN lms.problem(409, 'slug_taken', 'Another course already uses this slug.');
  END;
  IF inp.prereqs IS NOT NULL THEN
    DELETE FROM lms.course_prerequisites WHERE course_id = cid AND prerequisite_id <> ALL (inp.prereqs);
    INSERT INTO lms.course_prerequisites (course_id, prerequisite_id)
    SELECT cid, x FROM pg_catalog.unnest(inp.prereqs) x
    ON CONFLICT DO NOTHING;
  END IF;

  PERFORM lms.audit(who.user_id, 'course.update', 'course', cid,
                    lms.audit_fields(b, '{title,slug,summary,category,capacity,enroll_opens_at,enroll_closes_at,access_days,prerequisite_course_ids,is_published}'));
  RETURN lms.ok(200, lms.course_json(c));
END
$$;

-- POST /courses/{id}/publish: 409 course_empty without a published lesson; publishing a
-- published course answers 200 again (and is audited again).
CREATE FUNCTION lms.api_course_publish(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true, id => true);
  who lms.caller := req.who;
  cid bigint := req.id;
  c lms.courses;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  SELECT * INTO c FROM lms.courses WHERE id = cid FOR UPDATE;
  IF NOT FOUND THEN RETURN lms.not_found('Course'); END IF;
  IF NOT lms.may_author(who, c.instructor_id) THEN
    RETURN lms.forbidden('Only the course''s instructor and admins publish it.');
  END IF;
  IF c.lesson_count = 0 THEN
    RETURN lms.problem(409, 'course_empty', 'A course needs at least one published lesson to be published.');
  END IF;
  IF NOT c.is_published THEN
    UPDATE lms.courses SET is_published = true, updated_at = lms.clock() WHERE id = cid RETURNING * INTO c;
  END IF;
  PERFORM lms.audit(who.user_id, 'course.publish', 'course', cid);
  RETURN lms.ok(200, lms.course_json(c));
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Modules and lessons. A position is a sort key (ties fall back to the id): without one an item
-- goes last (last position + 1); with one, the items at or after it move down by one.
-- ---------------------------------------------------------------------------------------------

-- POST /courses/{id}/modules {title, position?}
CREATE FUNCTION lms.api_module_create(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true, id => true);
  who lms.caller := req.who;
  cid bigint := req.id;
  b jsonb := req.body;
  c lms.courses;
  m lms.modules;
  errors jsonb := '[]';
  pos bigint;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  SELECT * INTO c FROM lms.courses WHERE id = cid FOR UPDATE;
  IF NOT FOUND THEN RETURN lms.not_found('Course'); END IF;
  IF NOT lms.may_author(who, c.instructor_id) THEN
    RETURN lms.forbidden('Only the course''s instructor and admins add modules.');
  END IF;
  IF b IS NULL THEN RETURN lms.invalid_body(); END IF;

  IF pg_catalog.jsonb_typeof(b->'title') IS DISTINCT FROM 'string'
     OR pg_catalog.length(pg_catalog.btrim(b->>'title')) NOT BETWEEN 1 AND 200 THEN
    errors := errors || pg_catalog.jsonb_build_object('field', 'title', 'message',
                CASE WHEN b ? 'title' THEN 'must be a non-empty string of at most 200 characters' ELSE 'is required' END);
  END IF;
  IF b ? 'position' AND b->'position' <> 'null' THEN
    pos := lms.authoring_int(b->'position', 1, 1000000);
    IF pos IS NULL THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'position', 'message', 'must be an integer between 1 and 1000000');
    END IF;
  END IF;
  IF errors <> '[]' THEN RETURN lms.validation_failed(errors); END IF;

  IF pos IS NULL THEN
    SELECT coalesce(max(k.position), 0) + 1 INTO pos FROM lms.modules k WHERE k.course_id = cid;
  ELSE
    UPDATE lms.modules SET position = position + 1 WHERE course_id = cid AND position >= pos;
  END IF;
  INSERT INTO lms.modules (course_id, title, position)
  VALUES (cid, pg_catalog.btrim(b->>'title'), pos)
  RETURNING * INTO m;

  PERFORM lms.audit(who.user_id, 'module.create', 'module', m.id,
                    pg_catalog.jsonb_build_object('course_id', cid, 'title', m.title, 'position', m.position));
  RETURN lms.ok(201, lms.module_json(m));
END
$$;

-- The lesson as the authoring routes answer it: the lesson object with content and video id.
CREATE FUNCTION lms.lesson_author_json(l lms.lessons) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN lms.lesson_json(l) || pg_catalog.jsonb_build_object('content', l.content,
                                                           'video_playback_id', l.video_playback_id);

-- POST /modules/{id}/lessons: a lesson, published unless is_published:false is sent.
CREATE FUNCTION lms.api_lesson_create(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true, id => true);
  who lms.caller := req.who;
  mid bigint := req.id;
  b jsonb := req.body;
  m lms.modules;
  c lms.courses;
  cur lms.lessons;
  inp record;
  l lms.lessons;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  SELECT * INTO m FROM lms.modules WHERE id = mid;
  IF NOT FOUND THEN RETURN lms.not_found('Module'); END IF;
  SELECT * INTO c FROM lms.courses WHERE id = m.course_id FOR UPDATE;
  IF NOT lms.may_author(who, c.instructor_id) THEN
    RETURN lms.forbidden('Only the course''s instructor and admins add lessons.');
  END IF;
  IF b IS NULL THEN RETURN lms.invalid_body(); END IF;

  cur.duration_seconds := 0;
  cur.points := NULL;    -- its kind's point rule unless the body sets its own
  cur.is_preview := false;
  cur.is_published := true;
  inp := lms.lesson_input(b, cur);
  IF inp.errors <> '[]' THEN RETURN lms.validation_failed(inp.errors); END IF;
  l := inp.l;

  IF l.position IS NULL THEN
    SELECT coalesce(max(k.position), 0) + 1 INTO l.position FROM lms.lessons k WHERE k.module_id = mid;
  ELSE
    UPDATE lms.lessons SET position = position + 1 WHERE module_id = mid AND position >= l.position;
  END IF;
  INSERT INTO lms.lessons (module_id, course_id, title, kind, position, duration_seconds, points,
                           is_preview, is_published, available_from, content, video_playback_id)
  VALUES (mid, m.course_id, l.title, l.kind, l.position, l.duration_seconds, l.points,
          l.is_preview, l.is_published, l.available_from, l.content, l.video_playback_id)
  RETURNING * INTO l;

  PERFORM lms.audit(who.user_id, 'lesson.create', 'lesson', l.id,
                    lms.audit_fields(b, '{title,kind,duration_seconds,video_playback_id,content,points,is_preview,is_published,position,available_from}')
                    || pg_catalog.jsonb_build_object('module_id', mid, 'course_id', m.course_id));
  RETURN lms.ok(201, lms.lesson_author_json(l));
END
$$;

-- PATCH /lessons/{id}: any lesson field, is_published included (unpublishing hides the lesson and
-- takes it out of every count; republishing puts it back). A lesson stays in its module.
CREATE FUNCTION lms.api_lesson_patch(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true, id => true);
  who lms.caller := req.who;
  lid bigint := req.id;
  b jsonb := req.body;
  c lms.courses;
  cur lms.lessons;
  inp record;
  l lms.lessons;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  -- Lock order: the lesson, then its course (as the progress write path: it reads the lesson
  -- FOR KEY SHARE, which this FOR UPDATE waits for, then may lock the course). Waiting here for
  -- in-flight progress writes on this lesson is what lets the counter fix-up see their
  -- completions, and a progress write that comes later sees the lesson as it is now.
  SELECT * INTO cur FROM lms.lessons WHERE id = lid FOR UPDATE;
  IF NOT FOUND THEN RETURN lms.not_found('Lesson'); END IF;
  SELECT * INTO c FROM lms.courses WHERE id = cur.course_id FOR UPDATE;
  IF NOT lms.may_author(who, c.instructor_id) THEN
    RETURN lms.forbidden('Only the course''s instructor and admins change its lessons.');
  END IF;
  IF b IS NULL THEN RETURN lms.invalid_body(); END IF;

  inp := lms.lesson_input(b, cur);
  IF inp.errors <> '[]' THEN RETURN lms.validation_failed(inp.errors); END IF;
  l := inp.l;

  IF l.position <> cur.position THEN
    IF l.position < cur.position THEN
      UPDATE lms.lessons SET position = position + 1
       WHERE module_id = cur.module_id AND id <> lid AND position >= l.position AND position < cur.position;
    ELSE
      UPDATE lms.lessons SET position = position - 1
       WHERE module_id = cur.module_id AND id <> lid AND position > cur.position AND position <= l.position;
    END IF;
  END IF;
  UPDATE lms.lessons
     SET title = l.title, kind = l.kind, position = l.position, duration_seconds = l.duration_seconds,
         points = l.points, is_preview = l.is_preview, is_published = l.is_published,
         available_from = l.available_from, content = l.content,
         video_playback_id = l.video_playback_id, updated_at = lms.clock()
   WHERE id = lid
  RETURNING * INTO l;

  PERFORM lms.audit(who.user_id, 'lesson.update', 'lesson', lid,
                    lms.audit_fields(b, '{title,kind,duration_seconds,video_playback_id,content,points,is_preview,is_published,position,available_from}'));
  RETURN lms.ok(200, lms.lesson_author_json(l));
END
$$;

-- Point rules (docs/gamification.md#point-rules): the points each kind of event earns, set by
-- an admin for every course or per course (GET/PUT /admin/gamification/rules), and the explicit
-- recalculation that re-scores past events under the rules in force through the ledger
-- (POST /admin/gamification/recalculate). The rules, their defaults and limits, and the lookup
-- are in extension/point_rules.c; the tables in 84_point_rule_schema.sql.

-- Every rule: name, default, least value, whether a course may have its own.
CREATE FUNCTION lms.point_rules_list(OUT rule text, OUT points int, OUT min int, OUT per_course boolean)
RETURNS SETOF record
  AS 'MODULE_PATHNAME', 'lms_point_rules_list' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- The rules in force (GET and PUT /admin/gamification/rules, and each recalculation's record).
CREATE FUNCTION lms.point_rules_json() RETURNS jsonb
LANGUAGE sql STABLE
RETURN pg_catalog.jsonb_build_object(
  'rules', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
              'rule', d.rule, 'points', coalesce(r.points, d.points), 'default', d.points, 'min', d.min,
              'per_course', d.per_course, 'updated_at', lms.iso(r.updated_at)) ORDER BY d.rule)
              FROM lms.point_rules_list() d
              LEFT JOIN lms.point_rules r ON r.rule = d.rule AND r.course_id IS NULL),
  'course_overrides', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
              'course_id', r.course_id, 'rule', r.rule, 'points', r.points, 'updated_at', lms.iso(r.updated_at))
              ORDER BY r.course_id, r.rule), '[]')
              FROM lms.point_rules r WHERE r.course_id IS NOT NULL));

-- A recalculation's correction key: recalc:<run>:<the corrected award's key>, and back.
CREATE FUNCTION lms.recalc_key(run bigint, source_key text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN 'recalc:' || run || ':' || source_key;
CREATE FUNCTION lms.recalc_original(source_key text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN source_key LIKE 'recalc:%'
            THEN pg_catalog.substr(source_key, 8 + pg_catalog.strpos(pg_catalog.substr(source_key, 8), ':'))
            ELSE source_key END;

-- Re-score past events under the rules in force (every course, or one course), through the
-- ledger: for every lesson completed, quiz passed, perfect quiz score, course completed and 7th
-- streak day (all courses only), the points its rule gives now are compared with what the
-- ledger holds for it (its award and earlier corrections), and the difference is a new ledger
-- row, reason 'recalculation', key recalc:<run>:<the award's key>: history is never rewritten.
-- Totals, levels, course totals follow in the same statement, then achievements and the boards
-- (week and month boards and league weeks count what was earned in them, so corrections of
-- past events stay out of them). One recalculation at a time: a second waits and finds the
-- first one's corrections. A rule an admin changes applies to new events at once; this brings
-- past ones in line when they ask for it. Returns the run id and what it did.
CREATE FUNCTION lms.recalculate_points(course bigint DEFAULT NULL, actor bigint DEFAULT NULL,
                                       OUT run bigint, OUT events bigint, OUT corrections bigint,
                                       OUT learners bigint, OUT points bigint, OUT took_ms bigint)
RETURNS record
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  t0 timestamptz := clock_timestamp();
  now_ts timestamptz := lms.clock();
BEGIN
  PERFORM pg_catalog.pg_advisory_xact_lock(1280136018, 0);   -- 'LMSR': one at a time
  INSERT INTO lms.point_recalculations (course_id, actor_id, started_at, rules)
  VALUES (course, actor, now_ts, lms.point_rules_json()) RETURNING id INTO run;

  WITH lesson_want AS MATERIALIZED (
    SELECT l.id, l.course_id, lms.lesson_points(l.kind, l.course_id, l.points) AS want
      FROM lms.lessons l WHERE course IS NULL OR l.course_id = course),
  course_rule AS MATERIALIZED (
    SELECT c.id, lms.point_rule('quiz_passed', c.id) AS quiz_passed, lms.point_rule('quiz_perfect', c.id) AS quiz_perfect,
           lms.point_rule('course_completed', c.id) AS course_completed
      FROM lms.courses c WHERE course IS NULL OR c.id = course),
  ev AS MATERIALIZED (
    SELECT p.user_id, lms.source_key('lesson', p.user_id, p.lesson_id::text) AS key, w.course_id,
           p.lesson_id AS source_id, w.want
      FROM lms.lesson_progress p JOIN lesson_want w ON w.id = p.lesson_id
     WHERE p.is_completed
    UNION ALL
    SELECT x.user_id, lms.source_key(x.prefix, x.user_id, x.quiz_id::text), x.course_id, x.quiz_id,
           CASE x.prefix WHEN 'quiz_pass' THEN r.quiz_passed ELSE r.quiz_perfect END
      FROM (SELECT DISTINCT a.user_id, a.quiz_id, l.course_id, k.prefix
              FROM lms.quiz_attempts a JOIN lms.quizzes q ON q.id = a.quiz_id
              JOIN lms.lessons l ON l.id = q.lesson_id
              CROSS JOIN (VALUES ('quiz_pass', 0), ('quiz_perfect', 100)) AS k(prefix, min_score)
             WHERE a.passed AND a.score >= k.min_score AND (course IS NULL OR l.course_id = course)) x
      JOIN course_rule r ON r.id = x.course_id
    UNION ALL
    SELECT e.user_id, lms.source_key('course', e.user_id, e.course_id::text), e.course_id, e.course_id, r.course_completed
      FROM lms.enrollments e JOIN course_rule r ON r.id = e.course_id
     WHERE e.status = 'completed'
    UNION ALL
    SELECT d.user_id, lms.source_key('streak', d.user_id, pg_catalog.to_char(d.day, 'YYYY-MM-DD')), NULL, NULL,
           lms.point_rule('streak_bonus')
      FROM (SELECT g.user_id, g.day, row_number() OVER (PARTITION BY g.user_id, g.grp ORDER BY g.day) AS k
              FROM (SELECT s.user_id, s.day, s.day - (row_number() OVER (PARTITION BY s.user_id ORDER BY s.day))::int AS grp
                      FROM lms.streak_days s WHERE course IS NULL) g) d
     WHERE d.k % 7 = 0),
  have AS (
    SELECT lms.recalc_original(l.source_key) AS key, sum(l.points)::bigint AS pts
      FROM lms.points_ledger l
     WHERE l.reason IN ('lesson_completed', 'quiz_passed', 'quiz_perfect', 'course_completed', 'streak_bonus', 'recalculation')
       AND (course IS NULL OR l.course_id = course)
     GROUP BY 1),
  diff AS (
    SELECT ev.*, ev.want - coalesce(h.pts, 0) AS delta
      FROM ev LEFT JOIN have h ON h.key = ev.key
     WHERE ev.want IS DISTINCT FROM coalesce(h.pts, 0)),
  ins AS (
    INSERT INTO lms.points_ledger AS pl (user_id, points, reason, source_key, course_id, source_id, created_at, note)
    SELECT d.user_id, d.delta::int, 'recalculation', lms.recalc_key(run, d.key), d.course_id, d.source_id, now_ts,
           'point rules recalculation ' || run
      FROM diff d
    ON CONFLICT (source_key) DO NOTHING
    RETURNING pl.user_id, pl.course_id, pl.points),
  per_user AS (SELECT i.user_id, sum(i.points)::bigint AS pts FROM ins i GROUP BY i.user_id),
  totals AS (
    INSERT INTO lms.learner_scores AS s (user_id, total_points, level, reached_at)
    SELECT p.user_id, p.pts, lms.level_for(p.pts), now_ts FROM per_user p
    ON CONFLICT (user_id) DO UPDATE
      SET total_points = s.total_points + EXCLUDED.total_points,
          level = lms.level_for(s.total_points + EXCLUDED.total_points),
          reached_at = greatest(s.reached_at, now_ts)
    RETURNING 1),
  per_course AS (
    SELECT i.course_id, i.user_id, sum(i.points)::bigint AS pts FROM ins i
     WHERE i.course_id IS NOT NULL GROUP BY i.course_id, i.user_id),
  course_totals AS (
    INSERT INTO lms.course_scores AS c (course_id, user_id, points, reached_at)
    SELECT p.course_id, p.user_id, p.pts, now_ts FROM per_course p
    ON CONFLICT (course_id, user_id) DO UPDATE
      SET points = c.points + EXCLUDED.points, reached_at = greatest(c.reached_at, EXCLUDED.reached_at)
    RETURNING 1)
  SELECT (SELECT count(*) FROM ev), (SELECT count(*) FROM ins), (SELECT count(*) FROM per_user),
         coalesce((SELECT sum(i.points) FROM ins i), 0)
         + 0 * (SELECT count(*) FROM totals) + 0 * (SELECT count(*) FROM course_totals)
    INTO events, corrections, learners, points;

  -- achievements the new totals reach (never taken back when a total falls), then the boards
  PERFORM lms.grant_qualifying_achievements();
  PERFORM count(*) FROM lms.refresh_leaderboards(true);
  took_ms := round(extract(epoch FROM clock_timestamp() - t0) * 1000)::bigint;
  UPDATE lms.point_recalculations x
     SET events = recalculate_points.events, corrections = recalculate_points.corrections,
         learners = recalculate_points.learners, points = recalculate_points.points,
         took_ms = recalculate_points.took_ms
   WHERE x.id = run;
END
$$;

-- GET /admin/gamification/rules
CREATE FUNCTION lms.api_admin_point_rules_get(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true);
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  IF (req.who).role <> 'admin' THEN
    RETURN lms.forbidden();
  END IF;
  RETURN lms.ok(200, lms.point_rules_json());
END
$$;

-- PUT /admin/gamification/rules {rules: {<rule>: points, ...}, course_overrides: [{course_id,
-- rule, points}]}: the rules in force become exactly these (a rule left out has its default,
-- a course without an override the value for every course). New events earn them at once;
-- past ones when POST /admin/gamification/recalculate asks. Audit-logged, before and after.
CREATE FUNCTION lms.api_admin_point_rules_put(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true, object => true);
  me lms.caller := req.who;
  b jsonb := req.body;
  errs jsonb := '[]';
  k text;
  v jsonb;
  o jsonb;
  i int := 0;
  seen text[] := '{}';
  before jsonb;
  after jsonb;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  IF me.role <> 'admin' THEN
    RETURN lms.forbidden();
  END IF;
  IF b ? 'rules' AND jsonb_typeof(b->'rules') IS DISTINCT FROM 'object' THEN
    errs := errs || jsonb_build_object('field', 'rules', 'message', 'must be an object {rule: points}');
  ELSIF b ? 'rules' THEN
    FOR k, v IN SELECT * FROM jsonb_each(b->'rules') LOOP
      IF lms.point_rule_default(k) IS NULL THEN
        errs := errs || jsonb_build_object('field', 'rules.' || k, 'message', 'is not a rule');
      ELSIF lms.json_bigint(v) IS NULL OR lms.json_bigint(v) NOT BETWEEN -2147483648 AND 2147483647
            OR NOT lms.point_rule_allows(k, NULL, lms.json_bigint(v)::int) THEN
        errs := errs || jsonb_build_object('field', 'rules.' || k, 'message',
          format('must be an integer from %s to 100000', (SELECT d.min FROM lms.point_rules_list() d WHERE d.rule = k)));
      END IF;
    END LOOP;
  END IF;
  IF b ? 'course_overrides' AND jsonb_typeof(b->'course_overrides') IS DISTINCT FROM 'array' THEN
    errs := errs || jsonb_build_object('field', 'course_overrides', 'message', 'must be an array of {course_id, rule, points}');
  ELSIF b ? 'course_overrides' THEN
    FOR o IN SELECT * FROM jsonb_array_elements(b->'course_overrides') LOOP
      k := 'course_overrides[' || i || ']';
      i := i + 1;
      IF jsonb_typeof(o) IS DISTINCT FROM 'object' THEN
        errs := errs || jsonb_build_object('field', k, 'message', 'must be an object {course_id, rule, points}');
      ELSIF lms.json_bigint(o->'course_id') IS NULL
            OR NOT EXISTS (SELECT FROM lms.courses c WHERE c.id = lms.json_bigint(o->'course_id')) THEN
        errs := errs || jsonb_build_object('field', k || '.course_id', 'message', 'must be the id of a course');
      ELSIF jsonb_typeof(o->'rule') IS DISTINCT FROM 'string' OR lms.point_rule_default(o->>'rule') IS NULL
            OR NOT (SELECT d.per_course FROM lms.point_rules_list() d WHERE d.rule = o->>'rule') THEN
        errs := errs || jsonb_build_object('field', k || '.rule', 'message', 'must be a rule a course may have its own value of');
      ELSIF lms.json_bigint(o->'points') IS NULL OR lms.json_bigint(o->'points') NOT BETWEEN -2147483648 AND 2147483647
            OR NOT lms.point_rule_allows(o->>'rule', lms.json_bigint(o->'course_id'), lms.json_bigint(o->'points')::int) THEN
        errs := errs || jsonb_build_object('field', k || '.points', 'message',
          format('must be an integer from %s to 100000', (SELECT d.min FROM lms.point_rules_list() d WHERE d.rule = o->>'rule')));
      ELSIF (o->>'course_id') || ':' || (o->>'rule') = ANY (seen) THEN
        errs := errs || jsonb_build_object('field', k, 'message', 'repeats a course and rule given before');
      ELSE
        seen := seen || ((o->>'course_id') || ':' || (o->>'rule'));
      END IF;
    END LOOP;
  END IF;
  IF jsonb_array_length(errs) > 0 THEN
    RETURN lms.validation_failed(errs);
  END IF;

  LOCK TABLE lms.point_rules IN EXCLUSIVE MODE;   -- two edits at once: one after the other
  before := lms.point_rules_json();
  DELETE FROM lms.point_rules;
  INSERT INTO lms.point_rules (rule, course_id, points, updated_by)
  SELECT r.key, NULL, lms.json_bigint(r.value)::int, me.user_id
    FROM jsonb_each(coalesce(b->'rules', '{}')) r
   WHERE lms.json_bigint(r.value) <> lms.point_rule_default(r.key)
  UNION ALL
  SELECT x->>'rule', lms.json_bigint(x->'course_id'), lms.json_bigint(x->'points')::int, me.user_id
    FROM jsonb_array_elements(coalesce(b->'course_overrides', '[]')) x;
  after := lms.point_rules_json();
  PERFORM lms.audit(me.user_id, 'gamification.rules.update', 'gamification', NULL,
                    jsonb_build_object('before', before, 'after', after));
  RETURN lms.ok(200, after);
END
$$;

-- POST /admin/gamification/recalculate {course_id?}: re-score past events under the rules in
-- force (lms.recalculate_points); audit-logged.
CREATE FUNCTION lms.api_admin_recalculate(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true);
  me lms.caller := req.who;
  b jsonb := coalesce(lms.body_object(body), '{}');
  cid bigint;
  r record;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  IF me.role <> 'admin' THEN
    RETURN lms.forbidden();
  END IF;
  IF body IS NOT NULL AND jsonb_typeof(body) <> 'object' THEN
    RETURN lms.invalid_body();
  END IF;
  IF b ? 'course_id' AND jsonb_typeof(b->'course_id') <> 'null' THEN
    cid := lms.json_bigint(b->'course_id');
    IF cid IS NULL OR cid < 1 THEN
      RETURN lms.invalid('course_id', 'must be a positive integer');
    END IF;
    IF NOT EXISTS (SELECT FROM lms.courses c WHERE c.id = cid) THEN
      RETURN lms.not_found('Course');
    END IF;
  END IF;
  SELECT * INTO r FROM lms.recalculate_points(cid, me.user_id);
  PERFORM lms.audit(me.user_id, 'gamification.recalculate', 'gamification', r.run,
                    jsonb_build_object('course_id', cid, 'events', r.events, 'corrections', r.corrections,
                                       'learners', r.learners, 'points', r.points));
  RETURN lms.ok(200, jsonb_build_object('run', r.run, 'course_id', cid, 'events', r.events,
                                        'corrections', r.corrections, 'learners', r.learners,
                                        'points', r.points, 'took_ms', r.took_ms));
END
$$;

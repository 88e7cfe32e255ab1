-- Gamification: the points ledger, per-learner totals, streaks and achievements.
-- The write path (scoring.c) keeps every table here in step with the ledger inside the
-- transaction of the progress write, quiz attempt or admin award that caused it.

-- Every award is one row; a source key names what was awarded so it can never be awarded twice
-- (INSERT ... ON CONFLICT DO NOTHING). Append-only: corrections are new rows, negative points.
CREATE TABLE lms.points_ledger (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES lms.users ON DELETE CASCADE,
  points int NOT NULL CHECK (points <> 0),
  reason text NOT NULL CHECK (lms.reason_is_valid(reason)),   -- built-in or a custom event (rules.c)
  source_key text NOT NULL UNIQUE CHECK (length(source_key) BETWEEN 1 AND 200),
  course_id bigint,                 -- the course the points count for (course boards), if any
  source_id bigint,                 -- lesson, quiz, course or achievement id
  note text CHECK (length(note) <= 500),   -- an admin's explanation of a correction
  created_at timestamptz NOT NULL DEFAULT lms.clock()
);
-- history pages, per-learner recompute
CREATE INDEX points_ledger_by_user ON lms.points_ledger (user_id, id);
-- course boards: change detection (max id) and window sums
CREATE INDEX points_ledger_by_course ON lms.points_ledger (course_id, id) WHERE course_id IS NOT NULL;
-- week and month boards sum the entries of the current period
CREATE INDEX points_ledger_by_time ON lms.points_ledger (created_at);

COMMENT ON TABLE lms.points_ledger IS
  'Append-only points ledger: one row per award, unique source_key, corrections as negative rows';

-- One row per learner who has scored or been active: the totals the answers and boards read.
CREATE TABLE lms.learner_scores (
  user_id bigint PRIMARY KEY REFERENCES lms.users ON DELETE CASCADE,
  total_points bigint NOT NULL DEFAULT 0,
  level int NOT NULL DEFAULT 1 CHECK (level >= 1),
  reached_at timestamptz,           -- when total_points was reached (tie order); NULL: no award yet
  lessons_completed int NOT NULL DEFAULT 0 CHECK (lessons_completed >= 0),
  courses_completed int NOT NULL DEFAULT 0 CHECK (courses_completed >= 0),
  quiz_perfects int NOT NULL DEFAULT 0 CHECK (quiz_perfects >= 0),
  current_streak int NOT NULL DEFAULT 0 CHECK (current_streak >= 0),
  longest_streak int NOT NULL DEFAULT 0 CHECK (longest_streak >= current_streak),
  last_activity_date date           -- in the learner's own time zone
);

-- Points per learner and course (the all-time course boards).
CREATE TABLE lms.course_scores (
  course_id bigint NOT NULL,
  user_id bigint NOT NULL REFERENCES lms.users ON DELETE CASCADE,
  points bigint NOT NULL,
  reached_at timestamptz NOT NULL,
  PRIMARY KEY (course_id, user_id)
);

-- The learner's active days (local calendar days): streaks are derivable from them.
CREATE TABLE lms.streak_days (
  user_id bigint NOT NULL REFERENCES lms.users ON DELETE CASCADE,
  day date NOT NULL,
  PRIMARY KEY (user_id, day)
);

CREATE TABLE lms.achievements (
  id bigserial PRIMARY KEY,
  code text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9_]{1,50}$'),
  title text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
  description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
  points int NOT NULL DEFAULT 0 CHECK (points BETWEEN 0 AND 100000),
  kind text NOT NULL CHECK (kind IN ('lessons_completed', 'courses_completed', 'streak_days',
                                     'points_total', 'quiz_perfect', 'reason_count')),
  threshold bigint NOT NULL CHECK (threshold >= 1),
  is_builtin boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT lms.clock(),
  reason text,                      -- reason_count: the custom event counted
  CONSTRAINT achievements_reason_check CHECK ((kind = 'reason_count') = (reason IS NOT NULL)
                                              AND (reason IS NULL OR lms.reason_is_custom(reason)))
);

CREATE TABLE lms.user_achievements (
  user_id bigint NOT NULL REFERENCES lms.users ON DELETE CASCADE,
  achievement_id bigint NOT NULL REFERENCES lms.achievements ON DELETE CASCADE,
  awarded_at timestamptz NOT NULL DEFAULT lms.clock(),
  PRIMARY KEY (user_id, achievement_id)
);
-- a new achievement is granted set-based to everyone who qualifies
CREATE INDEX user_achievements_by_achievement ON lms.user_achievements (achievement_id);

-- (a fixed created_at, so a restored database holds exactly the same seeded rows)
INSERT INTO lms.achievements (code, title, description, points, kind, threshold, is_builtin, created_at)
SELECT code, title, description, points, kind, threshold, true, timestamptz '2026-01-01 00:00:00+00'
  FROM (VALUES
  ('first_lesson', 'First steps', 'Complete your first lesson.', 10, 'lessons_completed', 1),
  ('ten_lessons', 'Keen learner', 'Complete 10 lessons.', 50, 'lessons_completed', 10),
  ('first_course', 'Graduate', 'Complete your first course.', 50, 'courses_completed', 1),
  ('streak_7', 'One week streak', 'Learn 7 days in a row.', 50, 'streak_days', 7),
  ('points_1000', 'Point collector', 'Reach 1000 points.', 0, 'points_total', 1000),
  ('quiz_perfect', 'Perfectionist', 'Score 100 % on a quiz.', 20, 'quiz_perfect', 1))
  AS v(code, title, description, points, kind, threshold);

-- The seeded achievements come back with CREATE EXTENSION; pg_dump keeps the others.
SELECT pg_catalog.pg_extension_config_dump('lms.achievements', 'WHERE NOT is_builtin');

-- The SQL entry point of the ledger: the new row's id, or NULL when source_key was awarded
-- already. Totals, level, streak day, achievements follow in the same transaction.
CREATE FUNCTION lms.award_points(user_id bigint, points int, reason text, source_key text,
                                 course_id bigint DEFAULT NULL)
RETURNS bigint
  AS 'MODULE_PATHNAME', 'lms_award_points' LANGUAGE C VOLATILE;

-- Internal form used by the admin route: also stores a note.
CREATE FUNCTION lms.award_points_noted(user_id bigint, points int, reason text, source_key text,
                                       course_id bigint, note text)
RETURNS bigint
  AS 'MODULE_PATHNAME', 'lms_award_points' LANGUAGE C VOLATILE;

-- Called by the quiz attempt path: quiz pass 20, perfect score 10 more, the streak day, and
-- the achievements; returns the points this call awarded.
CREATE FUNCTION lms.award_quiz(user_id bigint, quiz_id bigint, course_id bigint, score numeric,
                               passed boolean)
RETURNS int
  AS 'MODULE_PATHNAME', 'lms_award_quiz' LANGUAGE C VOLATILE STRICT;

-- The counter an achievement criterion compares with its threshold; reason_events is the
-- learner's lms.learner_reason_counts.events for the achievement's reason (callers join it).
CREATE FUNCTION lms.criteria_value(s lms.learner_scores, kind text, reason_events bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE kind
         WHEN 'lessons_completed' THEN s.lessons_completed
         WHEN 'courses_completed' THEN s.courses_completed
         WHEN 'streak_days' THEN s.longest_streak
         WHEN 'points_total' THEN s.total_points
         WHEN 'quiz_perfect' THEN s.quiz_perfects
         WHEN 'reason_count' THEN reason_events   -- the learner's events of the achievement's reason
       END;

-- Grant every achievement every learner qualifies for, set-based, with its points, until
-- nothing changes (an achievement's points may make a points_total achievement true).
-- Returns the number of grants. Used when an achievement is created and by recompute.
CREATE FUNCTION lms.grant_qualifying_achievements(only_achievement bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  n bigint;
  total bigint := 0;
  now_ts timestamptz := lms.clock();
BEGIN
  LOOP
    WITH granted AS (
      INSERT INTO lms.user_achievements (user_id, achievement_id, awarded_at)
      SELECT s.user_id, a.id, now_ts
        FROM lms.achievements a
        JOIN lms.learner_scores s ON true
        LEFT JOIN lms.learner_reason_counts rc ON rc.user_id = s.user_id AND rc.reason = a.reason
       WHERE lms.criteria_value(s, a.kind, rc.events) >= a.threshold
         AND (only_achievement IS NULL OR a.id = only_achievement OR a.kind = 'points_total')
         AND NOT EXISTS (SELECT FROM lms.user_achievements ua
                          WHERE ua.user_id = s.user_id AND ua.achievement_id = a.id)
      ON CONFLICT DO NOTHING
      RETURNING user_id, achievement_id),
    paid AS (
      INSERT INTO lms.points_ledger (user_id, points, reason, source_key, source_id, created_at)
      SELECT g.user_id, a.points, 'achievement', lms.source_key('achievement', g.user_id, a.code), a.id, now_ts
        FROM granted g JOIN lms.achievements a ON a.id = g.achievement_id
       WHERE a.points <> 0
      ON CONFLICT (source_key) DO NOTHING
      RETURNING user_id, points),
    sums AS (SELECT p.user_id, sum(p.points) AS pts FROM paid p GROUP BY p.user_id),
    upd AS (
      UPDATE lms.learner_scores s
         SET total_points = s.total_points + x.pts,
             level = lms.level_for(s.total_points + x.pts),
             reached_at = greatest(s.reached_at, now_ts)
        FROM sums x WHERE s.user_id = x.user_id
      RETURNING 1),
    -- lms's own xAPI statement for each grant (89_xapi_lms_events.sql)
    emitted AS (SELECT lms.xapi_emit_achievement(g.user_id, g.achievement_id) FROM granted g)
    SELECT count(*) + 0 * (SELECT count(*) FROM upd) + 0 * (SELECT count(*) FROM emitted) INTO n FROM granted;
    total := total + n;
    EXIT WHEN n = 0;
  END LOOP;
  RETURN total;
END
$$;

-- Rebuild totals, levels, per-course totals, counters, custom event counts, streaks and
-- achievements from the ledger, progress and active days; fix what disagreed; report how many learners disagreed
-- (0 is the healthy answer); refresh the boards.
CREATE FUNCTION lms.recompute_gamification(OUT users bigint, OUT differences bigint)
RETURNS record
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  -- writers wait while the scores are rebuilt (reads go on), so no award slips between the
  -- rebuild and its fix-up; writers lock only rows of these tables, after progress rows
  LOCK TABLE lms.points_ledger, lms.learner_scores, lms.course_scores, lms.streak_days,
             lms.user_achievements, lms.learner_reason_counts IN EXCLUSIVE MODE;

  CREATE TEMP TABLE lms_recompute ON COMMIT DROP AS
  WITH led AS (
         SELECT l.user_id, sum(l.points)::bigint AS total, max(l.created_at) AS reached,
                count(*) FILTER (WHERE l.reason = 'course_completed' AND l.points > 0) AS courses,
                count(*) FILTER (WHERE l.reason = 'quiz_perfect' AND l.points > 0) AS perfects
           FROM lms.points_ledger l GROUP BY l.user_id),
       les AS (
         SELECT p.user_id, count(*) AS lessons FROM lms.lesson_progress p
          WHERE p.is_completed GROUP BY p.user_id),
       isl AS (
         SELECT d.user_id, d.day,
                d.day - (row_number() OVER (PARTITION BY d.user_id ORDER BY d.day))::int AS grp
           FROM lms.streak_days d),
       runs AS (
         SELECT i.user_id, count(*)::int AS len, max(i.day) AS last_day
           FROM isl i GROUP BY i.user_id, i.grp),
       stk AS (
         SELECT r.user_id, max(r.len) AS longest, max(r.last_day) AS last_day,
                (array_agg(r.len ORDER BY r.last_day DESC))[1] AS cur
           FROM runs r GROUP BY r.user_id),
       -- every learner with a ledger row, a score row or an active day: from the aggregates
       -- (a learner each), not the raw rows (36 M ledger and day rows at 1 M learners)
       who AS (
         SELECT led.user_id FROM led
         UNION SELECT s.user_id FROM lms.learner_scores s
         UNION SELECT stk.user_id FROM stk)
  SELECT w.user_id,
         coalesce(led.total, 0) AS total_points,
         lms.level_for(coalesce(led.total, 0)) AS level,
         led.reached AS reached_at,
         coalesce(les.lessons, 0)::int AS lessons_completed,
         coalesce(led.courses, 0)::int AS courses_completed,
         coalesce(led.perfects, 0)::int AS quiz_perfects,
         coalesce(stk.cur, 0) AS current_streak,
         coalesce(stk.longest, 0) AS longest_streak,
         stk.last_day AS last_activity_date
    FROM who w
    JOIN lms.users u ON u.id = w.user_id
    LEFT JOIN led ON led.user_id = w.user_id
    LEFT JOIN les ON les.user_id = w.user_id
    LEFT JOIN stk ON stk.user_id = w.user_id;
  SELECT count(*) INTO users FROM lms_recompute;

  CREATE TEMP TABLE lms_recompute_bad (user_id bigint) ON COMMIT DROP;

  -- learner totals and counters
  WITH bad AS (
    SELECT r.* FROM lms_recompute r LEFT JOIN lms.learner_scores s ON s.user_id = r.user_id
     WHERE s.user_id IS NULL
        OR (s.total_points, s.level, s.reached_at, s.lessons_completed, s.courses_completed,
            s.quiz_perfects, s.current_streak, s.longest_streak, s.last_activity_date)
           IS DISTINCT FROM
           (r.total_points, r.level, r.reached_at, r.lessons_completed, r.courses_completed,
            r.quiz_perfects, r.current_streak, r.longest_streak, r.last_activity_date)),
  fix AS (
    INSERT INTO lms.learner_scores AS s
      SELECT b.user_id, b.total_points, b.level, b.reached_at, b.lessons_completed,
             b.courses_completed, b.quiz_perfects, b.current_streak, b.longest_streak,
             b.last_activity_date FROM bad b
    ON CONFLICT (user_id) DO UPDATE SET
      total_points = EXCLUDED.total_points, level = EXCLUDED.level, reached_at = EXCLUDED.reached_at,
      lessons_completed = EXCLUDED.lessons_completed, courses_completed = EXCLUDED.courses_completed,
      quiz_perfects = EXCLUDED.quiz_perfects, current_streak = EXCLUDED.current_streak,
      longest_streak = EXCLUDED.longest_streak, last_activity_date = EXCLUDED.last_activity_date
    RETURNING s.user_id)
  INSERT INTO lms_recompute_bad SELECT f.user_id FROM fix f;

  -- per-course totals
  WITH want AS (
    SELECT l.course_id, l.user_id, sum(l.points)::bigint AS points, max(l.created_at) AS reached_at
      FROM lms.points_ledger l WHERE l.course_id IS NOT NULL GROUP BY l.course_id, l.user_id),
  bad AS (
    SELECT coalesce(w.user_id, c.user_id) AS user_id, w.course_id AS new_course,
           c.course_id AS old_course, w.points, w.reached_at
      FROM want w FULL JOIN lms.course_scores c ON c.course_id = w.course_id AND c.user_id = w.user_id
     WHERE w.course_id IS NULL OR c.course_id IS NULL
        OR (w.points, w.reached_at) IS DISTINCT FROM (c.points, c.reached_at)),
  del AS (
    DELETE FROM lms.course_scores c USING bad b
     WHERE b.new_course IS NULL AND c.course_id = b.old_course AND c.user_id = b.user_id
    RETURNING c.user_id),
  ups AS (
    INSERT INTO lms.course_scores (course_id, user_id, points, reached_at)
    SELECT b.new_course, b.user_id, b.points, b.reached_at FROM bad b WHERE b.new_course IS NOT NULL
    ON CONFLICT (course_id, user_id) DO UPDATE SET points = EXCLUDED.points, reached_at = EXCLUDED.reached_at
    RETURNING user_id)
  INSERT INTO lms_recompute_bad SELECT user_id FROM del UNION ALL SELECT user_id FROM ups;

  -- custom event counts per learner and reason (reason_count achievements)
  WITH want AS (
    SELECT l.user_id, l.reason, count(*) AS events FROM lms.points_ledger l
     WHERE lms.reason_is_custom(l.reason) GROUP BY l.user_id, l.reason),
  bad AS (
    SELECT coalesce(w.user_id, c.user_id) AS user_id, w.reason AS new_reason, c.reason AS old_reason, w.events
      FROM want w FULL JOIN lms.learner_reason_counts c ON c.user_id = w.user_id AND c.reason = w.reason
     WHERE w.user_id IS NULL OR c.user_id IS NULL OR w.events <> c.events),
  del AS (
    DELETE FROM lms.learner_reason_counts c USING bad b
     WHERE b.new_reason IS NULL AND c.user_id = b.user_id AND c.reason = b.old_reason
    RETURNING c.user_id),
  ups AS (
    INSERT INTO lms.learner_reason_counts (user_id, reason, events)
    SELECT b.user_id, b.new_reason, b.events FROM bad b WHERE b.new_reason IS NOT NULL
    ON CONFLICT (user_id, reason) DO UPDATE SET events = EXCLUDED.events
    RETURNING user_id)
  INSERT INTO lms_recompute_bad SELECT user_id FROM del UNION ALL SELECT user_id FROM ups;

  -- achievements a learner qualifies for but does not hold
  INSERT INTO lms_recompute_bad
  SELECT s.user_id FROM lms.achievements a
    JOIN lms.learner_scores s ON true
    LEFT JOIN lms.learner_reason_counts rc ON rc.user_id = s.user_id AND rc.reason = a.reason
   WHERE lms.criteria_value(s, a.kind, rc.events) >= a.threshold
     AND NOT EXISTS (SELECT FROM lms.user_achievements ua
                      WHERE ua.user_id = s.user_id AND ua.achievement_id = a.id);
  PERFORM lms.grant_qualifying_achievements();

  SELECT count(DISTINCT b.user_id) INTO differences FROM lms_recompute_bad b;
  DROP TABLE lms_recompute_bad;
  DROP TABLE lms_recompute;

  PERFORM lms.refresh_leaderboards();
END
$$;

-- A JSON number that is a whole number in bigint range, else NULL.
CREATE FUNCTION lms.json_bigint(v jsonb) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN pg_catalog.jsonb_typeof(v) = 'number'
             AND (v #>> '{}')::numeric = pg_catalog.trunc((v #>> '{}')::numeric)
             AND (v #>> '{}')::numeric BETWEEN -9223372036854775808 AND 9223372036854775807
            THEN (v #>> '{}')::numeric::bigint END;

-- The contract's achievement object.
CREATE FUNCTION lms.achievement_json(a lms.achievements) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN pg_catalog.jsonb_build_object(
  'code', a.code, 'title', a.title, 'description', a.description, 'points', a.points,
  'criteria', pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('kind', a.kind, 'threshold', a.threshold,
                                                                          'reason', a.reason)));

-- GET /gamification/me: one read of the learner's scores, achievements and ranks (C,
-- api_gamification_me.c). VOLATILE: lms.user_rank may refresh a stale board.
CREATE FUNCTION lms.api_gamification_me(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
  AS 'MODULE_PATHNAME', 'lms_api_gamification_me'
  LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- GET /gamification/me/history: the learner's ledger, newest first.
CREATE FUNCTION lms.api_gamification_history(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true);
  me lms.caller := req.who;
  pg lms.paging;
  items jsonb;
  n bigint;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  pg := lms.paging(coalesce(query, '{}'));
  IF (pg.problem).status IS NOT NULL THEN
    RETURN pg.problem;
  END IF;
  SELECT count(*) INTO n FROM lms.points_ledger l WHERE l.user_id = me.user_id;
  SELECT coalesce(jsonb_agg(jsonb_build_object('points', l.points, 'reason', l.reason,
                                               'course_id', l.course_id, 'source_id', l.source_id,
                                               'created_at', lms.iso(l.created_at))
                            ORDER BY l.id DESC), '[]')
    INTO items
    FROM (SELECT * FROM lms.points_ledger l WHERE l.user_id = me.user_id
           ORDER BY l.id DESC LIMIT pg.lim OFFSET (pg.page - 1)::bigint * pg.lim) l;
  RETURN lms.ok(200, jsonb_build_object('items', items, 'page', pg.page, 'limit', pg.lim, 'total', n));
END
$$;

-- GET /achievements: the catalogue, to anyone.
CREATE FUNCTION lms.api_achievements_list(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
RETURN lms.ok(200, pg_catalog.jsonb_build_object('items',
  (SELECT coalesce(pg_catalog.jsonb_agg(lms.achievement_json(a) ORDER BY a.id), '[]')
     FROM lms.achievements a)));

-- POST /admin/achievements: a new achievement, granted at once to everyone who qualifies.
CREATE FUNCTION lms.api_admin_achievement_create(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true);
  me lms.caller := req.who;
  b jsonb := req.body;
  errs jsonb := '[]';
  crit jsonb;
  pts bigint;
  thr bigint;
  a lms.achievements;
  granted bigint;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  IF me.role <> 'admin' THEN
    RETURN lms.forbidden();
  END IF;
  IF b IS NULL THEN
    RETURN lms.invalid_body();
  END IF;
  IF jsonb_typeof(b->'code') IS DISTINCT FROM 'string' OR b->>'code' !~ '^[a-z0-9_]{1,50}$' THEN
    errs := errs || jsonb_build_object('field', 'code', 'message', 'must be 1 to 50 characters a-z, 0-9 or _');
  END IF;
  IF jsonb_typeof(b->'title') IS DISTINCT FROM 'string' OR length(btrim(b->>'title')) NOT BETWEEN 1 AND 200 THEN
    errs := errs || jsonb_build_object('field', 'title', 'message', 'must be a string of 1 to 200 characters');
  END IF;
  IF b ? 'description' AND (jsonb_typeof(b->'description') IS DISTINCT FROM 'string'
                            OR length(b->>'description') > 2000) THEN
    errs := errs || jsonb_build_object('field', 'description', 'message', 'must be a string of at most 2000 characters');
  END IF;
  pts := CASE WHEN b ? 'points' THEN lms.json_bigint(b->'points') ELSE 0 END;
  IF pts IS NULL OR pts NOT BETWEEN 0 AND 100000 THEN
    errs := errs || jsonb_build_object('field', 'points', 'message', 'must be an integer between 0 and 100000');
  END IF;
  crit := b->'criteria';
  IF jsonb_typeof(crit) IS DISTINCT FROM 'object' THEN
    errs := errs || jsonb_build_object('field', 'criteria', 'message', 'must be an object {kind, threshold}');
  ELSE
    IF jsonb_typeof(crit->'kind') IS DISTINCT FROM 'string' OR crit->>'kind' NOT IN
       ('lessons_completed', 'courses_completed', 'streak_days', 'points_total', 'quiz_perfect', 'reason_count') THEN
      errs := errs || jsonb_build_object('field', 'criteria.kind', 'message',
        'must be lessons_completed, courses_completed, streak_days, points_total, quiz_perfect or reason_count');
    ELSIF crit->>'kind' = 'reason_count' AND (jsonb_typeof(crit->'reason') IS DISTINCT FROM 'string'
                                            OR NOT lms.reason_is_custom(crit->>'reason')) THEN
      errs := errs || jsonb_build_object('field', 'criteria.reason', 'message',
        'must be a custom event reason: [a-z][a-z0-9_]{0,63}, not a built-in one');
    ELSIF crit->>'kind' <> 'reason_count' AND crit ? 'reason' THEN
      errs := errs || jsonb_build_object('field', 'criteria.reason', 'message', 'is only for kind reason_count');
    END IF;
    thr := lms.json_bigint(crit->'threshold');
    IF thr IS NULL OR thr < 1 THEN
      errs := errs || jsonb_build_object('field', 'criteria.threshold', 'message', 'must be an integer >= 1');
    END IF;
  END IF;
  IF jsonb_array_length(errs) > 0 THEN
    RETURN lms.validation_failed(errs);
  END IF;

  INSERT INTO lms.achievements (code, title, description, points, kind, threshold, reason)
  VALUES (b->>'code', btrim(b->>'title'), coalesce(b->>'description', ''), pts, crit->>'kind', thr,
          crit->>'reason')
  ON CONFLICT (code) DO NOTHING
  RETURNING * INTO a;
  IF a.id IS NULL THEN
    RETURN lms.problem(409, 'code_taken', 'An achievement with this code already exists.');
  END IF;
  granted := lms.grant_qualifying_achievements(a.id);
  PERFORM lms.audit(me.user_id, 'achievement.create', 'achievement', a.id,
                    lms.achievement_json(a) || jsonb_build_object('granted', granted));
  RETURN lms.ok(201, lms.achievement_json(a) || jsonb_build_object('granted', granted));
END
$$;

-- POST /admin/points: without source_key, a correction (or gift) as a new ledger row, reason
-- being the admin's explanation (kept as the note). With source_key, a custom event from
-- elsewhere (forum_post, live_session ...): reason is the event's kind (a custom reason), and
-- the learner gets it once per source key: the same event again answers 200 with the entry
-- already made. Totals, level, achievements, leagues and boards follow.
CREATE FUNCTION lms.api_admin_points(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true, object => true);
  me lms.caller := req.who;
  b jsonb := req.body;
  errs jsonb := '[]';
  uid bigint;
  pts bigint;
  cid bigint;
  lid bigint;
  event boolean;
  l lms.points_ledger;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  IF me.role <> 'admin' THEN
    RETURN lms.forbidden();
  END IF;
  event := b ? 'source_key';
  uid := lms.json_bigint(b->'user_id');
  IF uid IS NULL OR uid < 1 THEN
    errs := errs || jsonb_build_object('field', 'user_id', 'message', 'must be a positive integer');
  END IF;
  pts := lms.json_bigint(b->'points');
  IF pts IS NULL OR pts = 0 OR pts NOT BETWEEN -1000000 AND 1000000 THEN
    errs := errs || jsonb_build_object('field', 'points', 'message', 'must be a non-zero integer between -1000000 and 1000000');
  END IF;
  IF NOT event AND (jsonb_typeof(b->'reason') IS DISTINCT FROM 'string' OR length(btrim(b->>'reason')) NOT BETWEEN 1 AND 500) THEN
    errs := errs || jsonb_build_object('field', 'reason', 'message', 'must be a string of 1 to 500 characters');
  END IF;
  IF event THEN
    IF jsonb_typeof(b->'reason') IS DISTINCT FROM 'string' OR NOT lms.reason_is_custom(b->>'reason') THEN
      errs := errs || jsonb_build_object('field', 'reason', 'message',
        'must be a custom event reason: [a-z][a-z0-9_]{0,63}, not a built-in one');
    END IF;
    IF jsonb_typeof(b->'source_key') IS DISTINCT FROM 'string' OR length(b->>'source_key') NOT BETWEEN 1 AND 160 THEN
      errs := errs || jsonb_build_object('field', 'source_key', 'message', 'must be a string of 1 to 160 characters');
    END IF;
    IF b ? 'note' AND (jsonb_typeof(b->'note') IS DISTINCT FROM 'string' OR length(b->>'note') > 500) THEN
      errs := errs || jsonb_build_object('field', 'note', 'message', 'must be a string of at most 500 characters');
    END IF;
  END IF;
  IF b ? 'course_id' AND jsonb_typeof(b->'course_id') <> 'null' THEN
    cid := lms.json_bigint(b->'course_id');
    IF cid IS NULL OR cid < 1 THEN
      errs := errs || jsonb_build_object('field', 'course_id', 'message', 'must be a positive integer');
    END IF;
  END IF;
  IF jsonb_array_length(errs) > 0 THEN
    RETURN lms.validation_failed(errs);
  END IF;
  IF NOT EXISTS (SELECT FROM lms.users u WHERE u.id = uid) THEN
    RETURN lms.not_found('User');
  END IF;
  IF cid IS NOT NULL AND NOT EXISTS (SELECT FROM lms.courses c WHERE c.id = cid) THEN
    RETURN lms.not_found('Course');
  END IF;

  IF event THEN
    lid := lms.award_points_noted(uid, pts::int, b->>'reason', b->>'source_key', cid, b->>'note');
    IF lid IS NULL THEN
      -- sent before: the entry it made, once
      SELECT * INTO l FROM lms.points_ledger x
       WHERE x.source_key = lms.event_source_key(uid, b->>'source_key');
      RETURN lms.ok(200, lms.ledger_entry_json(l));
    END IF;
  ELSE
    lid := lms.award_points_noted(uid, pts::int, 'admin_correction', 'admin:' || gen_random_uuid(),
                                  cid, btrim(b->>'reason'));
  END IF;
  SELECT * INTO l FROM lms.points_ledger x WHERE x.id = lid;
  PERFORM lms.audit(me.user_id, CASE WHEN event THEN 'points.event' ELSE 'points.award' END, 'points_ledger', lid,
                    jsonb_build_object('user_id', uid, 'points', pts, 'course_id', cid, 'reason', btrim(b->>'reason'))
                    || CASE WHEN event THEN jsonb_build_object('source_key', b->>'source_key') ELSE '{}' END);
  RETURN lms.ok(201, lms.ledger_entry_json(l));
END
$$;

-- The admin route's ledger entry.
CREATE FUNCTION lms.ledger_entry_json(l lms.points_ledger) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN pg_catalog.jsonb_build_object(
  'id', l.id, 'user_id', l.user_id, 'points', l.points, 'reason', l.reason, 'note', l.note,
  'course_id', l.course_id, 'source_id', l.source_id, 'created_at', lms.iso(l.created_at));

-- The ledger key of a learner's custom event: event:<user id>:<the sender's source key>, so
-- it is once per learner and source key, and cannot take a built-in award's key.
CREATE FUNCTION lms.event_source_key(user_id bigint, source_key text) RETURNS text
  AS 'MODULE_PATHNAME', 'lms_event_source_key' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- POST /admin/gamification/recompute
CREATE FUNCTION lms.api_admin_recompute(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true);
  me lms.caller := req.who;
  t0 timestamptz := clock_timestamp();
  r record;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  IF me.role <> 'admin' THEN
    RETURN lms.forbidden();
  END IF;
  SELECT * INTO r FROM lms.recompute_gamification();
  PERFORM lms.audit(me.user_id, 'gamification.recompute', 'gamification', NULL,
                    jsonb_build_object('users', r.users, 'differences', r.differences));
  RETURN lms.ok(200, jsonb_build_object(
    'users', r.users, 'differences', r.differences,
    'took_ms', round(extract(epoch FROM clock_timestamp() - t0) * 1000)::bigint));
END
$$;

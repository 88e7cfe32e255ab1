-- Exports streamed from a cursor (docs/exports.md): each export function returns a set of
-- text rows, the first a head {"status", "content_type", "filename"} or {"status", "problem"},
-- then one CSV (or NDJSON) line per row. They are SQL functions whose last statement is a
-- SELECT, so PostgreSQL evaluates them lazily when called in a select list
-- (`SELECT lms.api_export_x(...)`): each line is made when the gateway asks for it
-- (gateway/stream.c), in index order without a sort, and nothing holds the whole export.
-- JIT is off for them: an export's plan costs enough to trigger it, and compiling took
-- 100-300 ms before the first byte while a whole export gains little from it.

-- One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF; a text that a
-- spreadsheet would read as a formula (= + - @ at the start) gets a leading apostrophe; NULL is
-- the empty field (concat_ws skips NULLs: every nullable column is made '' first).
CREATE FUNCTION lms.csv(v text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN v IS NULL THEN ''
            WHEN v ~ '^[=+@-]' THEN '"''' || pg_catalog.replace(v, '"', '""') || '"'
            WHEN v ~ '[",\r\n]' THEN '"' || pg_catalog.replace(v, '"', '""') || '"'
            ELSE v END;

-- The head row of an export: the problem when `refusal` is set, else 200 with its type.
CREATE FUNCTION lms.export_head(refusal lms.api_response, content_type text, filename text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN refusal.status IS NOT NULL
            THEN pg_catalog.jsonb_build_object('status', refusal.status, 'problem', refusal.body::jsonb)::text
            ELSE pg_catalog.jsonb_build_object('status', 200, 'content_type', content_type, 'filename', filename)::text END;

-- ?since= / ?until= of an export: ISO 8601 date-times with a zone (400 otherwise).
CREATE FUNCTION lms.export_range_check(query jsonb) RETURNS lms.api_response
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN query ? 'since' AND lms.xapi_timestamp(query->'since') IS NULL
            THEN lms.invalid('since', 'must be an ISO 8601 date-time with a time zone')
            WHEN query ? 'until' AND lms.xapi_timestamp(query->'until') IS NULL
            THEN lms.invalid('until', 'must be an ISO 8601 date-time with a time zone') END;

-- GET /courses/{id}/export/progress (owner or admin): one CSV line per learner and lesson
-- with progress, lesson by lesson.
CREATE FUNCTION lms.api_export_course_progress(token text, path text, query jsonb, body jsonb)
RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
BEGIN ATOMIC
  WITH chk AS MATERIALIZED (SELECT lms.course_owner_check(lms.caller(token), lms.path_id(path)) AS p)
  SELECT lms.export_head(chk.p, 'text/csv; charset=utf-8', 'course-' || path || '-progress.csv') FROM chk
  UNION ALL
  SELECT 'user_id,email,display_name,lesson_id,lesson_title,kind,watched_seconds,last_position_seconds,completion_percentage,is_completed,completed_at,updated_at' || E'\n'
    FROM chk WHERE (chk.p).status IS NULL
  UNION ALL
  SELECT pg_catalog.concat_ws(',', p.user_id, lms.csv(u.email), lms.csv(u.display_name), l.id, lms.csv(l.title), l.kind,
           p.watched_seconds, p.last_position_seconds, p.completion_percentage, p.is_completed,
           lms.csv(lms.iso(p.completed_at)), lms.iso(p.updated_at)) || E'\n'
    FROM chk, lms.lessons l
    JOIN lms.lesson_progress p ON p.lesson_id = l.id
    JOIN lms.users u ON u.id = p.user_id
   WHERE (chk.p).status IS NULL AND l.course_id = lms.path_id(path);
END;

-- GET /courses/{id}/export/gradebook (owner or admin): one CSV line per learner and quiz:
-- attempts, best score, passed.
CREATE FUNCTION lms.api_export_course_gradebook(token text, path text, query jsonb, body jsonb)
RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
BEGIN ATOMIC
  WITH chk AS MATERIALIZED (SELECT lms.course_owner_check(lms.caller(token), lms.path_id(path)) AS p)
  SELECT lms.export_head(chk.p, 'text/csv; charset=utf-8', 'course-' || path || '-gradebook.csv') FROM chk
  UNION ALL
  SELECT 'user_id,email,display_name,quiz_id,quiz_title,lesson_id,attempts,best_score,passed,last_attempt_at' || E'\n'
    FROM chk WHERE (chk.p).status IS NULL
  UNION ALL
  SELECT pg_catalog.concat_ws(',', g.user_id, lms.csv(u.email), lms.csv(u.display_name), q.id, lms.csv(q.title), q.lesson_id,
           g.attempts, g.best, g.passed, lms.iso(g.last_at)) || E'\n'
    FROM chk, lms.lessons l
    JOIN lms.quizzes q ON q.lesson_id = l.id
    CROSS JOIN LATERAL (SELECT a.user_id, count(*) AS attempts, max(a.score) AS best, bool_or(a.passed) AS passed,
                               max(a.created_at) AS last_at
                          FROM lms.quiz_attempts a WHERE a.quiz_id = q.id
                         GROUP BY a.user_id) g
    JOIN lms.users u ON u.id = g.user_id
   WHERE (chk.p).status IS NULL AND l.course_id = lms.path_id(path);
END;

-- GET /admin/export/ledger (admins): the points ledger in id order, ?since= / ?until=
-- (created_at, ISO 8601) optional.
CREATE FUNCTION lms.api_export_ledger(token text, path text, query jsonb, body jsonb)
RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
BEGIN ATOMIC
  WITH chk AS MATERIALIZED (SELECT coalesce(lms.admin_check(lms.caller(token)), lms.export_range_check(query)) AS p)
  SELECT lms.export_head(chk.p, 'text/csv; charset=utf-8', 'points-ledger.csv') FROM chk
  UNION ALL
  SELECT 'id,user_id,points,reason,source_key,course_id,source_id,note,created_at' || E'\n'
    FROM chk WHERE (chk.p).status IS NULL
  UNION ALL
  (SELECT pg_catalog.concat_ws(',', x.id, x.user_id, x.points, x.reason, lms.csv(x.source_key), coalesce(x.course_id::text, ''), coalesce(x.source_id::text, ''),
           lms.csv(x.note), lms.iso(x.created_at)) || E'\n'
    FROM chk, lms.points_ledger x
   WHERE (chk.p).status IS NULL
     AND x.created_at >= coalesce(lms.xapi_timestamp(query->'since'), '-infinity')
     AND x.created_at < coalesce(lms.xapi_timestamp(query->'until'), 'infinity')
   ORDER BY x.id);
END;

-- GET /admin/export/statements (admins): the LRS's statements in stored order, ?format=ndjson
-- (each statement as stored, one per line; the default) or csv (id, stored, actor, verb,
-- object, result); ?since= / ?until= on stored; voided statements are included and marked.
CREATE FUNCTION lms.api_export_statements(token text, path text, query jsonb, body jsonb)
RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
BEGIN ATOMIC
  WITH chk AS MATERIALIZED (
    SELECT coalesce(lms.admin_check(lms.caller(token)), lms.export_range_check(query),
                    CASE WHEN coalesce(query->>'format', 'ndjson') NOT IN ('ndjson', 'csv')
                         THEN lms.invalid('format', 'must be ndjson or csv') END) AS p,
           coalesce(query->>'format', 'ndjson') AS fmt)
  SELECT lms.export_head(chk.p, CASE chk.fmt WHEN 'csv' THEN 'text/csv; charset=utf-8' ELSE 'application/x-ndjson' END,
                         'statements.' || chk.fmt) FROM chk
  UNION ALL
  SELECT 'id,stored,actor,verb,object_type,object_id,success,completion,score_scaled,registration,voided' || E'\n'
    FROM chk WHERE (chk.p).status IS NULL AND chk.fmt = 'csv'
  UNION ALL
  (SELECT CASE WHEN chk.fmt = 'csv'
              THEN pg_catalog.concat_ws(',', s.id, lms.iso(s.stored), lms.csv(lms.xapi_ifi(s.statement->'actor')), lms.csv(s.verb_id),
                     coalesce(s.statement->'object'->>'objectType', 'Activity'), lms.csv(s.statement->'object'->>'id'),
                     coalesce(s.statement->'result'->>'success', ''), coalesce(s.statement->'result'->>'completion', ''),
                     coalesce(s.statement->'result'->'score'->>'scaled', ''), coalesce(s.registration::text, ''), s.voided)
              ELSE s.statement::text END || E'\n'
    FROM chk, lms.xapi_statements s
   WHERE (chk.p).status IS NULL
     AND s.stored >= coalesce(lms.xapi_timestamp(query->'since'), '-infinity')
     AND s.stored < coalesce(lms.xapi_timestamp(query->'until'), 'infinity')
   ORDER BY s.seq);
END;

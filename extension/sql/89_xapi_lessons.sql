-- The LRS and the lms core: lessons and courses as xAPI activities, learners as xAPI agents,
-- and completions reported by a trusted activity provider (docs/xapi.md, "Wired to progress").

-- The setting lms.xapi_iri_base (C: calling it loads the library that defines the setting).
CREATE FUNCTION lms.xapi_iri_base() RETURNS text
  AS 'MODULE_PATHNAME', 'lms_xapi_iri_base_get' LANGUAGE C STABLE PARALLEL SAFE;

-- The activity IRI of an lms activity: <lms.xapi_iri_base>/xapi/activities/<kind>/<ref>, for
-- kind lesson, course, achievement (ref: the id) and points (ref: the reason of an award that
-- names no lesson or course); NULL for a NULL ref. Not STRICT, so that a query inlines it (the
-- statements lms emits look their IRIs up with it, extension/xapi_emit.c).
CREATE FUNCTION lms.xapi_activity_prefix() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN lms.xapi_iri_base() || '/xapi/activities/';

CREATE FUNCTION lms.xapi_activity_iri(kind text, ref text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN lms.xapi_activity_prefix() || kind || '/' || ref;

CREATE FUNCTION lms.xapi_activity_iri(kind text, id bigint) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN lms.xapi_activity_iri(kind, id::text);

-- The definition lms gives one of its activities: the type of its kind and its title as the
-- name (titles have no known language: "und"); NULL without a title. STABLE as
-- jsonb_build_object is, so that a query inlines it.
CREATE FUNCTION lms.xapi_lms_definition(kind text, title text) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE WHEN title IS NOT NULL THEN
  CASE kind WHEN 'lesson' THEN '{"type": "http://adlnet.gov/expapi/activities/lesson"}'::jsonb
            WHEN 'course' THEN '{"type": "http://adlnet.gov/expapi/activities/course"}'
            WHEN 'achievement' THEN '{"type": "http://id.tincanapi.com/activitytype/badge"}'
            ELSE '{}' END
  || pg_catalog.jsonb_build_object('name', pg_catalog.jsonb_build_object('und', title)) END;

-- The definition lms gives an activity IRI of its own as things are now (GET /xapi/activities
-- merges it over what statements said), or NULL for any other IRI.
CREATE FUNCTION lms.xapi_lms_activity_definition(iri text) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT lms.xapi_lms_definition(x.kind,
           CASE x.kind WHEN 'lesson' THEN (SELECT l.title FROM lms.lessons l WHERE l.id = lms.path_id(x.ref))
                       WHEN 'course' THEN (SELECT c.title FROM lms.courses c WHERE c.id = lms.path_id(x.ref))
                       WHEN 'achievement' THEN (SELECT a.title FROM lms.achievements a WHERE a.id = lms.path_id(x.ref))
                       WHEN 'points' THEN CASE WHEN x.ref ~ '^[a-z_]{1,50}$' THEN x.ref END END)
    FROM (SELECT split_part(r.rest, '/', 1) AS kind, substr(r.rest, strpos(r.rest, '/') + 1) AS ref
            FROM (SELECT substr(iri, length(lms.xapi_activity_prefix()) + 1) AS rest) r) x
   WHERE pg_catalog.starts_with(iri, lms.xapi_activity_prefix());
END;

-- The lesson an activity IRI names, or NULL.
CREATE FUNCTION lms.xapi_lesson_of(iri text) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE WHEN pg_catalog.starts_with(iri, lms.xapi_activity_iri('lesson', ''))
            THEN lms.path_id(substr(iri, length(lms.xapi_activity_iri('lesson', '')) + 1)) END;

-- A learner as an xAPI Agent: the account {homePage: <lms.xapi_iri_base>, name: <user id>}
-- (NULL for a NULL id; not STRICT, so that a query inlines it).
CREATE FUNCTION lms.xapi_agent_of(user_id bigint) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE WHEN user_id IS NOT NULL
            THEN pg_catalog.jsonb_build_object('objectType', 'Agent', 'account',
                   pg_catalog.jsonb_build_object('homePage', lms.xapi_iri_base(), 'name', user_id::text)) END;

-- The lms user an actor is: that account, or an mbox with the user's email; NULL otherwise.
CREATE FUNCTION lms.xapi_user_of(actor jsonb) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE WHEN actor->'account'->>'homePage' = lms.xapi_iri_base()
            THEN (SELECT u.id FROM lms.users u WHERE u.id = lms.path_id(actor->'account'->>'name'))
            WHEN actor->>'mbox' ILIKE 'mailto:%'
            THEN (SELECT u.id FROM lms.users u WHERE u.email = lower(substr(actor->>'mbox', 8))) END;

-- Completions reported over xAPI: a `completed` statement, or a `passed` one whose result does
-- not say success false, from an activity provider trusted to complete lessons
-- (lms.xapi_clients.completes_lessons), whose actor is an lms learner and whose object is a
-- lesson's activity, completes that lesson through lms.complete_lesson, the exactly-once path of
-- POST /progress and of a quiz pass (points once, counters, course completion, boards). The
-- statement is stored either way; a learner who is not enrolled (or a lesson that is locked)
-- completes nothing. Voiding such a statement later does not undo the completion: progress,
-- like the ledger, only moves forward. A lesson completed by a `completed` statement gets no
-- `completed` statement from lms (the provider's is the record); one completed by `passed`
-- does (89_xapi_lms_events.sql). Returns how many lessons this call completed.
CREATE FUNCTION lms.xapi_complete_lessons(stmts jsonb) RETURNS int
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  c record;
  n int := 0;
BEGIN
  FOR c IN SELECT lms.xapi_user_of(s->'actor') AS user_id, lms.xapi_lesson_of(s->'object'->>'id') AS lesson_id,
                  bool_or(s->'verb'->>'id' = 'http://adlnet.gov/expapi/verbs/completed') AS reported
             FROM pg_catalog.jsonb_array_elements(stmts) s
            WHERE s->'verb'->>'id' IN ('http://adlnet.gov/expapi/verbs/completed', 'http://adlnet.gov/expapi/verbs/passed')
              AND coalesce(s->'object'->>'objectType', 'Activity') = 'Activity'
              AND (s->'verb'->>'id' = 'http://adlnet.gov/expapi/verbs/completed' OR s->'result'->>'success' IS DISTINCT FROM 'false')
            GROUP BY 1, 2
  LOOP
    CONTINUE WHEN c.user_id IS NULL OR c.lesson_id IS NULL;
    IF (lms.complete_lesson(c.user_id, c.lesson_id, c.reported)->>'lesson_completed')::boolean THEN
      n := n + 1;
    END IF;
  END LOOP;
  RETURN n;
END
$$;

-- The LRS and the lms core: lessons and courses as xAPI activities, learners as xAPI agents,
-- and completions reported by a trusted activity provider (docs/xapi.md, "Wired to progress").

-- The setting lms.xapi_iri_base (C: calling it loads the library that defines the setting).
CREATE FUNCTION lms.xapi_iri_base() RETURNS text
  AS 'MODULE_PATHNAME', 'lms_xapi_iri_base_get' LANGUAGE C STABLE PARALLEL SAFE;

-- The activity IRI of a lesson or a course: <lms.xapi_iri_base>/xapi/activities/<kind>/<id>.
CREATE FUNCTION lms.xapi_activity_iri(kind text, id bigint) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN lms.xapi_iri_base() || '/xapi/activities/' || kind || '/' || id;

-- The lesson an activity IRI names, or NULL.
CREATE FUNCTION lms.xapi_lesson_of(iri text) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE WHEN pg_catalog.starts_with(iri, lms.xapi_iri_base() || '/xapi/activities/lesson/')
            THEN lms.path_id(substr(iri, length(lms.xapi_iri_base() || '/xapi/activities/lesson/') + 1)) END;

-- A learner as an xAPI Agent: the account {homePage: <lms.xapi_iri_base>, name: <user id>}.
CREATE FUNCTION lms.xapi_agent_of(user_id bigint) RETURNS jsonb
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN pg_catalog.jsonb_build_object('objectType', 'Agent', 'account',
         pg_catalog.jsonb_build_object('homePage', lms.xapi_iri_base(), 'name', user_id::text));

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
-- like the ledger, only moves forward. Returns how many lessons this call completed.
CREATE FUNCTION lms.xapi_complete_lessons(stmts jsonb) RETURNS int
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  c record;
  n int := 0;
BEGIN
  FOR c IN SELECT DISTINCT lms.xapi_user_of(s->'actor') AS user_id, lms.xapi_lesson_of(s->'object'->>'id') AS lesson_id
             FROM pg_catalog.jsonb_array_elements(stmts) s
            WHERE s->'verb'->>'id' IN ('http://adlnet.gov/expapi/verbs/completed', 'http://adlnet.gov/expapi/verbs/passed')
              AND coalesce(s->'object'->>'objectType', 'Activity') = 'Activity'
              AND NOT (s->'verb'->>'id' = 'http://adlnet.gov/expapi/verbs/passed' AND s->'result'->>'success' = 'false')
  LOOP
    CONTINUE WHEN c.user_id IS NULL OR c.lesson_id IS NULL;
    IF (lms.complete_lesson(c.user_id, c.lesson_id)->>'lesson_completed')::boolean THEN
      n := n + 1;
    END IF;
  END LOOP;
  RETURN n;
END
$$;

\i tests/regress/setup.psql
-- The xAPI Learning Record Store through SQL: credentials, the shared request steps, statements
-- (validation, storage rules, voiding, filters, cursor paging, formats), documents with ETag
-- concurrency, the Activities, Agents and About resources. Every call is the one the gateway
-- makes: lms.api_xapi_<resource>(method, query, headers, body bytea).
CREATE FUNCTION pg_temp.x(r lms.xapi_response) RETURNS text LANGUAGE sql AS $$
  SELECT r.status || ' ' || coalesce((r.headers - 'X-Experience-API-Consistent-Through' - 'Last-Modified')::text, '')
         || coalesce(' ' || CASE WHEN r.headers->>'Content-Type' ~ 'json' THEN (convert_from(r.body, 'UTF8')::jsonb - 'type' - 'title' - 'authority')::text
                                  ELSE convert_from(r.body, 'UTF8') END, '')
$$;

-- credentials: the key and the SHA-256 of a 256-bit secret
SELECT key, secret FROM lms.xapi_create_client('Player') \gset
SELECT length(:'key') AS key_len, length(:'secret') AS secret_len,
       secret_hash = sha256(convert_to(:'secret', 'UTF8')) AS hashed, authority - 'account' AS authority,
       authority->'account'->>'name' = :'key' AS account_is_key
  FROM lms.xapi_clients;
SELECT jsonb_build_object('authorization', 'Basic ' || translate(encode(convert_to(:'key' || ':' || :'secret', 'UTF8'), 'base64'), E'\n', ''),
                          'x-experience-api-version', '1.0.3', 'content-type', 'application/json') AS h \gset

-- the shared steps: version header, credentials, unknown parameters
SELECT pg_temp.x(lms.api_xapi_statements('GET', '{}', :'h'::jsonb - 'x-experience-api-version', NULL));
SELECT pg_temp.x(lms.api_xapi_statements('GET', '{}', :'h'::jsonb || '{"x-experience-api-version": "0.9"}', NULL));
SELECT pg_temp.x(lms.api_xapi_statements('GET', '{}', :'h'::jsonb || '{"authorization": "Basic Zm9vOmJhcg=="}', NULL));
SELECT pg_temp.x(lms.api_xapi_statements('GET', '{"Verb": "http://x"}', :'h', NULL));
SELECT pg_temp.x(lms.api_xapi_about('GET', '{}', '{}', NULL));

-- PUT one statement; the same again is a no-op, a different one with that id is 409
SELECT pg_temp.x(lms.api_xapi_statements('PUT', '{"statementId": "00000000-0000-4000-8000-000000000001"}', :'h', convert_to(
  '{"actor": {"mbox": "mailto:ann@example.org", "name": "Ann"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed", "fr-FR": "a terminé"}},
    "object": {"id": "http://example.org/lesson/1", "definition": {"name": {"en-US": "Lesson 1"}}},
    "context": {"registration": "00000000-0000-4000-8000-0000000000aa", "contextActivities": {"parent": {"id": "http://example.org/course/1"}}}}', 'UTF8')));
SELECT pg_temp.x(lms.api_xapi_statements('PUT', '{"statementId": "00000000-0000-4000-8000-000000000001"}', :'h', convert_to(
  '{"actor": {"mbox": "mailto:ann@example.org", "name": "Ann"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed", "fr-FR": "a terminé"}},
    "object": {"id": "http://example.org/lesson/1", "definition": {"name": {"en-US": "Lesson 1"}}},
    "context": {"registration": "00000000-0000-4000-8000-0000000000aa", "contextActivities": {"parent": [{"id": "http://example.org/course/1"}]}}}', 'UTF8')));
SELECT pg_temp.x(lms.api_xapi_statements('PUT', '{"statementId": "00000000-0000-4000-8000-000000000001"}', :'h', convert_to(
  '{"actor": {"mbox": "mailto:ann@example.org"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/failed"}, "object": {"id": "http://example.org/lesson/1"}}', 'UTF8')));
-- stored with id, stored, authority, version, timestamp; contextActivities as arrays
SELECT pg_temp.x(lms.api_xapi_statements('GET', '{"statementId": "00000000-0000-4000-8000-000000000001"}', :'h', NULL));

-- validation: each of these is a 400 with the reason, and a refused batch stores nothing
SELECT s AS statement, (lms.api_xapi_statements('POST', '{}', :'h', convert_to(s, 'UTF8'))).status,
       lms.xapi_statement_error(s::jsonb, '1.0.3') AS reason
  FROM unnest(ARRAY[
    '{"actor": {"mbox": "ann@example.org"}, "verb": {"id": "http://v"}, "object": {"id": "http://o"}}',
    '{"actor": {"mbox": "mailto:a@b.c", "openid": "http://a"}, "verb": {"id": "http://v"}, "object": {"id": "http://o"}}',
    '{"actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": "v"}, "object": {"id": "http://o"}}',
    '{"actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": "http://v", "display": {"en_US": "x"}}, "object": {"id": "http://o"}}',
    '{"actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": "http://v"}, "object": {"id": "http://o"}, "result": {"score": {"scaled": 1.5}}}',
    '{"actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": "http://v"}, "object": {"id": "http://o"}, "result": {"duration": "P4W1D"}}',
    '{"actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": "http://v"}, "object": {"id": "http://o"}, "timestamp": "2026-03-02T10:00:00"}',
    '{"actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": "http://v"}, "object": {"objectType": "Agent", "name": "x"}}',
    '{"actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": "http://v"}, "object": {"objectType": "Agent", "mbox": "mailto:x@y.z"}, "context": {"platform": "web"}}',
    '{"actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": "http://v"}, "object": {"id": "http://o"}, "extra": null}',
    '{"actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"}, "object": {"id": "http://o"}}',
    '[{"actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": "http://v"}, "object": {"id": "http://o"}}, {"actor": {"mbox": "mailto:a@b.c"}}]'
  ]) s;
SELECT count(*) AS statements FROM lms.xapi_statements;
-- unknown keys and null values are refused at every level, the first in key order reported;
-- a null inside an extension's value is free
SELECT lms.xapi_statement_error(s::jsonb, '1.0.3') AS reason FROM unnest(ARRAY[
  '{"actor": {"mbox": "mailto:a@b.c", "name": null}, "verb": {"id": "http://v"}, "object": {"id": "http://o"}}',
  '{"actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": "http://v", "zz": 1}, "object": {"id": "http://o"}}',
  '{"actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": "http://v"}, "object": {"id": "http://o", "definition": {"type": null, "zz": 1}}}',
  '{"actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": "http://v"}, "object": {"id": "http://o"}, "result": {"extensions": {"http://e": {"c": null}}}}',
  '{"actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": "http://v"}, "object": {"id": "http://o"}, "context": {"contextActivities": {"parent": [{"id": "http://p"}, {"id": "http://q", "zz": 1}]}}}',
  '{"actor": {"objectType": "Group", "member": [{"mbox": "mailto:a@b.c"}, {"mbox": "mailto:x@y.z", "member": []}]}, "verb": {"id": "http://v"}, "object": {"id": "http://o"}}'
]) s;
-- contexts come out the same with or without the quick path
SELECT c, lms.xapi_normalize_context(c) AS quick, lms.xapi_context_as_arrays(c) AS searched
  FROM (VALUES ('{"contextActivities": {"parent": [{"id": "http://p"}]}}'::jsonb),
               ('{"contextActivities": {"parent": {"id": "http://p"}, "other": [{"id": "http://o"}]}}'),
               ('{"contextActivities": {}}')) t(c)
 WHERE lms.xapi_normalize_context(c) IS DISTINCT FROM lms.xapi_context_as_arrays(c);

-- a batch: 200 with the ids in order
SELECT pg_temp.x(lms.api_xapi_statements('POST', '{}', :'h', convert_to(
  '[{"id": "00000000-0000-4000-8000-000000000002", "actor": {"mbox": "mailto:ann@example.org"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/progressed"}, "object": {"id": "http://example.org/lesson/2"}},
    {"id": "00000000-0000-4000-8000-000000000003", "actor": {"mbox": "mailto:bob@example.org"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/progressed"}, "object": {"id": "http://example.org/lesson/2"},
     "context": {"instructor": {"mbox": "mailto:ann@example.org"}}},
    {"id": "00000000-0000-4000-8000-000000000004", "actor": {"mbox": "mailto:ann@example.org"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/progressed"}, "object": {"id": "http://example.org/lesson/3"}}]', 'UTF8')));
SELECT pg_temp.x(lms.api_xapi_statements('POST', '{}', :'h', convert_to(
  '[{"id": "00000000-0000-4000-8000-000000000005", "actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": "http://v"}, "object": {"id": "http://o"}},
    {"id": "00000000-0000-4000-8000-000000000005", "actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": "http://v"}, "object": {"id": "http://o"}}]', 'UTF8')));

-- the link rows behind the filters
SELECT s.id, CASE WHEN a.agent LIKE 'account:urn:lms:xapi-client %' THEN '(the authority)' ELSE a.agent END AS agent, a.direct
  FROM lms.xapi_statement_agents a JOIN lms.xapi_statements s USING (seq)
 WHERE s.id = '00000000-0000-4000-8000-000000000003' ORDER BY a.agent;
SELECT s.id, a.activity, a.direct FROM lms.xapi_statement_activities a JOIN lms.xapi_statements s USING (seq)
 WHERE s.id = '00000000-0000-4000-8000-000000000001' ORDER BY a.activity;

-- filters: agent (direct, then related), activity (direct, then related), verb, registration
CREATE FUNCTION pg_temp.ids(q jsonb, h jsonb) RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN r.status <> 200 THEN r.status || ' ' || (convert_from(r.body, 'UTF8')::jsonb->>'detail')
         ELSE r.status || ' ' || coalesce((SELECT string_agg(right(s->>'id', 1), ',' ORDER BY n)
                                        FROM jsonb_array_elements(convert_from(r.body, 'UTF8')::jsonb->'statements') WITH ORDINALITY t(s, n)), '-')
         || ' more=' || (convert_from(r.body, 'UTF8')::jsonb->>'more' <> '') END
    FROM lms.api_xapi_statements('GET', q, h, NULL) r
$$;
SELECT q, pg_temp.ids(q::jsonb, :'h') FROM unnest(ARRAY[
  '{}',
  '{"agent": "{\"mbox\": \"mailto:ann@example.org\"}"}',
  '{"agent": "{\"mbox\": \"mailto:ann@example.org\"}", "related_agents": "true"}',
  '{"activity": "http://example.org/course/1"}',
  '{"activity": "http://example.org/course/1", "related_activities": "true"}',
  '{"activity": "http://example.org/lesson/2", "agent": "{\"mbox\": \"mailto:bob@example.org\"}"}',
  '{"verb": "http://adlnet.gov/expapi/verbs/progressed", "ascending": "true"}',
  '{"registration": "00000000-0000-4000-8000-0000000000aa"}',
  '{"since": "2026-03-02T10:00:00Z"}',
  '{"until": "2026-03-02T10:00:00Z"}',
  '{"limit": "2"}',
  '{"agent": "{\"name\": \"nobody\"}"}',
  '{"statementId": "00000000-0000-4000-8000-000000000001", "verb": "http://x"}'
]) q;

-- paging: `more` carries the filters and the last position; each page is one index range
SELECT convert_from(body, 'UTF8')::jsonb->>'more' AS more FROM lms.api_xapi_statements('GET', '{"limit": "2"}', :'h', NULL) \gset
SELECT pg_temp.ids(jsonb_build_object('more', split_part(:'more', 'more=', 2)), :'h') AS page2;
SELECT pg_temp.ids('{"more": "garbage"}', :'h') AS bad_cursor;

-- formats: ids keeps identifiers only; canonical keeps one language (Accept-Language)
SELECT (convert_from(body, 'UTF8')::jsonb->'statements'->0) - '{stored,timestamp,authority}'::text[] AS ids_format
  FROM lms.api_xapi_statements('GET', '{"format": "ids", "limit": "1", "ascending": "true"}', :'h', NULL);
SELECT convert_from(body, 'UTF8')::jsonb->'statements'->0->'verb' AS canonical_fr
  FROM lms.api_xapi_statements('GET', '{"format": "canonical", "limit": "1", "ascending": "true"}', :'h'::jsonb || '{"accept-language": "fr-FR, en;q=0.5"}', NULL);

-- voiding: the target leaves the queries, stays readable by voidedStatementId; a voiding
-- statement cannot be voided; statements that target a match are returned with it
SELECT pg_temp.x(lms.api_xapi_statements('POST', '{}', :'h', convert_to(
  '{"id": "00000000-0000-4000-8000-000000000006", "actor": {"mbox": "mailto:ann@example.org"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
    "object": {"objectType": "StatementRef", "id": "00000000-0000-4000-8000-000000000004"}}', 'UTF8')));
SELECT (lms.api_xapi_statements('GET', '{"statementId": "00000000-0000-4000-8000-000000000004"}', :'h', NULL)).status AS by_id,
       (lms.api_xapi_statements('GET', '{"voidedStatementId": "00000000-0000-4000-8000-000000000004"}', :'h', NULL)).status AS by_voided_id,
       pg_temp.ids('{"activity": "http://example.org/lesson/3"}', :'h') AS activity_filter;
SELECT pg_temp.x(lms.api_xapi_statements('POST', '{}', :'h', convert_to(
  '{"actor": {"mbox": "mailto:ann@example.org"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
    "object": {"objectType": "StatementRef", "id": "00000000-0000-4000-8000-000000000006"}}', 'UTF8')));

-- documents: state (any content type), profiles with ETag concurrency, JSON merge on POST
SELECT pg_temp.x(lms.api_xapi_state('PUT', '{"activityId": "http://example.org/lesson/1", "agent": "{\"mbox\": \"mailto:ann@example.org\"}", "stateId": "bookmark"}',
                                    :'h'::jsonb || '{"content-type": "text/plain"}', convert_to('page 12', 'UTF8')));
SELECT pg_temp.x(lms.api_xapi_state('GET', '{"activityId": "http://example.org/lesson/1", "agent": "{\"mbox\": \"mailto:ann@example.org\"}", "stateId": "bookmark"}', :'h', NULL));
SELECT pg_temp.x(lms.api_xapi_state('POST', '{"activityId": "http://example.org/lesson/1", "agent": "{\"mbox\": \"mailto:ann@example.org\"}", "stateId": "bookmark"}', :'h', convert_to('{"a": 1}', 'UTF8')));
SELECT pg_temp.x(lms.api_xapi_state('GET', '{"activityId": "http://example.org/lesson/1", "agent": "{\"mbox\": \"mailto:ann@example.org\"}"}', :'h', NULL));
SELECT pg_temp.x(lms.api_xapi_state('GET', '{"activityId": "http://example.org/lesson/1"}', :'h', NULL));
SELECT pg_temp.x(lms.api_xapi_activity_profile('PUT', '{"activityId": "http://example.org/lesson/1", "profileId": "p"}', :'h', convert_to('{"a": 1}', 'UTF8')));
SELECT pg_temp.x(lms.api_xapi_activity_profile('PUT', '{"activityId": "http://example.org/lesson/1", "profileId": "p"}', :'h'::jsonb || '{"if-none-match": "*"}', convert_to('{"a": 1}', 'UTF8')));
SELECT pg_temp.x(lms.api_xapi_activity_profile('PUT', '{"activityId": "http://example.org/lesson/1", "profileId": "p"}', :'h', convert_to('{"a": 2}', 'UTF8')));
SELECT pg_temp.x(lms.api_xapi_activity_profile('PUT', '{"activityId": "http://example.org/lesson/1", "profileId": "p"}', :'h'::jsonb || '{"if-match": "\"nope\""}', convert_to('{"a": 2}', 'UTF8')));
SELECT pg_temp.x(lms.api_xapi_activity_profile('PUT', '{"activityId": "http://example.org/lesson/1", "profileId": "p"}',
                 :'h'::jsonb || jsonb_build_object('if-match', '"' || lms.sha1_hex(convert_to('{"a": 1}', 'UTF8')) || '"'), convert_to('{"a": 2}', 'UTF8')));
SELECT pg_temp.x(lms.api_xapi_activity_profile('POST', '{"activityId": "http://example.org/lesson/1", "profileId": "p"}', :'h', convert_to('{"b": {"c": 3}}', 'UTF8')));
SELECT pg_temp.x(lms.api_xapi_activity_profile('GET', '{"activityId": "http://example.org/lesson/1", "profileId": "p"}', :'h', NULL));
SELECT pg_temp.x(lms.api_xapi_agent_profile('PUT', '{"agent": "{\"mbox\": \"mailto:ann@example.org\"}", "profileId": "prefs"}', :'h'::jsonb || '{"if-none-match": "*"}', convert_to('{"lang": "fr"}', 'UTF8')));
SELECT pg_temp.x(lms.api_xapi_agent_profile('DELETE', '{"agent": "{\"mbox\": \"mailto:ann@example.org\"}", "profileId": "prefs"}', :'h', NULL));
SELECT pg_temp.x(lms.api_xapi_agent_profile('GET', '{"agent": "{\"mbox\": \"mailto:ann@example.org\"}", "profileId": "prefs"}', :'h', NULL));

-- Activities (definitions merged across statements, languages kept), Agents (Person)
SELECT pg_temp.x(lms.api_xapi_statements('POST', '{}', :'h', convert_to(
  '{"actor": {"mbox": "mailto:bob@example.org"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
    "object": {"id": "http://example.org/lesson/1", "definition": {"name": {"fr-FR": "Leçon 1"}, "type": "http://adlnet.gov/expapi/activities/lesson"}}}', 'UTF8'))) IS NOT NULL AS posted;
SELECT pg_temp.x(lms.api_xapi_activities('GET', '{"activityId": "http://example.org/lesson/1"}', :'h', NULL));
SELECT pg_temp.x(lms.api_xapi_activities('GET', '{"activityId": "http://example.org/never"}', :'h', NULL));
SELECT pg_temp.x(lms.api_xapi_agents('GET', '{"agent": "{\"account\": {\"homePage\": \"http://example.org\", \"name\": \"ann\"}}"}', :'h', NULL));

-- the Alternate Request Syntax (1.0.3): a PUT sent as a form POST; refused in 2.0
SELECT pg_temp.x(lms.api_xapi_statements('POST', '{"method": "PUT"}', jsonb_build_object('content-type', 'application/x-www-form-urlencoded'),
  convert_to('statementId=00000000-0000-4000-8000-000000000007&X-Experience-API-Version=1.0.3&Authorization=' || replace(replace(:'h'::jsonb->>'authorization', ' ', '%20'), '=', '%3D')
             || '&content=' || replace(replace('{"actor": {"mbox": "mailto:c@d.e"}, "verb": {"id": "http://v"}, "object": {"id": "http://o"}}', ' ', '+'), '"', '%22'), 'UTF8')));
SELECT (lms.api_xapi_statements('GET', '{"statementId": "00000000-0000-4000-8000-000000000007"}', :'h', NULL)).status AS alt_put_stored;
SELECT pg_temp.x(lms.api_xapi_statements('POST', '{"method": "GET"}', :'h'::jsonb || '{"x-experience-api-version": "2.0.0", "content-type": "application/x-www-form-urlencoded"}', convert_to('limit=1', 'UTF8')));

-- the gateway role runs the API functions only
SELECT has_function_privilege('lms_gateway', 'lms.api_xapi_statements(text,jsonb,jsonb,bytea)', 'EXECUTE') AS api,
       has_function_privilege('lms_gateway', 'lms.xapi_create_client(text,boolean)', 'EXECUTE') AS create_client,
       has_table_privilege('lms_gateway', 'lms.xapi_statements', 'SELECT') AS statements_table;

-- Wired to progress: lessons are activities, learners are agents; a completed or passed
-- statement from a provider trusted to complete lessons completes the lesson through
-- lms.complete_lesson (points once); other providers' statements are only stored.
SELECT lms.create_user('lia@example.org', 'password-1', 'Lia') AS lia \gset
SELECT lms.create_user('ivo@example.org', 'password-1', 'Ivo', 'instructor') AS ivo \gset
INSERT INTO lms.courses (slug, title, instructor_id, is_published) VALUES ('xapi', 'xAPI', :ivo, true) RETURNING id AS c \gset
INSERT INTO lms.modules (course_id, title, position) VALUES (:c, 'M', 1) RETURNING id AS m \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, points) VALUES (:m, :c, 'Player', 'text', 1, 40) RETURNING id AS l \gset
SELECT result FROM lms.enroll(:lia, :c);
SELECT lms.xapi_activity_iri('lesson', :l) = 'https://lms.example/xapi/activities/lesson/' || :l AS iri,
       lms.xapi_lesson_of(lms.xapi_activity_iri('lesson', :l)) = :l AS parsed,
       lms.xapi_user_of(lms.xapi_agent_of(:lia)) = :lia AS by_account,
       lms.xapi_user_of('{"mbox": "mailto:LIA@example.org"}') = :lia AS by_mbox;
SELECT key AS tkey, secret AS tsecret FROM lms.xapi_create_client('Trusted player', completes_lessons => true) \gset
SELECT jsonb_build_object('authorization', 'Basic ' || translate(encode(convert_to(:'tkey' || ':' || :'tsecret', 'UTF8'), 'base64'), E'\n', ''),
                          'x-experience-api-version', '1.0.3', 'content-type', 'application/json') AS th \gset
CREATE FUNCTION pg_temp.completion(h jsonb, id uuid, verb text, user_id bigint, lesson_id bigint, result jsonb DEFAULT NULL)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  st int := (lms.api_xapi_statements('POST', '{}', h, convert_to(jsonb_strip_nulls(jsonb_build_object('id', id, 'actor', lms.xapi_agent_of(user_id),
              'verb', jsonb_build_object('id', 'http://adlnet.gov/expapi/verbs/' || verb),
              'object', jsonb_build_object('id', lms.xapi_activity_iri('lesson', lesson_id)), 'result', result))::text, 'UTF8'))).status;
BEGIN
  RETURN st || ' completed=' || coalesce((SELECT lp.is_completed FROM lms.lesson_progress lp WHERE lp.user_id = completion.user_id AND lp.lesson_id = completion.lesson_id), false)
         || ' awards=' || (SELECT count(*) FROM lms.points_ledger pl WHERE pl.user_id = completion.user_id AND pl.reason = 'lesson_completed');
END
$$;
-- an untrusted provider, a passed without success, a failed: stored, nothing completed
SELECT pg_temp.completion(:'h', '00000000-0000-4000-8000-0000000000b1', 'completed', :lia, :l);
SELECT pg_temp.completion(:'th', '00000000-0000-4000-8000-0000000000b2', 'passed', :lia, :l, '{"success": false}');
SELECT pg_temp.completion(:'th', '00000000-0000-4000-8000-0000000000b3', 'failed', :lia, :l);
-- the trusted provider's completion: the lesson completes, its 40 points once
SELECT pg_temp.completion(:'th', '00000000-0000-4000-8000-0000000000b4', 'completed', :lia, :l);
SELECT completed_lessons, status FROM lms.course_progress(:lia, :c);
-- the same statement again, and another completion with a new id: nothing more
SELECT pg_temp.completion(:'th', '00000000-0000-4000-8000-0000000000b4', 'completed', :lia, :l);
SELECT pg_temp.completion(:'th', '00000000-0000-4000-8000-0000000000b5', 'passed', :lia, :l);
SELECT total_points FROM lms.learner_scores WHERE user_id = :lia;
-- voiding the completion hides the statement but does not undo the completion
SELECT (lms.api_xapi_statements('POST', '{}', :'th', convert_to('{"actor": {"mbox": "mailto:ivo@example.org"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
          "object": {"objectType": "StatementRef", "id": "00000000-0000-4000-8000-0000000000b4"}}', 'UTF8'))).status AS voided,
       (SELECT lp.is_completed FROM lms.lesson_progress lp WHERE lp.user_id = :lia AND lp.lesson_id = :l) AS still_completed;
-- a learner who is not enrolled: the statement is stored, nothing is completed
SELECT lms.create_user('noe@example.org', 'password-1', 'Noe') AS noe \gset
SELECT pg_temp.completion(:'th', '00000000-0000-4000-8000-0000000000b6', 'completed', :noe, :l);

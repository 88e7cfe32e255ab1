\i tests/regress/setup.psql
-- From progress to the LRS: lms emits an xAPI statement for each of its own events, in the
-- transaction of the event (extension/xapi_emit.c, docs/xapi.md). Each step below shows exactly
-- what the event added to the store: the learner is the actor, lessons and courses are the
-- objects, and the statements are served by the same GET /xapi/statements as a client's.

-- what the store gained since the last look: verb, object (its name), result, parent, and
-- whether the registration is the enrollment's
CREATE TABLE pg_temp.seen (seq bigint);
INSERT INTO pg_temp.seen VALUES (0);
CREATE FUNCTION pg_temp.added() RETURNS TABLE (actor text, verb text, object text, result jsonb, parent text, registration text)
LANGUAGE sql AS $$
  WITH n AS (SELECT s.* FROM lms.xapi_statements s WHERE s.seq > (SELECT seq FROM pg_temp.seen) AND s.client_id IS NULL),
       u AS (UPDATE pg_temp.seen SET seq = coalesce((SELECT max(x.seq) FROM lms.xapi_statements x), 0))
  SELECT (SELECT u.display_name FROM lms.users u WHERE u.id::text = n.statement->'actor'->'account'->>'name'),
         regexp_replace(n.statement->'verb'->>'id', '^.*/', ''),
         coalesce(n.statement->'object'->'definition'->'name'->>'und', n.statement->'object'->>'id'),
         n.statement->'result',
         regexp_replace(n.statement->'context'->'contextActivities'->'parent'->0->>'id', '^https://lms.example/xapi/activities/', ''),
         CASE WHEN n.registration IS NULL THEN NULL
              WHEN n.registration = (SELECT lms.xapi_registration(e.id) FROM lms.enrollments e
                                      WHERE e.user_id::text = n.statement->'actor'->'account'->>'name'
                                        AND lms.xapi_activity_iri('course', e.course_id) IN (n.statement->'object'->>'id',
                                              n.statement->'context'->'contextActivities'->'parent'->0->>'id'))
              THEN 'the enrollment''s' ELSE 'another' END
    FROM n ORDER BY n.seq
$$;

SELECT lms.create_user('ivo@example.org', 'password-1', 'Ivo', 'instructor') AS ivo \gset
SELECT lms.create_user('lia@example.org', 'password-1', 'Lia') AS lia \gset
SELECT lms.create_user('max@example.org', 'password-1', 'Max') AS max \gset
INSERT INTO lms.courses (slug, title, instructor_id, is_published) VALUES ('records', 'Records', :ivo, true) RETURNING id AS c \gset
INSERT INTO lms.modules (course_id, title, position) VALUES (:c, 'Module', 1) RETURNING id AS m \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, points, duration_seconds)
VALUES (:m, :c, 'Watch', 'video', 1, 40, 600) RETURNING id AS video \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, points) VALUES (:m, :c, 'Read', 'text', 2, 10) RETURNING id AS text \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, points) VALUES (:m, :c, 'Test', 'quiz', 3, 5) RETURNING id AS quiz_lesson \gset
INSERT INTO lms.quizzes (lesson_id, title, pass_score) VALUES (:quiz_lesson, 'Test', 50) RETURNING id AS quiz \gset
INSERT INTO lms.quiz_questions (quiz_id, position, prompt, choices, answer) VALUES (:quiz, 1, 'Two?', '["1", "2"]', 1) RETURNING id AS question \gset
SELECT body::jsonb->>'access_token' AS lia_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email": "lia@example.org", "password": "password-1"}') \gset

-- enrolling: registered, the course
SELECT result FROM lms.enroll(:lia, :c);
SELECT * FROM pg_temp.added();
-- enrolling again changes nothing, emits nothing
SELECT result FROM lms.enroll(:lia, :c);
SELECT * FROM pg_temp.added();

-- heartbeats of the video: progressed only when the lesson's percentage reaches a quarter it had
-- not reached (25, 50, 75 %), with where the learner is; 10 % and 33 % emit nothing, 70 %
-- reaches the second quarter past the first
SELECT lms.record_progress(:lia, :video, 60, 60, 10)->'lesson'->>'completion_percentage' AS pct;
SELECT * FROM pg_temp.added();
SELECT lms.record_progress(:lia, :video, 180, 180, 30)->'lesson'->>'completion_percentage' AS pct;
SELECT * FROM pg_temp.added();
SELECT lms.record_progress(:lia, :video, 200, 200, 33)->'lesson'->>'completion_percentage' AS pct;
SELECT lms.record_progress(:lia, :video, 420, 420, 70)->'lesson'->>'completion_percentage' AS pct;
SELECT * FROM pg_temp.added();
-- going back (the stored percentage is a maximum) and the same quarter again: nothing
SELECT lms.record_progress(:lia, :video, 430, 100, 20)->'lesson'->>'completion_percentage' AS pct;
SELECT lms.record_progress(:lia, :video, 440, 445, 74)->'lesson'->>'completion_percentage' AS pct;
SELECT * FROM pg_temp.added();
-- a write that rolls back emits nothing
BEGIN;
SELECT lms.record_progress(:lia, :video, 480, 480, 80)->'lesson'->>'completion_percentage' AS pct;
SELECT count(*) AS statements_inside FROM lms.xapi_statements;
ROLLBACK;
SELECT count(*) AS statements_after FROM lms.xapi_statements;
-- completing: completed, then the points and the first achievement it earned
SELECT lms.record_progress(:lia, :video, 560, 560, 95)->'lesson'->>'is_completed' AS completed;
SELECT * FROM pg_temp.added();
-- a completed lesson emits no more progress
SELECT lms.record_progress(:lia, :video, 600, 600, 100)->'lesson'->>'is_completed' AS completed;
SELECT * FROM pg_temp.added();

-- a quiz attempt: failed, then passed with its score; the pass completes the lesson
SELECT status, body::jsonb->'passed' AS passed FROM lms.api_quiz_attempt(:'lia_tok', :'quiz', '{}', jsonb_build_object('answers', jsonb_build_object(:'question', 0)));
SELECT * FROM pg_temp.added();
SELECT status, body::jsonb->'passed' AS passed FROM lms.api_quiz_attempt(:'lia_tok', :'quiz', '{}', jsonb_build_object('answers', jsonb_build_object(:'question', 1)));
SELECT * FROM pg_temp.added();
-- the same attempt's statement again is the same statement: nothing more is stored
SELECT lms.xapi_emit_attempt(max(id)) FROM lms.quiz_attempts;
SELECT * FROM pg_temp.added();

-- the last lesson completes the course: completed (lesson, course), then their points
SELECT lms.record_progress(:lia, :text, 30, 30, 100, true)->'course'->>'status' AS course_status;
SELECT * FROM pg_temp.added();

-- points from elsewhere: an admin's award names no lesson or course; a correction down is
-- not something earned
SELECT lms.award_points(:lia, 15, 'admin_correction', 'thanks-1') IS NOT NULL AS awarded;
SELECT lms.award_points(:lia, -5, 'admin_correction', 'oops-1') IS NOT NULL AS awarded;
SELECT * FROM pg_temp.added();
-- a new achievement granted to everyone who qualifies, set-based
INSERT INTO lms.achievements (code, title, points, kind, threshold) VALUES ('three', 'Three lessons', 5, 'lessons_completed', 3) RETURNING id AS three \gset
SELECT lms.grant_qualifying_achievements(:three) AS granted;
SELECT * FROM pg_temp.added();

-- Completions reported by an activity provider trusted to complete lessons: its `completed`
-- statement is the record, lms adds no `completed` of its own (the points follow); a `passed`
-- statement completes the lesson too, and there lms says `completed`.
SELECT result FROM lms.enroll(:max, :c);
SELECT * FROM pg_temp.added();
SELECT key AS tkey, secret AS tsecret FROM lms.xapi_create_client('Player', completes_lessons => true) \gset
SELECT jsonb_build_object('authorization', 'Basic ' || translate(encode(convert_to(:'tkey' || ':' || :'tsecret', 'UTF8'), 'base64'), E'\n', ''),
                          'x-experience-api-version', '1.0.3', 'content-type', 'application/json') AS th \gset
CREATE FUNCTION pg_temp.report(h jsonb, verb text, user_id bigint, lesson_id bigint) RETURNS int LANGUAGE sql AS $$
  SELECT (lms.api_xapi_statements('POST', '{}', h, convert_to(jsonb_build_object('actor', lms.xapi_agent_of(user_id),
            'verb', jsonb_build_object('id', 'http://adlnet.gov/expapi/verbs/' || verb),
            'object', jsonb_build_object('id', lms.xapi_activity_iri('lesson', lesson_id)))::text, 'UTF8'))).status
$$;
SELECT pg_temp.report(:'th', 'completed', :max, :video) AS status;
SELECT * FROM pg_temp.added();
SELECT pg_temp.report(:'th', 'passed', :max, :text) AS status;
SELECT is_completed AS completed FROM lms.lesson_progress WHERE user_id = :max AND lesson_id = :text;
SELECT * FROM pg_temp.added();

-- with lms.xapi_emit off, lms emits nothing
SET lms.xapi_emit = off;
SELECT lms.record_progress(:max, :quiz_lesson, 10, 10, 0)->'lesson'->>'lesson_id' IS NOT NULL AS written;
SELECT lms.unenroll(:max, :c) AS dropped, (SELECT result FROM lms.enroll(:max, :c)) AS enrolled;
SELECT * FROM pg_temp.added();
RESET lms.xapi_emit;
-- on again, a day later: a re-activated enrollment is registered again, under the same
-- registration
SET lms.clock_override = '2026-03-03 10:00:00+00';
SELECT lms.unenroll(:max, :c) AS dropped, (SELECT result FROM lms.enroll(:max, :c)) AS enrolled;
SELECT * FROM pg_temp.added();

-- Every statement lms emitted passes the validation of a client's statement (1.0.3 and 2.0.0),
-- has the link rows the generic rules give (lms.xapi_statement_agent_links / _activity_links:
-- extension/xapi_emit.c writes them directly), its id derived from the event, and no link
-- row is without its statement.
SELECT count(*) AS emitted,
       count(*) FILTER (WHERE lms.xapi_statement_error(s.statement, '1.0.3') IS NULL
                          AND lms.xapi_statement_error(s.statement, '2.0.0') IS NULL) AS valid,
       count(*) FILTER (WHERE (SELECT array_agg((l.agent, l.direct)::text ORDER BY l.agent) FROM lms.xapi_statement_agent_links(s.statement) l)
                            = (SELECT array_agg((a.agent, a.direct)::text ORDER BY a.agent) FROM lms.xapi_statement_agents a WHERE a.seq = s.seq)
                          AND (SELECT array_agg((l.activity, l.direct)::text ORDER BY l.activity) FROM lms.xapi_statement_activity_links(s.statement) l)
                            = (SELECT array_agg((a.activity, a.direct)::text ORDER BY a.activity) FROM lms.xapi_statement_activities a WHERE a.seq = s.seq)) AS links_agree,
       count(*) FILTER (WHERE s.statement->'verb'->>'id' LIKE '%/completed' AND s.statement->'object'->>'id' LIKE '%/lesson/%'
                          AND s.id = lms.xapi_event_id((SELECT secret FROM lms.xapi_emitter),
                                                       'completed:lesson:' || (s.statement->'actor'->'account'->>'name') || ':'
                                                       || lms.xapi_lesson_of(s.statement->'object'->>'id'))) AS completed_ids_derived,
       count(*) FILTER (WHERE s.statement->'verb'->>'id' LIKE '%/completed' AND s.statement->'object'->>'id' LIKE '%/lesson/%') AS completed_lessons
  FROM lms.xapi_statements s WHERE s.client_id IS NULL;
SELECT (SELECT count(*) FROM lms.xapi_statement_agents a WHERE NOT EXISTS (SELECT FROM lms.xapi_statements s WHERE s.seq = a.seq))
     + (SELECT count(*) FROM lms.xapi_statement_activities a WHERE NOT EXISTS (SELECT FROM lms.xapi_statements s WHERE s.seq = a.seq)) AS orphan_links;

-- Read back through GET /xapi/statements (what the gateway calls): the learner's record in the
-- video lesson, in the course with its lessons (related_activities), by registration, and one
-- statement by id; a client sending one of them again is the same statement (200), a different
-- statement under its id is a conflict (409).
SELECT jsonb_build_object('authorization', :'th'::jsonb->>'authorization', 'x-experience-api-version', '1.0.3') AS rh \gset
CREATE FUNCTION pg_temp.get(h jsonb, q jsonb) RETURNS TABLE (status int, verbs text) LANGUAGE sql AS $$
  SELECT r.status, (SELECT string_agg(regexp_replace(s->'verb'->>'id', '^.*/', ''), ' ' ORDER BY o)
                      FROM jsonb_array_elements(convert_from(r.body, 'UTF8')::jsonb->'statements') WITH ORDINALITY x(s, o))
    FROM lms.api_xapi_statements('GET', q || '{"ascending": "true"}', h, NULL) r
$$;
SELECT * FROM pg_temp.get(:'rh', jsonb_build_object('agent', lms.xapi_agent_of(:lia)::text, 'activity', lms.xapi_activity_iri('lesson', :video)));
SELECT * FROM pg_temp.get(:'rh', jsonb_build_object('agent', lms.xapi_agent_of(:lia)::text, 'activity', lms.xapi_activity_iri('course', :c), 'related_activities', 'true'));
SELECT * FROM pg_temp.get(:'rh', jsonb_build_object('registration', (SELECT lms.xapi_registration(e.id) FROM lms.enrollments e WHERE e.user_id = :max), 'verb', 'http://adlnet.gov/expapi/verbs/registered'));
SELECT id AS sid, statement AS stmt FROM lms.xapi_statements WHERE client_id IS NULL AND verb_id LIKE '%/passed' \gset
SELECT status, convert_from(body, 'UTF8')::jsonb = :'stmt'::jsonb AS same_document
  FROM lms.api_xapi_statements('GET', jsonb_build_object('statementId', :'sid'), :'rh', NULL);
SELECT (lms.api_xapi_statements('POST', '{}', :'th', convert_to(:'stmt', 'UTF8'))).status AS same_again,
       (lms.api_xapi_statements('POST', '{}', :'th', convert_to(jsonb_set(:'stmt'::jsonb, '{result,success}', 'false')::text, 'UTF8'))).status AS changed;

-- GET /xapi/activities: lms's own activities have lms's definition as it is now
UPDATE lms.lessons SET title = 'Watch closely' WHERE id = :video;
SELECT convert_from(body, 'UTF8')::jsonb->'definition' AS definition
  FROM lms.api_xapi_activities('GET', jsonb_build_object('activityId', lms.xapi_activity_iri('lesson', :video)), :'rh', NULL);
SELECT convert_from(body, 'UTF8')::jsonb->'definition' AS definition
  FROM lms.api_xapi_activities('GET', jsonb_build_object('activityId', lms.xapi_activity_iri('points', 'admin_correction')), :'rh', NULL);
SELECT convert_from(body, 'UTF8')::jsonb AS unknown
  FROM lms.api_xapi_activities('GET', jsonb_build_object('activityId', lms.xapi_activity_iri('lesson', 999)), :'rh', NULL);

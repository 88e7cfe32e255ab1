\i tests/regress/setup.psql

-- The catalog as readers see it: GET /courses (paging, filters, search, mine), GET /courses/{id}
-- for anonymous readers, learners, owners and admins, and GET /lessons/{id} with its access rules.

-- A page of courses in short: status, page, limit, total and the items' ids and slugs.
CREATE FUNCTION pg_temp.page(r lms.api_response) RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN r.status <> 200 THEN pg_temp.brief(r) ELSE
    r.status || format(' page=%s limit=%s total=%s items=', r.body::jsonb->'page', r.body::jsonb->'limit', r.body::jsonb->'total')
    || coalesce((SELECT string_agg(i->>'id' || ':' || (i->>'slug'), ',' ORDER BY n)
                   FROM jsonb_array_elements(r.body::jsonb->'items') WITH ORDINALITY AS x(i, n)), '-') END
$$;

SELECT lms.create_user('ines@example.org', 'password1', 'Ines Instructor', 'instructor') AS ines,
       lms.create_user('ivan@example.org', 'password1', 'Ivan Instructor', 'instructor') AS ivan,
       lms.create_user('ada@example.org', 'password1', 'Ada Admin', 'admin') AS ada,
       lms.create_user('sam@example.org', 'password1', 'Sam Student') AS sam,
       lms.create_user('lea@example.org', 'password1', 'Lea Learner') AS lea \gset
SELECT body::jsonb->>'access_token' AS ines_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"ines@example.org","password":"password1"}') \gset
SELECT body::jsonb->>'access_token' AS ivan_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"ivan@example.org","password":"password1"}') \gset
SELECT body::jsonb->>'access_token' AS ada_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"ada@example.org","password":"password1"}') \gset
SELECT body::jsonb->>'access_token' AS sam_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"sam@example.org","password":"password1"}') \gset
SELECT body::jsonb->>'access_token' AS lea_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"lea@example.org","password":"password1"}') \gset

-- The catalog, built through the authoring API, one course a minute (so "newest first" shows):
--   1 sql-basics (Ines, databases, published)      2 postgres-internals (Ines, databases, published)
--   3 watercolor (Ivan, art, published)            4 draft-course (Ines, draft)
--   5 100-percent-sql (Ivan, databases, published, capacity 2)
SELECT count(*) FILTER (WHERE status IN (200, 201)) AS ok, count(*) AS calls FROM (
  SELECT (lms.api_course_create(:'ines_tok', NULL, '{}', '{"title":"SQL Basics","category":"databases","summary":"Queries for everyone."}')).status
  UNION ALL SELECT (lms.api_module_create(:'ines_tok', '1', '{}', '{"title":"Getting started"}')).status
  UNION ALL SELECT (lms.api_module_create(:'ines_tok', '1', '{}', '{"title":"Going further"}')).status
  UNION ALL SELECT (lms.api_lesson_create(:'ines_tok', '1', '{}', '{"title":"Welcome","kind":"video","duration_seconds":120,"is_preview":true,"video_playback_id":"pb-welcome"}')).status
  UNION ALL SELECT (lms.api_lesson_create(:'ines_tok', '1', '{}', '{"title":"First query","kind":"text","content":"SELECT 42;","points":20}')).status
  UNION ALL SELECT (lms.api_lesson_create(:'ines_tok', '2', '{}', '{"title":"Next week","kind":"video","duration_seconds":300,"available_from":"2026-03-09T00:00:00Z"}')).status
  UNION ALL SELECT (lms.api_lesson_create(:'ines_tok', '2', '{}', '{"title":"Work in progress","kind":"text","is_published":false,"content":"draft"}')).status
  UNION ALL SELECT (lms.api_course_publish(:'ines_tok', '1', '{}', NULL)).status) x;
SET lms.clock_override = '2026-03-02 10:01:00+00';
SELECT status FROM lms.api_course_create(:'ines_tok', NULL, '{}', '{"title":"Postgres Internals","category":"databases","summary":"How the SQL engine stores rows."}');
SELECT status FROM lms.api_module_create(:'ines_tok', '2', '{}', '{"title":"Storage"}');
SELECT status FROM lms.api_lesson_create(:'ines_tok', '3', '{}', '{"title":"Pages","kind":"video","duration_seconds":600}');
SELECT status FROM lms.api_course_publish(:'ines_tok', '2', '{}', NULL);
SET lms.clock_override = '2026-03-02 10:02:00+00';
SELECT status FROM lms.api_course_create(:'ivan_tok', NULL, '{}', '{"title":"Watercolor","category":"art","summary":"Brushes, paper, 50% water_"}');
SELECT status FROM lms.api_module_create(:'ivan_tok', '3', '{}', '{"title":"Colors"}');
SELECT status FROM lms.api_lesson_create(:'ivan_tok', '4', '{}', '{"title":"Mixing","kind":"video","duration_seconds":240,"is_preview":true}');
SELECT status FROM lms.api_course_publish(:'ivan_tok', '3', '{}', NULL);
SET lms.clock_override = '2026-03-02 10:03:00+00';
SELECT status FROM lms.api_course_create(:'ines_tok', NULL, '{}', '{"title":"Draft course","category":"databases"}');
SELECT status FROM lms.api_module_create(:'ines_tok', '4', '{}', '{"title":"Soon"}');
SELECT status FROM lms.api_lesson_create(:'ines_tok', '5', '{}', '{"title":"Teaser","kind":"video","duration_seconds":60,"is_preview":true}');
SET lms.clock_override = '2026-03-02 10:04:00+00';
SELECT status FROM lms.api_course_create(:'ivan_tok', NULL, '{}', '{"title":"100% SQL","category":"databases","capacity":2}');
SELECT status FROM lms.api_module_create(:'ivan_tok', '5', '{}', '{"title":"All of it"}');
SELECT status FROM lms.api_lesson_create(:'ivan_tok', '6', '{}', '{"title":"Everything","kind":"text"}');
SELECT status FROM lms.api_course_publish(:'ivan_tok', '5', '{}', NULL);
SET lms.clock_override = '2026-03-02 11:00:00+00';

-- ============================================================================================
-- GET /courses
-- ============================================================================================
-- published only, newest first (created_at desc, then id desc)
SELECT pg_temp.page(lms.api_courses_list(NULL, NULL, '{}', NULL));
-- one item in full
SELECT jsonb_pretty(body::jsonb->'items'->0) FROM lms.api_courses_list(NULL, NULL, '{"limit":"1"}', NULL);
-- paging
SELECT pg_temp.page(lms.api_courses_list(NULL, NULL, '{"limit":"2"}', NULL));
SELECT pg_temp.page(lms.api_courses_list(NULL, NULL, '{"limit":"2","page":"2"}', NULL));
SELECT pg_temp.page(lms.api_courses_list(NULL, NULL, '{"limit":"2","page":"3"}', NULL));
SELECT pg_temp.page(lms.api_courses_list(NULL, NULL, '{"limit":"2","page":"9"}', NULL));
SELECT pg_temp.page(lms.api_courses_list(NULL, NULL, '{"limit":"100"}', NULL));
-- category: an exact match
SELECT pg_temp.page(lms.api_courses_list(NULL, NULL, '{"category":"databases"}', NULL));
SELECT pg_temp.page(lms.api_courses_list(NULL, NULL, '{"category":"art"}', NULL));
SELECT pg_temp.page(lms.api_courses_list(NULL, NULL, '{"category":"Art"}', NULL));
-- q: title or summary, any case, a substring; % and _ are plain characters
SELECT pg_temp.page(lms.api_courses_list(NULL, NULL, '{"q":"sql"}', NULL));
SELECT pg_temp.page(lms.api_courses_list(NULL, NULL, '{"q":"ROWS"}', NULL));
SELECT pg_temp.page(lms.api_courses_list(NULL, NULL, '{"q":"%"}', NULL));
SELECT pg_temp.page(lms.api_courses_list(NULL, NULL, '{"q":"r_"}', NULL));
SELECT pg_temp.page(lms.api_courses_list(NULL, NULL, '{"q":"sql","category":"databases","limit":"1","page":"2"}', NULL));
SELECT pg_temp.page(lms.api_courses_list(NULL, NULL, '{"q":"no such thing"}', NULL));
SELECT pg_temp.page(lms.api_courses_list(NULL, NULL, '{"q":""}', NULL));
-- mine=true: the caller's own courses, drafts included
SELECT pg_temp.page(lms.api_courses_list(:'ines_tok', NULL, '{"mine":"true"}', NULL));
SELECT pg_temp.page(lms.api_courses_list(:'ivan_tok', NULL, '{"mine":"true","q":"sql"}', NULL));
SELECT pg_temp.page(lms.api_courses_list(:'sam_tok', NULL, '{"mine":"true"}', NULL));
SELECT pg_temp.page(lms.api_courses_list(:'ines_tok', NULL, '{"mine":"false"}', NULL));
-- an invalid token is ignored where no token is needed ...
SELECT pg_temp.page(lms.api_courses_list('not-a-token', NULL, '{"limit":"1"}', NULL));
-- ... but mine=true needs a valid one
SELECT pg_temp.page(lms.api_courses_list(NULL, NULL, '{"mine":"true"}', NULL));
SELECT pg_temp.page(lms.api_courses_list('not-a-token', NULL, '{"mine":"true"}', NULL));
-- 400: paging and filter values
SELECT pg_temp.page(lms.api_courses_list(NULL, NULL, '{"limit":"0"}', NULL));
SELECT pg_temp.page(lms.api_courses_list(NULL, NULL, '{"limit":"101"}', NULL));
SELECT pg_temp.page(lms.api_courses_list(NULL, NULL, '{"limit":"ten"}', NULL));
SELECT pg_temp.page(lms.api_courses_list(NULL, NULL, '{"page":"0"}', NULL));
SELECT pg_temp.page(lms.api_courses_list(NULL, NULL, '{"page":"-1"}', NULL));
SELECT pg_temp.page(lms.api_courses_list(NULL, NULL, '{"mine":"yes"}', NULL));
SELECT pg_temp.page(lms.api_courses_list(NULL, NULL, jsonb_build_object('q', repeat('x', 201)), NULL));

-- ============================================================================================
-- GET /courses/{id}
-- ============================================================================================
-- anyone: the course with its modules and published lessons, in position order
SELECT jsonb_pretty(body::jsonb) FROM lms.api_course_get(NULL, '1', '{}', NULL);
-- the owner and admins also see the unpublished lesson; another instructor and learners do not
SELECT u.who, (SELECT string_agg(l->>'title' || CASE WHEN (l->>'is_published')::boolean THEN '' ELSE ' (unpublished)' END, ', ')
                 FROM jsonb_array_elements(r.body::jsonb->'modules') m, jsonb_array_elements(m->'lessons') l) AS lessons
  FROM (VALUES ('anonymous', NULL), ('owner', :'ines_tok'), ('admin', :'ada_tok'),
               ('other instructor', :'ivan_tok'), ('learner', :'sam_tok'), ('bad token', 'not-a-token')) u(who, tok),
       LATERAL lms.api_course_get(u.tok, '1', '{}', NULL) r;
-- a draft course: 404 unless owner or admin
SELECT pg_temp.brief(lms.api_course_get(NULL, '4', '{}', NULL));
SELECT pg_temp.brief(lms.api_course_get(:'sam_tok', '4', '{}', NULL));
SELECT pg_temp.brief(lms.api_course_get(:'ivan_tok', '4', '{}', NULL));
SELECT status, body::jsonb->'is_published' AS is_published, body::jsonb->'modules'->0->'lessons'->0->'title' AS lesson
  FROM lms.api_course_get(:'ines_tok', '4', '{}', NULL);
SELECT status, body::jsonb->'is_published' AS is_published FROM lms.api_course_get(:'ada_tok', '4', '{}', NULL);
-- unknown and invalid ids
SELECT pg_temp.brief(lms.api_course_get(NULL, '999', '{}', NULL));
SELECT pg_temp.brief(lms.api_course_get(NULL, 'one', '{}', NULL));
-- a course without modules has an empty list
SELECT status FROM lms.api_course_create(:'ivan_tok', NULL, '{}', '{"title":"Empty"}');
SELECT status, body::jsonb->'modules' AS modules FROM lms.api_course_get(:'ivan_tok', '6', '{}', NULL);
-- capacity, seats and enrollment figures follow enrollments
SELECT result FROM lms.enroll(:sam, 5);
SELECT body::jsonb->'capacity' AS capacity, body::jsonb->'seats_left' AS seats_left, body::jsonb->'enrollment_count' AS enrollment_count
  FROM lms.api_course_get(NULL, '5', '{}', NULL);

-- ============================================================================================
-- GET /lessons/{id}
-- lessons of course 1: 1 Welcome (preview), 2 First query, 3 Next week (from 2026-03-09),
-- 4 Work in progress (unpublished); Teaser is the preview lesson of the draft course 4
-- ============================================================================================
SELECT id AS teaser FROM lms.lessons WHERE title = 'Teaser' \gset
-- anyone reads a preview lesson, with content and playback id; progress is null
SELECT jsonb_pretty(body::jsonb) FROM lms.api_lesson_get(NULL, '1', '{}', NULL);
SELECT status, body::jsonb->'progress' AS progress FROM lms.api_lesson_get('not-a-token', '1', '{}', NULL);
-- anyone else: 401 without a (valid) token
SELECT pg_temp.brief(lms.api_lesson_get(NULL, '2', '{}', NULL));
SELECT pg_temp.brief(lms.api_lesson_get('not-a-token', '2', '{}', NULL));
-- 403 for a learner who is not enrolled
SELECT pg_temp.brief(lms.api_lesson_get(:'sam_tok', '2', '{}', NULL));
-- enrolled: 200, progress null until the learner has some
SELECT result FROM lms.enroll(:sam, 1);
SELECT status, body::jsonb->>'content' AS content, body::jsonb->'progress' AS progress FROM lms.api_lesson_get(:'sam_tok', '2', '{}', NULL);
INSERT INTO lms.lesson_progress (user_id, lesson_id, course_id, module_id, watched_seconds, last_position_seconds,
                                 completion_percentage, is_completed, completed_at, updated_at)
VALUES (:sam, 1, 1, 1, 100, 95, 83.33, false, NULL, lms.clock()),
       (:sam, 2, 1, 1, 0, 0, 100, true, lms.clock(), lms.clock());
SELECT status, body::jsonb->'progress' AS progress FROM lms.api_lesson_get(:'sam_tok', '1', '{}', NULL);
SELECT status, body::jsonb->'progress' AS progress FROM lms.api_lesson_get(:'sam_tok', '2', '{}', NULL);
-- another learner's progress is theirs alone
SELECT status, body::jsonb->'progress' AS progress FROM lms.api_lesson_get(:'lea_tok', '1', '{}', NULL);
-- 403 lesson_locked before available_from, for the learner; the owner may read it
SELECT pg_temp.brief(lms.api_lesson_get(:'sam_tok', '3', '{}', NULL));
SELECT status, body::jsonb->'available_from' AS available_from FROM lms.api_lesson_get(:'ines_tok', '3', '{}', NULL);
-- a week later (tokens live 24 h: everyone logs in again)
SET lms.clock_override = '2026-03-09 00:00:00+00';
SELECT body::jsonb->>'access_token' AS ines_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"ines@example.org","password":"password1"}') \gset
SELECT body::jsonb->>'access_token' AS ivan_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"ivan@example.org","password":"password1"}') \gset
SELECT body::jsonb->>'access_token' AS ada_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"ada@example.org","password":"password1"}') \gset
SELECT body::jsonb->>'access_token' AS sam_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"sam@example.org","password":"password1"}') \gset
SELECT status, body::jsonb->'title' AS title FROM lms.api_lesson_get(:'sam_tok', '3', '{}', NULL);
-- an unpublished lesson: 404 for learners, visible to the owner and admins
SELECT pg_temp.brief(lms.api_lesson_get(:'sam_tok', '4', '{}', NULL));
SELECT pg_temp.brief(lms.api_lesson_get(NULL, '4', '{}', NULL));
SELECT status, body::jsonb->'is_published' AS is_published, body::jsonb->>'content' AS content FROM lms.api_lesson_get(:'ines_tok', '4', '{}', NULL);
SELECT status, body::jsonb->'is_published' AS is_published FROM lms.api_lesson_get(:'ada_tok', '4', '{}', NULL);
SELECT pg_temp.brief(lms.api_lesson_get(:'ivan_tok', '4', '{}', NULL));
-- a lesson of a draft course: 404 even when it is a preview, except for the owner
SELECT pg_temp.brief(lms.api_lesson_get(NULL, :'teaser', '{}', NULL));
SELECT pg_temp.brief(lms.api_lesson_get(:'sam_tok', :'teaser', '{}', NULL));
SELECT status, body::jsonb->'title' AS title FROM lms.api_lesson_get(:'ines_tok', :'teaser', '{}', NULL);
-- a dropped learner loses access
SELECT lms.unenroll(:sam, 1);
SELECT pg_temp.brief(lms.api_lesson_get(:'sam_tok', '2', '{}', NULL));
-- unknown and invalid ids
SELECT pg_temp.brief(lms.api_lesson_get(:'sam_tok', '999', '{}', NULL));
SELECT pg_temp.brief(lms.api_lesson_get(NULL, '0', '{}', NULL));

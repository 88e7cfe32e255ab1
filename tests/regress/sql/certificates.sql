\i tests/regress/setup.psql
-- Certificates: a learner who completed a course gets one certificate (asking again gives the
-- same one back); anyone verifies it by its unguessable code.
SELECT lms.create_user('ines@example.org', 'teach-pass-1', 'Ines Instructor', 'instructor') AS ines_id,
       lms.create_user('sam@example.org', 'learn-pass-1', 'Sam Student') AS sam_id,
       lms.create_user('lea@example.org', 'learn-pass-2', 'Lea Learner') AS lea_id,
       lms.create_user('bob@example.org', 'learn-pass-3', 'Bob Dropper') AS bob_id,
       lms.create_user('nia@example.org', 'learn-pass-4', 'Nia Nobody') AS nia_id \gset
SELECT body::jsonb->>'access_token' AS ines_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"ines@example.org","password":"teach-pass-1"}') \gset
SELECT body::jsonb->>'access_token' AS sam_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"sam@example.org","password":"learn-pass-1"}') \gset
SELECT body::jsonb->>'access_token' AS lea_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"lea@example.org","password":"learn-pass-2"}') \gset
SELECT body::jsonb->>'access_token' AS bob_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"bob@example.org","password":"learn-pass-3"}') \gset
SELECT body::jsonb->>'access_token' AS nia_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"nia@example.org","password":"learn-pass-4"}') \gset

-- a published course of two text lessons
SELECT body::jsonb->>'id' AS course_id FROM lms.api_course_create(:'ines_tok', NULL, '{}', '{"title":"Writing SQL","slug":"writing-sql"}') \gset
SELECT body::jsonb->>'id' AS module_id FROM lms.api_module_create(:'ines_tok', :'course_id', '{}', '{"title":"All of it"}') \gset
SELECT body::jsonb->>'id' AS l1 FROM lms.api_lesson_create(:'ines_tok', :'module_id', '{}', '{"title":"One","kind":"text"}') \gset
SELECT body::jsonb->>'id' AS l2 FROM lms.api_lesson_create(:'ines_tok', :'module_id', '{}', '{"title":"Two","kind":"text"}') \gset
SELECT status FROM lms.api_course_publish(:'ines_tok', :'course_id', '{}', NULL);
SELECT status FROM lms.api_enroll(:'sam_tok', :'course_id', '{}', NULL);
SELECT status FROM lms.api_enroll(:'lea_tok', :'course_id', '{}', NULL);
SELECT status FROM lms.api_enroll(:'bob_tok', :'course_id', '{}', NULL);

-- Sam has done one lesson of two: 409 course_not_completed
SELECT status, body::jsonb->'course'->>'status' AS enrollment
  FROM lms.api_progress_record(:'sam_tok', :'l1', '{}', '{"watched_seconds":0,"last_position_seconds":0,"completion_percentage":100,"completed":true}');
SELECT status, body FROM lms.api_certificate_issue(:'sam_tok', :'course_id', '{}', NULL);
-- the last lesson completes the enrollment
SELECT status, body::jsonb->'course'->>'status' AS enrollment, (body::jsonb->>'certificate_eligible')::boolean AS eligible
  FROM lms.api_progress_record(:'sam_tok', :'l2', '{}', '{"watched_seconds":0,"last_position_seconds":0,"completion_percentage":100,"completed":true}');

-- POST /certificates/courses/{id}: 201 the first time (the code is random: checked, not printed)
SELECT status, body::jsonb - 'code' AS certificate, body::jsonb->>'code' ~ '^[A-Za-z0-9_-]{22}$' AS code_shape
  FROM lms.api_certificate_issue(:'sam_tok', :'course_id', '{}', NULL);
SELECT code AS sam_code FROM lms.certificates WHERE user_id = :sam_id \gset
-- asking again (later) is harmless: 200, the very same certificate
SET lms.clock_override = '2026-03-02 11:00:00+00';
SELECT status, body::jsonb - 'code' AS certificate, body::jsonb->>'code' = :'sam_code' AS same_code
  FROM lms.api_certificate_issue(:'sam_tok', :'course_id', '{}', NULL);
SELECT status, body::jsonb->>'code' = :'sam_code' AS same_code FROM lms.api_certificate_issue(:'sam_tok', :'course_id', '{}', '{}');
SELECT count(*) AS sam_certificates FROM lms.certificates WHERE user_id = :sam_id;

-- GET /certificates/{code}: anyone, with or without a token
SELECT status, body::jsonb - 'code' AS verification, body::jsonb->>'code' = :'sam_code' AS same_code
  FROM lms.api_certificate_get(NULL, :'sam_code', '{}', NULL);
SELECT status, body::jsonb->'valid' AS valid FROM lms.api_certificate_get(:'lea_tok', :'sam_code', '{}', NULL);
SELECT status, body::jsonb->'valid' AS valid FROM lms.api_certificate_get('not-a-token', :'sam_code', '{}', NULL);
-- unknown codes: 404 (a made-up code, one character changed, one character more, empty, NULL)
SELECT status, body FROM lms.api_certificate_get(NULL, 'AAAAAAAAAAAAAAAAAAAAAA', '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_certificate_get(NULL, left(:'sam_code', 21) || CASE WHEN right(:'sam_code', 1) = 'x' THEN 'y' ELSE 'x' END, '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_certificate_get(NULL, upper(:'sam_code') || 'z', '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_certificate_get(NULL, '', '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_certificate_get(NULL, NULL, '{}', NULL);

-- Lea completes too and gets her own, different code
SELECT status FROM lms.api_progress_record(:'lea_tok', :'l1', '{}', '{"watched_seconds":0,"last_position_seconds":0,"completion_percentage":100,"completed":true}');
SELECT status FROM lms.api_progress_record(:'lea_tok', :'l2', '{}', '{"watched_seconds":0,"last_position_seconds":0,"completion_percentage":100,"completed":true}');
SELECT status, body::jsonb->>'display_name' AS display_name, body::jsonb->>'code' <> :'sam_code' AS own_code
  FROM lms.api_certificate_issue(:'lea_tok', :'course_id', '{}', NULL);
-- a certificate shows the learner's current display name
SELECT status FROM lms.api_users_me_patch(:'lea_tok', NULL, '{}', '{"display_name":"Lea L. Learner"}');
SELECT status, body::jsonb->>'display_name' AS display_name
  FROM lms.api_certificate_get(NULL, (SELECT code FROM lms.certificates WHERE user_id = :lea_id), '{}', NULL);

-- errors: a dropped learner, a learner who never enrolled, no token, an unknown course
SELECT status FROM lms.api_unenroll(:'bob_tok', :'course_id', '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_certificate_issue(:'bob_tok', :'course_id', '{}', NULL);
SELECT status, body FROM lms.api_certificate_issue(:'nia_tok', :'course_id', '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_certificate_issue(:'ines_tok', :'course_id', '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_certificate_issue(NULL, :'course_id', '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_certificate_issue('expired-or-bogus', :'course_id', '{}', NULL);
SELECT status, body FROM lms.api_certificate_issue(:'sam_tok', '999', '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_certificate_issue(:'sam_tok', '0', '{}', NULL);
SELECT u.display_name, length(c.code) AS code_length, lms.iso(c.issued_at) AS issued_at
  FROM lms.certificates c JOIN lms.users u ON u.id = c.user_id ORDER BY c.id;

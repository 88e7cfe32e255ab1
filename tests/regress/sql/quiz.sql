\i tests/regress/setup.psql
-- Quizzes: an instructor adds a quiz to a quiz lesson; an enrolled learner reads it (never the
-- answers), fails, passes (which completes the lesson) and runs out of attempts.
SELECT lms.create_user('root@example.org', 'admin-pass-1', 'Root Admin', 'admin') AS admin_id,
       lms.create_user('ines@example.org', 'teach-pass-1', 'Ines Instructor', 'instructor') AS ines_id,
       lms.create_user('otto@example.org', 'teach-pass-2', 'Otto Other', 'instructor') AS otto_id,
       lms.create_user('sam@example.org', 'learn-pass-1', 'Sam Student') AS sam_id,
       lms.create_user('lea@example.org', 'learn-pass-2', 'Lea Looker') AS lea_id \gset
SELECT body::jsonb->>'access_token' AS admin_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"root@example.org","password":"admin-pass-1"}') \gset
SELECT body::jsonb->>'access_token' AS ines_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"ines@example.org","password":"teach-pass-1"}') \gset
SELECT body::jsonb->>'access_token' AS otto_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"otto@example.org","password":"teach-pass-2"}') \gset
SELECT body::jsonb->>'access_token' AS sam_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"sam@example.org","password":"learn-pass-1"}') \gset
SELECT body::jsonb->>'access_token' AS lea_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"lea@example.org","password":"learn-pass-2"}') \gset

-- a published course: a text lesson, a quiz lesson, a video lesson and a quiz lesson that opens later
SELECT status, body::jsonb->>'id' AS course_id FROM lms.api_course_create(:'ines_tok', NULL, '{}', '{"title":"SQL Basics","slug":"sql-basics"}') \gset
SELECT status, body::jsonb->>'id' AS module_id FROM lms.api_module_create(:'ines_tok', :'course_id', '{}', '{"title":"Start"}') \gset
SELECT status, body::jsonb->>'id' AS text_id FROM lms.api_lesson_create(:'ines_tok', :'module_id', '{}', '{"title":"Read me","kind":"text","content":"SELECT 1;"}') \gset
SELECT status, body::jsonb->>'id' AS quiz_lesson FROM lms.api_lesson_create(:'ines_tok', :'module_id', '{}', '{"title":"Check yourself","kind":"quiz","points":15}') \gset
SELECT status, body::jsonb->>'id' AS video_id FROM lms.api_lesson_create(:'ines_tok', :'module_id', '{}', '{"title":"Watch","kind":"video","duration_seconds":60}') \gset
SELECT status, body::jsonb->>'id' AS later_lesson FROM lms.api_lesson_create(:'ines_tok', :'module_id', '{}', '{"title":"Final","kind":"quiz","available_from":"2026-03-10T00:00:00Z"}') \gset
SELECT status FROM lms.api_course_publish(:'ines_tok', :'course_id', '{}', NULL);

-- POST /lessons/{id}/quiz: 201, the quiz without its answers, and one audit row
SELECT status, jsonb_pretty(body::jsonb) FROM lms.api_quiz_create(:'ines_tok', :'quiz_lesson', '{}',
  '{"title":"SQL check","pass_score":60,"max_attempts":3,"questions":[
     {"prompt":"Which clause filters rows?","choices":["WHERE","ORDER BY","LIMIT"],"answer":0},
     {"prompt":"Which keyword removes duplicates?","choices":["UNIQUE","DISTINCT"],"answer":1}]}');
SELECT body::jsonb->>'id' AS quiz_id, body::jsonb#>>'{questions,0,id}' AS q1, body::jsonb#>>'{questions,1,id}' AS q2
  FROM lms.api_quiz_get(:'ines_tok', (SELECT id::text FROM lms.quizzes WHERE lesson_id = :quiz_lesson), '{}', NULL) \gset
SELECT actor_id = :ines_id AS by_ines, action, entity, entity_id = :quiz_id AS this_quiz, data - 'lesson_id' AS data,
       (data->>'lesson_id')::bigint = :quiz_lesson AS this_lesson
  FROM lms.audit_log WHERE action LIKE 'quiz%';
-- an admin adds one to the later lesson (unlimited attempts: max_attempts absent)
SELECT status, body::jsonb - 'id' - 'lesson_id' - 'questions' AS quiz,
       jsonb_array_length(body::jsonb->'questions') AS questions
  FROM lms.api_quiz_create(:'admin_tok', :'later_lesson', '{}',
  '{"title":"Final","pass_score":100,"questions":[{"prompt":"2+2?","choices":["3","4"],"answer":1}]}');
SELECT body::jsonb->>'id' AS later_quiz, body::jsonb#>>'{questions,0,id}' AS lq1
  FROM lms.api_quiz_get(:'admin_tok', (SELECT id::text FROM lms.quizzes WHERE lesson_id = :later_lesson), '{}', NULL) \gset
-- the answers are stored, never shown
SELECT position, prompt, choices, answer FROM lms.quiz_questions ORDER BY id;
-- GET /lessons/{id} names the lesson's quiz (how a client finds GET /quizzes/{id}); null without one
SELECT status, (body::jsonb->>'quiz_id')::bigint = :quiz_id AS names_its_quiz
  FROM lms.api_lesson_get(:'ines_tok', :'quiz_lesson', '{}', NULL);
SELECT body::jsonb ? 'quiz_id' AS has_key, body::jsonb->'quiz_id' AS quiz_id
  FROM lms.api_lesson_get(:'ines_tok', :'video_id', '{}', NULL);

-- errors: the lesson already has a quiz; not a quiz lesson; unknown lesson; not the owner; no token
SELECT status, body FROM lms.api_quiz_create(:'ines_tok', :'quiz_lesson', '{}',
  '{"title":"Again","pass_score":50,"questions":[{"prompt":"x?","choices":["a","b"],"answer":0}]}');
SELECT status, body FROM lms.api_quiz_create(:'ines_tok', :'video_id', '{}',
  '{"title":"Nope","pass_score":50,"questions":[{"prompt":"x?","choices":["a","b"],"answer":0}]}');
SELECT status, body::jsonb->>'code' AS code FROM lms.api_quiz_create(:'ines_tok', :'text_id', '{}', '{"title":"Nope"}');
SELECT status, body FROM lms.api_quiz_create(:'ines_tok', '999', '{}', '{"title":"Nope"}');
SELECT status, body::jsonb->>'code' AS code FROM lms.api_quiz_create(:'otto_tok', :'quiz_lesson', '{}', '{"title":"Mine"}');
SELECT status, body::jsonb->>'code' AS code FROM lms.api_quiz_create(:'sam_tok', :'quiz_lesson', '{}', '{"title":"Mine"}');
SELECT status, body::jsonb->>'code' AS code FROM lms.api_quiz_create(NULL, :'quiz_lesson', '{}', '{"title":"Mine"}');
-- bad bodies: every invalid field reported at once, with its path
SELECT status, body FROM lms.api_quiz_create(:'ines_tok', :'quiz_lesson', '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_quiz_create(:'ines_tok', :'quiz_lesson', '{}', '[1,2]');
SELECT status, body::jsonb->>'code' AS code FROM lms.api_quiz_create(:'ines_tok', :'quiz_lesson', '{}', '"quiz"');
SELECT status, jsonb_pretty(body::jsonb->'errors') FROM lms.api_quiz_create(:'ines_tok', :'quiz_lesson', '{}', '{}');
SELECT status, jsonb_pretty(body::jsonb->'errors') FROM lms.api_quiz_create(:'ines_tok', :'quiz_lesson', '{}',
  '{"title":"  ","pass_score":101,"max_attempts":0,"questions":[
     {"prompt":"","choices":["only one"],"answer":1},
     {"prompt":"ok?","choices":["a","b"],"answer":2},
     "not an object",
     {"prompt":"mixed?","choices":["a",3,""],"answer":-1},
     {"prompt":"fraction?","choices":["a","b"],"answer":0.5},
     {"prompt":"text answer?","choices":["a","b"],"answer":"1"},
     {"choices":"ab"}]}');
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_quiz_create(:'ines_tok', :'quiz_lesson', '{}',
  '{"title":"T","pass_score":-1,"max_attempts":2.5,"questions":[]}');
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_quiz_create(:'ines_tok', :'quiz_lesson', '{}',
  '{"title":"T","pass_score":"60","max_attempts":"3","questions":{"prompt":"x"}}');
SELECT count(*) AS quizzes, (SELECT count(*) FROM lms.audit_log WHERE action LIKE 'quiz%') AS quiz_audit_rows FROM lms.quizzes;

-- Sam enrolls; Lea does not
SELECT status FROM lms.api_enroll(:'sam_tok', :'course_id', '{}', NULL);

-- GET /quizzes/{id}: enrolled learner, owner and admin see it, never the answers
SELECT status, jsonb_pretty(body::jsonb) FROM lms.api_quiz_get(:'sam_tok', :'quiz_id', '{}', NULL);
SELECT status, body::jsonb->>'title' AS title, body LIKE '%answer%' AS shows_answers FROM lms.api_quiz_get(:'ines_tok', :'quiz_id', '{}', NULL);
SELECT status, body::jsonb->>'title' AS title, body LIKE '%answer%' AS shows_answers FROM lms.api_quiz_get(:'admin_tok', :'quiz_id', '{}', NULL);
-- a quiz whose lesson opens later: locked for the learner, visible to the owner
SELECT status, body::jsonb->>'code' AS code FROM lms.api_quiz_get(:'sam_tok', :'later_quiz', '{}', NULL);
SELECT status, body::jsonb->>'title' AS title FROM lms.api_quiz_get(:'ines_tok', :'later_quiz', '{}', NULL);
-- not enrolled, another instructor, no token, unknown quiz
SELECT status, body FROM lms.api_quiz_get(:'lea_tok', :'quiz_id', '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_quiz_get(:'otto_tok', :'quiz_id', '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_quiz_get(NULL, :'quiz_id', '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_quiz_get('bogus', :'quiz_id', '{}', NULL);
SELECT status, body FROM lms.api_quiz_get(:'sam_tok', '999', '{}', NULL);

-- POST /quizzes/{id}/attempts: a fail (1 of 2 right = 50 < 60), nothing completed
SELECT status, body::jsonb - 'attempt_id' AS attempt FROM lms.api_quiz_attempt(:'sam_tok', :'quiz_id', '{}',
  jsonb_build_object('answers', jsonb_build_object(:'q1', 0, :'q2', 0)));
-- bad answers are refused without using an attempt
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_quiz_attempt(:'sam_tok', :'quiz_id', '{}',
  jsonb_build_object('answers', jsonb_build_object(:'q1', 3, :'q2', -1)));
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_quiz_attempt(:'sam_tok', :'quiz_id', '{}',
  jsonb_build_object('answers', jsonb_build_object(:'q1', '0', :'q2', 0.5)));
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_quiz_attempt(:'sam_tok', :'quiz_id', '{}',
  jsonb_build_object('answers', jsonb_build_object(:'lq1', 1, 'abc', 0, '999', 0)));
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_quiz_attempt(:'sam_tok', :'quiz_id', '{}', '{"answers":[0,1]}');
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_quiz_attempt(:'sam_tok', :'quiz_id', '{}', '{}');
SELECT status, body::jsonb->>'code' AS code FROM lms.api_quiz_attempt(:'sam_tok', :'quiz_id', '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_quiz_attempt(:'sam_tok', :'quiz_id', '{}', '[]');
-- who may not attempt: not enrolled (also the owner and an admin), no token, unknown quiz, locked lesson
SELECT status, body::jsonb->>'code' AS code FROM lms.api_quiz_attempt(:'lea_tok', :'quiz_id', '{}', '{"answers":{}}');
SELECT status, body::jsonb->>'code' AS code FROM lms.api_quiz_attempt(:'ines_tok', :'quiz_id', '{}', '{"answers":{}}');
SELECT status, body::jsonb->>'code' AS code FROM lms.api_quiz_attempt(:'admin_tok', :'quiz_id', '{}', '{"answers":{}}');
SELECT status, body::jsonb->>'code' AS code FROM lms.api_quiz_attempt(NULL, :'quiz_id', '{}', '{"answers":{}}');
SELECT status, body::jsonb->>'code' AS code FROM lms.api_quiz_attempt(:'sam_tok', '999', '{}', '{"answers":{}}');
SELECT status, body::jsonb->>'code' AS code FROM lms.api_quiz_attempt(:'sam_tok', :'later_quiz', '{}', '{"answers":{}}');
SELECT count(*) AS attempts_so_far FROM lms.quiz_attempts;

-- a pass (100 %) completes the quiz lesson and awards its points
SELECT status, body::jsonb - 'attempt_id' AS attempt FROM lms.api_quiz_attempt(:'sam_tok', :'quiz_id', '{}',
  jsonb_build_object('answers', jsonb_build_object(:'q1', 0, :'q2', 1)));
SELECT is_completed, lms.iso(completed_at) AS completed_at FROM lms.lesson_progress WHERE user_id = :sam_id AND lesson_id = :quiz_lesson;
-- what those points were: the lesson's 15, the quiz pass 20 + 10 for 100 %, and achievements
SELECT reason, points, course_id = :course_id AS this_course FROM lms.points_ledger WHERE user_id = :sam_id ORDER BY id;
SELECT completed_lessons, status FROM lms.enrollments WHERE user_id = :sam_id;
-- the third and last attempt: an unanswered question counts as wrong; nothing new is awarded
SELECT status, body::jsonb - 'attempt_id' AS attempt FROM lms.api_quiz_attempt(:'sam_tok', :'quiz_id', '{}',
  jsonb_build_object('answers', jsonb_build_object(:'q2', 1)));
-- 409: all three attempts used
SELECT status, body FROM lms.api_quiz_attempt(:'sam_tok', :'quiz_id', '{}',
  jsonb_build_object('answers', jsonb_build_object(:'q1', 0, :'q2', 1)));
SELECT attempt_no, score, passed, answers = jsonb_build_object(:'q1', 0, :'q2', 1) AS all_right
  FROM lms.quiz_attempts WHERE quiz_id = :quiz_id ORDER BY attempt_no;

-- the later quiz opens on 2026-03-10; unlimited attempts; pass_score 100
SET lms.clock_override = '2026-03-10 00:00:00+00';
-- (tokens last 24 hours: log in again)
SELECT body::jsonb->>'access_token' AS sam_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"sam@example.org","password":"learn-pass-1"}') \gset
SELECT status, body::jsonb - 'attempt_id' AS attempt FROM lms.api_quiz_attempt(:'sam_tok', :'later_quiz', '{}', '{"answers":{}}');
SELECT status, body::jsonb - 'attempt_id' AS attempt FROM lms.api_quiz_attempt(:'sam_tok', :'later_quiz', '{}',
  jsonb_build_object('answers', jsonb_build_object(:'lq1', 0)));
SELECT status, body::jsonb - 'attempt_id' AS attempt FROM lms.api_quiz_attempt(:'sam_tok', :'later_quiz', '{}',
  jsonb_build_object('answers', jsonb_build_object(:'lq1', 1)));

SELECT reason, points FROM lms.points_ledger WHERE user_id = :sam_id ORDER BY id;
-- a dropped learner may not attempt any more
SELECT status FROM lms.api_unenroll(:'sam_tok', :'course_id', '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_quiz_attempt(:'sam_tok', :'later_quiz', '{}', '{"answers":{}}');
SELECT status, body::jsonb->>'code' AS code FROM lms.api_quiz_get(:'sam_tok', :'later_quiz', '{}', NULL);

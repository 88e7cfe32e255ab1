-- Every API function and the SQL interface called on the demo data (demo/seed.sql), at a fixed
-- clock: the answers of one build, to be compared byte for byte with another build's
-- (tests/answers/capture.sh). Mutations included, in a fixed order, so the answers depend only
-- on the build. Tokens are read into psql variables, never printed (echoed lines are the text
-- before variables are substituted).
\set ON_ERROR_STOP on
\pset format unaligned
\pset tuples_only on
SET client_min_messages = warning;
SET lms.bcrypt_cost = 4;
SET lms.clock_override = '2026-03-02 10:00:00+00';

-- one API call: status and body (or the error it raised)
CREATE FUNCTION pg_temp.call(fn text, token text, path text DEFAULT NULL, query jsonb DEFAULT '{}',
                             body jsonb DEFAULT NULL) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r lms.api_response;
BEGIN
  EXECUTE format('SELECT * FROM lms.%I($1, $2, $3, $4)', fn) INTO r USING token, path, query, body;
  RETURN r.status || ' ' || coalesce(r.body, '<no body>');
EXCEPTION WHEN OTHERS THEN RETURN 'ERROR ' || SQLSTATE || ': ' || SQLERRM;
END $$;
-- any SQL: its rows as text, or the error
CREATE FUNCTION pg_temp.q(sql text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE t text;
BEGIN
  FOR t IN EXECUTE format('SELECT x::text FROM (%s) x', sql) LOOP RETURN NEXT t; END LOOP;
EXCEPTION WHEN OTHERS THEN RETURN NEXT 'ERROR ' || SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE FUNCTION pg_temp.login(email text) RETURNS text LANGUAGE sql AS $$
  SELECT body::jsonb->>'access_token'
    FROM lms.api_auth_login(NULL, NULL, '{}', jsonb_build_object('email', email, 'password', 'password123'))
$$;

-- the cast: an admin, the owner of a course and another instructor, a learner half way through
-- it, one who finished a course, one never enrolled in it
SELECT id AS admin_id, pg_temp.login(email) AS admin FROM lms.users WHERE email = 'admin@example.com' \gset
SELECT e.user_id AS lu, u.email AS lu_email, e.course_id AS lc
  FROM lms.enrollments e JOIN lms.users u ON u.id = e.user_id JOIN lms.courses c ON c.id = e.course_id
 WHERE e.status = 'active' AND e.completed_lessons BETWEEN 3 AND 8 AND c.access_days IS NULL AND c.capacity IS NULL
 ORDER BY e.id LIMIT 1 \gset
SELECT pg_temp.login(:'lu_email') AS learner \gset
SELECT c.instructor_id AS ou, pg_temp.login(u.email) AS owner FROM lms.courses c JOIN lms.users u ON u.id = c.instructor_id WHERE c.id = :lc \gset
SELECT u.id AS xu, pg_temp.login(u.email) AS other FROM lms.users u WHERE u.role = 'instructor' AND u.id <> :ou ORDER BY u.id LIMIT 1 \gset
SELECT e.user_id AS du, pg_temp.login(u.email) AS done, e.course_id AS dc
  FROM lms.enrollments e JOIN lms.users u ON u.id = e.user_id WHERE e.status = 'completed' ORDER BY e.id LIMIT 1 \gset
SELECT u.id AS nu, pg_temp.login(u.email) AS stranger FROM lms.users u
 WHERE u.role = 'student' AND NOT EXISTS (SELECT FROM lms.enrollments e WHERE e.user_id = u.id AND e.course_id = :lc)
 ORDER BY u.id LIMIT 1 \gset
-- lessons of the learner's course: a video and a text lesson not completed yet, a quiz lesson
SELECT l.id AS lv FROM lms.lessons l WHERE l.course_id = :lc AND l.kind = 'video'
   AND NOT EXISTS (SELECT FROM lms.lesson_progress p WHERE p.user_id = :lu AND p.lesson_id = l.id AND p.is_completed)
 ORDER BY l.id LIMIT 1 \gset
SELECT l.id AS lt FROM lms.lessons l WHERE l.course_id = :lc AND l.kind = 'text'
   AND NOT EXISTS (SELECT FROM lms.lesson_progress p WHERE p.user_id = :lu AND p.lesson_id = l.id AND p.is_completed)
 ORDER BY l.id LIMIT 1 \gset
SELECT l.id AS lq, z.id AS qz FROM lms.lessons l JOIN lms.quizzes z ON z.lesson_id = l.id
 WHERE l.course_id = :lc AND NOT EXISTS (SELECT FROM lms.lesson_progress p WHERE p.user_id = :lu AND p.lesson_id = l.id AND p.is_completed)
 ORDER BY l.id LIMIT 1 \gset
SELECT m.id AS lm FROM lms.modules m WHERE m.course_id = :lc ORDER BY m.id LIMIT 1 \gset
SELECT id AS full_course FROM lms.courses WHERE capacity IS NOT NULL ORDER BY id LIMIT 1 \gset
SELECT id AS timed_course FROM lms.courses WHERE access_days IS NOT NULL ORDER BY id LIMIT 1 \gset
SELECT id AS prereq_course FROM lms.courses c WHERE EXISTS (SELECT FROM lms.course_prerequisites p WHERE p.course_id = c.id) ORDER BY id LIMIT 1 \gset
SELECT :lu AS learner_id, :lc AS course_id, :ou AS owner_id, :du AS done_id, :dc AS done_course, :nu AS stranger_id;

-- identity
SELECT pg_temp.call('api_auth_login', NULL, NULL, '{}', '{"email":"admin@example.com","password":"wrong-password"}');
SELECT pg_temp.call('api_auth_login', NULL, NULL, '{}', '{"email":"nobody@example.com","password":"password123"}');
SELECT pg_temp.call('api_auth_login', NULL, NULL, '{}', '[1]');
SELECT pg_temp.call('api_auth_login', NULL, NULL, '{}', '{"email":1}');
SELECT pg_temp.call('api_auth_register', NULL, NULL, '{}', '{"email":"new.one@example.com","password":"long-enough","display_name":"New One","timezone":"Europe/Paris"}');
SELECT pg_temp.call('api_auth_register', NULL, NULL, '{}', '{"email":"new.one@example.com","password":"long-enough","display_name":"New One"}');
SELECT pg_temp.call('api_auth_register', NULL, NULL, '{}', '{"email":"bad","password":"short","display_name":"","timezone":"Mars/Base"}');
SELECT pg_temp.call('api_auth_register', NULL, NULL, '{}', NULL);
SELECT pg_temp.call('api_users_me_get', :'learner');
SELECT pg_temp.call('api_users_me_get', NULL);
SELECT pg_temp.call('api_users_me_get', 'not-a-token');
SELECT pg_temp.call('api_users_me_patch', :'learner', NULL, '{}', '{"timezone":"Nowhere/Land"}');
SELECT pg_temp.call('api_users_me_patch', :'learner', NULL, '{}', '{"display_name":"  "}');
SELECT pg_temp.call('api_users_me_patch', :'learner', NULL, '{}', '{"leaderboard_visible":"yes"}');
SELECT pg_temp.call('api_users_me_patch', :'learner', NULL, '{}', '"text"');
SELECT pg_temp.call('api_users_me_patch', :'stranger', NULL, '{}', '{"display_name":"Renamed Stranger","timezone":"Asia/Tokyo"}');
SELECT * FROM pg_temp.q('SELECT lms.is_valid_timezone(z) FROM unnest(ARRAY[''UTC'', ''Europe/Paris'', '''', ''x'']) z');

-- catalog
SELECT pg_temp.call('api_courses_list', NULL);
SELECT pg_temp.call('api_courses_list', NULL, NULL, '{"page":"2","limit":"5"}');
SELECT pg_temp.call('api_courses_list', NULL, NULL, '{"category":"databases","q":"sql"}');
SELECT pg_temp.call('api_courses_list', NULL, NULL, '{"limit":"0"}');
SELECT pg_temp.call('api_courses_list', NULL, NULL, '{"page":"x"}');
SELECT pg_temp.call('api_courses_list', :'owner', NULL, '{"mine":"true"}');
SELECT pg_temp.call('api_course_get', NULL, :'lc');
SELECT pg_temp.call('api_course_get', :'owner', :'lc');
SELECT pg_temp.call('api_course_get', NULL, '999999');
SELECT pg_temp.call('api_course_get', NULL, 'abc');
SELECT pg_temp.call('api_course_get', NULL, '0');
SELECT pg_temp.call('api_course_get', NULL, '9223372036854775808');
SELECT pg_temp.call('api_lesson_get', NULL, :'lv');
SELECT pg_temp.call('api_lesson_get', :'learner', :'lv');
SELECT pg_temp.call('api_lesson_get', :'stranger', :'lv');
SELECT pg_temp.call('api_lesson_get', :'owner', :'lt');
SELECT pg_temp.call('api_lesson_get', :'learner', '999999');
SELECT pg_temp.call('api_lesson_get', :'learner', '-1');

-- authoring
SELECT pg_temp.call('api_course_create', :'learner', NULL, '{}', '{"title":"Not mine"}');
SELECT pg_temp.call('api_course_create', :'owner', NULL, '{}', '{"title":"Answers course","summary":"For the answers","category":"testing","capacity":2,"access_days":10}');
SELECT id AS nc FROM lms.courses WHERE title = 'Answers course' \gset
SELECT pg_temp.call('api_course_create', :'owner', NULL, '{}', '{"title":"Answers course"}');
SELECT pg_temp.call('api_course_create', :'owner', NULL, '{}', '{"title":"","capacity":-1,"enroll_opens_at":"yesterday"}');
SELECT pg_temp.call('api_course_create', :'owner', NULL, '{}', '{"title":"Bad prereq","prerequisite_course_ids":[999999]}');
SELECT pg_temp.call('api_course_publish', :'owner', :'nc');
SELECT pg_temp.call('api_course_patch', :'other', :'nc', '{}', '{"title":"Stolen"}');
SELECT pg_temp.call('api_course_patch', :'owner', :'nc', '{}', '{"title":"Answers course, renamed","capacity":3}');
SELECT pg_temp.call('api_course_patch', :'owner', :'nc', '{}', '{"is_published":true}');
SELECT pg_temp.call('api_course_patch', :'owner', '999999', '{}', '{"title":"x"}');
SELECT pg_temp.call('api_course_patch', :'owner', :'nc', '{}', NULL);
SELECT pg_temp.call('api_module_create', :'owner', :'nc', '{}', '{"title":"Only part"}');
SELECT id AS nm FROM lms.modules WHERE course_id = :nc \gset
SELECT pg_temp.call('api_module_create', :'other', :'nc', '{}', '{"title":"Intruder"}');
SELECT pg_temp.call('api_module_create', :'owner', :'nc', '{}', '{"title":""}');
SELECT pg_temp.call('api_lesson_create', :'owner', :'nm', '{}', '{"title":"Watch","kind":"video","duration_seconds":100,"video_playback_id":"v-1","points":15}');
SELECT pg_temp.call('api_lesson_create', :'owner', :'nm', '{}', '{"title":"Read","kind":"text","content":"Words."}');
SELECT pg_temp.call('api_lesson_create', :'owner', :'nm', '{}', '{"title":"Test","kind":"quiz"}');
SELECT pg_temp.call('api_lesson_create', :'owner', :'nm', '{}', '{"title":"Later","kind":"video","available_from":"2027-01-01T00:00:00Z"}');
SELECT pg_temp.call('api_lesson_create', :'owner', :'nm', '{}', '{"title":"Odd","kind":"podcast"}');
SELECT pg_temp.call('api_lesson_create', :'owner', :'nm', '{}', '{"title":"Neg","kind":"video","duration_seconds":-5,"points":"ten"}');
SELECT id AS nl_video FROM lms.lessons WHERE module_id = :nm AND title = 'Watch' \gset
SELECT id AS nl_text FROM lms.lessons WHERE module_id = :nm AND title = 'Read' \gset
SELECT id AS nl_quiz FROM lms.lessons WHERE module_id = :nm AND title = 'Test' \gset
SELECT id AS nl_later FROM lms.lessons WHERE module_id = :nm AND title = 'Later' \gset
SELECT pg_temp.call('api_lesson_patch', :'owner', :'nl_video', '{}', '{"title":"Watch this","points":25}');
SELECT pg_temp.call('api_lesson_patch', :'other', :'nl_video', '{}', '{"title":"x"}');
SELECT pg_temp.call('api_lesson_patch', :'owner', :'nl_video', '{}', '{"kind":"podcast"}');
SELECT pg_temp.call('api_quiz_create', :'owner', :'nl_quiz', '{}', '{"title":"Q","pass_score":50,"max_attempts":2,"questions":[{"prompt":"1+1?","choices":["1","2"],"answer":1},{"prompt":"2+2?","choices":["4","5"],"answer":0}]}');
SELECT pg_temp.call('api_quiz_create', :'owner', :'nl_quiz', '{}', '{"title":"Q again","pass_score":50,"questions":[{"prompt":"x","choices":["a","b"],"answer":0}]}');
SELECT pg_temp.call('api_quiz_create', :'owner', :'nl_video', '{}', '{"title":"Q","pass_score":50,"questions":[{"prompt":"x","choices":["a","b"],"answer":0}]}');
SELECT pg_temp.call('api_quiz_create', :'owner', :'nl_quiz', '{}', '{"title":"","pass_score":150,"questions":[{"prompt":"","choices":["a"],"answer":3}]}');
SELECT id AS nq FROM lms.quizzes WHERE lesson_id = :nl_quiz \gset
SELECT pg_temp.call('api_course_publish', :'owner', :'nc');
SELECT pg_temp.call('api_course_publish', :'other', :'nc');

-- enrollment
SELECT pg_temp.call('api_enroll', :'stranger', :'nc');
SELECT pg_temp.call('api_enroll', :'stranger', :'nc');
SELECT pg_temp.call('api_enroll', :'learner', :'nc');
SELECT pg_temp.call('api_enroll', :'done', :'nc');
SELECT pg_temp.call('api_enroll', :'other', :'nc');
SELECT pg_temp.call('api_enroll', NULL, :'nc');
SELECT pg_temp.call('api_enroll', :'stranger', '999999');
SELECT pg_temp.call('api_enroll', :'stranger', 'x1');
SELECT pg_temp.call('api_enroll', :'stranger', :'prereq_course');
SELECT pg_temp.call('api_enroll', :'stranger', :'full_course');
SELECT pg_temp.call('api_unenroll', :'done', :'nc');
SELECT pg_temp.call('api_unenroll', :'done', :'nc');
SELECT pg_temp.call('api_enroll', :'done', :'nc');
SELECT pg_temp.call('api_enrollments_me', :'learner');
SELECT pg_temp.call('api_enrollments_me', :'learner', NULL, '{"status":"active","limit":"2"}');
SELECT pg_temp.call('api_enrollments_me', :'learner', NULL, '{"status":"lost"}');
SELECT pg_temp.call('api_enrollments_me', NULL);
SELECT * FROM pg_temp.q(format('SELECT lms.is_enrolled(%s, %s), lms.is_enrolled(%s, %s), lms.seats_left(%s), lms.seats_left(%s)', :lu, :lc, :nu, :lc, :nc, :lc));
SELECT * FROM pg_temp.q(format('SELECT lms.lesson_access(%s, %s), lms.lesson_access(NULL, %s), lms.lesson_access(%s, %s), lms.lesson_access(%s, %s), lms.lesson_access(%s, 999999)', :lu, :lv, :lv, :nu, :lv, :nu, :nl_later, :lu));
SELECT * FROM pg_temp.q(format('SELECT lms.enroll(%s, %s), lms.enroll(%s, 999999)', :nu, :lc, :nu));
SELECT * FROM pg_temp.q(format('SELECT lms.unenroll(%s, %s), lms.unenroll(%s, %s)', :nu, :lc, :nu, :lc));

-- progress
SELECT pg_temp.call('api_progress_record', :'learner', :'lv', '{}', '{"watched_seconds":30,"last_position_seconds":30,"completion_percentage":10}');
SELECT pg_temp.call('api_progress_record', :'learner', :'lv', '{}', '{"watched_seconds":20,"last_position_seconds":25,"completion_percentage":5.555}');
SELECT pg_temp.call('api_progress_record', :'learner', :'lv', '{}', '{"watched_seconds":100000,"last_position_seconds":100000,"completion_percentage":95}');
SELECT pg_temp.call('api_progress_record', :'learner', :'lv', '{}', '{"watched_seconds":1,"last_position_seconds":1,"completion_percentage":100}');
SELECT pg_temp.call('api_progress_record', :'learner', :'lt', '{}', '{"completed":true}');
SELECT pg_temp.call('api_progress_record', :'learner', :'lt', '{}', '{"completed":false}');
SELECT pg_temp.call('api_progress_record', :'learner', :'lq', '{}', '{"watched_seconds":10,"completion_percentage":100}');
SELECT pg_temp.call('api_progress_record', :'learner', :'lv', '{}', '{"completed":true}');
SELECT pg_temp.call('api_progress_record', :'learner', :'lv', '{}', '{"watched_seconds":-1,"last_position_seconds":1.5,"completion_percentage":101,"completed":"yes"}');
SELECT pg_temp.call('api_progress_record', :'learner', :'lv', '{}', '{"watched_seconds":"30","last_position_seconds":30.0,"completion_percentage":"5"}');
SELECT pg_temp.call('api_progress_record', :'learner', :'lv', '{}', '{"watched_seconds":2147483648}');
SELECT pg_temp.call('api_progress_record', :'learner', :'lv', '{}', '{"watched_seconds":null,"completion_percentage":null}');
SELECT pg_temp.call('api_progress_record', :'learner', :'lv', '{}', '[]');
SELECT pg_temp.call('api_progress_record', :'learner', :'lv', '{}', NULL);
SELECT pg_temp.call('api_progress_record', :'stranger', :'lv', '{}', '{"watched_seconds":1}');
SELECT pg_temp.call('api_progress_record', NULL, :'lv', '{}', '{"watched_seconds":1}');
SELECT pg_temp.call('api_progress_record', :'learner', '999999', '{}', '{"watched_seconds":1}');
SELECT pg_temp.call('api_progress_record', :'learner', 'abc', '{}', '{"watched_seconds":1}');
SELECT pg_temp.call('api_progress_record', :'stranger', :'nl_later', '{}', '{"watched_seconds":1}');
SELECT pg_temp.call('api_progress_record', :'stranger', :'nl_video', '{}', '{"watched_seconds":100,"last_position_seconds":100,"completion_percentage":100}');
SELECT pg_temp.call('api_progress_record', :'stranger', :'nl_text', '{}', '{"completed":true}');
SELECT pg_temp.call('api_progress_course', :'learner', :'lc');
SELECT pg_temp.call('api_progress_course', :'stranger', :'nc');
SELECT pg_temp.call('api_progress_course', :'stranger', :'lc');
SELECT pg_temp.call('api_progress_course', :'learner', '999999');
SELECT pg_temp.call('api_progress_course', :'done', :'dc');
SELECT * FROM pg_temp.q(format('SELECT lms.record_progress(%s, %s, 40, 40, 50)', :lu, :lv));
SELECT * FROM pg_temp.q(format('SELECT lms.record_progress(%s, %s, 40, 40, 50, true)', :lu, :lv));
SELECT * FROM pg_temp.q(format('SELECT lms.record_progress(%s, %s, 40, 40, 150)', :lu, :lv));
SELECT * FROM pg_temp.q(format('SELECT lms.record_progress(%s, %s, -4, 40, 50)', :lu, :lv));
SELECT * FROM pg_temp.q(format('SELECT lms.record_progress(%s, %s, 4, 4, 50)', :nu, :lv));
SELECT * FROM pg_temp.q(format('SELECT lms.record_progress(%s, 999999, 4, 4, 50)', :lu));
SELECT * FROM pg_temp.q(format('SELECT lms.record_progress(%s, %s, 4, 4, NULL)', :lu, :lv));
SELECT * FROM pg_temp.q(format('SELECT lms.course_progress(%s, %s)', :lu, :lc));
SELECT * FROM pg_temp.q(format('SELECT lms.course_progress(%s, %s)', :du, :dc));
SELECT * FROM pg_temp.q(format('SELECT lms.course_progress(%s, %s)', :nu, :lc));
SELECT * FROM pg_temp.q(format('SELECT lms.enrollment_json(e) FROM lms.enrollments e WHERE e.user_id = %s ORDER BY e.id', :lu));

-- quizzes
SELECT pg_temp.call('api_quiz_get', :'learner', :'qz');
SELECT pg_temp.call('api_quiz_get', :'stranger', :'qz');
SELECT pg_temp.call('api_quiz_get', :'owner', :'qz');
SELECT pg_temp.call('api_quiz_get', :'learner', '999999');
SELECT pg_temp.call('api_quiz_attempt', :'learner', :'qz', '{}', '{"answers":{}}');
SELECT pg_temp.call('api_quiz_attempt', :'learner', :'qz', '{}', (SELECT jsonb_build_object('answers', jsonb_object_agg(q.id::text, q.answer)) FROM lms.quiz_questions q WHERE q.quiz_id = :qz));
SELECT pg_temp.call('api_quiz_attempt', :'learner', :'qz', '{}', '{"answers":[1,2]}');
SELECT pg_temp.call('api_quiz_attempt', :'learner', :'qz', '{}', '{"answers":{"abc":1}}');
SELECT pg_temp.call('api_quiz_attempt', :'stranger', :'qz', '{}', '{"answers":{}}');
SELECT pg_temp.call('api_quiz_attempt', :'stranger', :'nq', '{}', '{"answers":{}}');
SELECT pg_temp.call('api_quiz_attempt', :'stranger', :'nq', '{}', '{"answers":{}}');
SELECT pg_temp.call('api_quiz_attempt', :'stranger', :'nq', '{}', '{"answers":{}}');
SELECT * FROM pg_temp.q(format('SELECT lms.complete_lesson(%s, %s)', :nu, :nl_quiz));
SELECT * FROM pg_temp.q(format('SELECT lms.complete_lesson(%s, %s)', :nu, :nl_quiz));
SELECT pg_temp.call('api_course_get', :'stranger', :'nc');
SELECT pg_temp.call('api_enrollments_me', :'stranger', NULL, '{"status":"completed"}');

-- certificates
SELECT pg_temp.call('api_certificate_issue', :'stranger', :'nc');
SELECT pg_temp.call('api_certificate_issue', :'stranger', :'nc');
SELECT pg_temp.call('api_certificate_issue', :'learner', :'lc');
SELECT pg_temp.call('api_certificate_issue', :'other', :'lc');
SELECT pg_temp.call('api_certificate_issue', :'done', :'dc');
SELECT pg_temp.call('api_certificate_issue', :'done', :'dc');
SELECT code AS cert FROM lms.certificates WHERE user_id = :du AND course_id = :dc \gset
SELECT pg_temp.call('api_certificate_get', NULL, :'cert');
SELECT pg_temp.call('api_certificate_get', NULL, '00000000000000000000000000000000');
SELECT pg_temp.call('api_certificate_get', NULL, 'short');

-- gamification
SELECT pg_temp.call('api_gamification_me', :'learner');
SELECT pg_temp.call('api_gamification_me', :'stranger');
SELECT pg_temp.call('api_gamification_me', :'done');
SELECT pg_temp.call('api_gamification_me', :'other');
SELECT pg_temp.call('api_gamification_me', NULL);
SELECT pg_temp.call('api_gamification_history', :'learner');
SELECT pg_temp.call('api_gamification_history', :'stranger', NULL, '{"limit":"3","page":"2"}');
SELECT pg_temp.call('api_gamification_history', :'stranger', NULL, '{"limit":"500"}');
SELECT pg_temp.call('api_achievements_list', NULL);
SELECT pg_temp.call('api_admin_achievement_create', :'admin', NULL, '{}', '{"code":"answers_five","title":"Five lessons","description":"Complete five lessons.","points":7,"criteria":{"kind":"lessons_completed","threshold":5}}');
SELECT pg_temp.call('api_admin_achievement_create', :'admin', NULL, '{}', '{"code":"answers_five","title":"Again","description":"x","points":1,"criteria":{"kind":"lessons_completed","threshold":5}}');
SELECT pg_temp.call('api_admin_achievement_create', :'admin', NULL, '{}', '{"code":"Bad Code","title":"","points":-1,"criteria":{"kind":"dancing","threshold":0}}');
SELECT pg_temp.call('api_admin_achievement_create', :'learner', NULL, '{}', '{"code":"x"}');
SELECT pg_temp.call('api_admin_points', :'admin', NULL, '{}', format('{"user_id":%s,"points":-3,"reason":"typo fix","course_id":%s}', :lu, :lc)::jsonb);
SELECT pg_temp.call('api_admin_points', :'admin', NULL, '{}', format('{"user_id":%s,"points":12,"reason":"bonus"}', :nu)::jsonb);
SELECT pg_temp.call('api_admin_points', :'admin', NULL, '{}', '{"user_id":999999,"points":1,"reason":"x"}');
SELECT pg_temp.call('api_admin_points', :'admin', NULL, '{}', '{"user_id":"a","points":0}');
SELECT pg_temp.call('api_admin_points', :'owner', NULL, '{}', '{"user_id":1,"points":1,"reason":"x"}');
SELECT pg_temp.call('api_admin_recompute', :'admin');
SELECT pg_temp.call('api_admin_recompute', :'learner');
SELECT pg_temp.call('api_gamification_me', :'learner');
SELECT * FROM pg_temp.q('SELECT lms.level_for(p) FROM unnest(ARRAY[0, 99, 100, 299, 300, 599, 600, 4950, 5000, 1000000000000]::bigint[]) p');
SELECT * FROM pg_temp.q(format('SELECT lms.award_points(%s, 5, ''admin_correction'', ''answers:1'')', :lu));
SELECT * FROM pg_temp.q(format('SELECT lms.award_points(%s, 5, ''admin_correction'', ''answers:1'')', :lu));
SELECT * FROM pg_temp.q(format('SELECT lms.award_points(%s, 5, ''lesson_completed'', ''answers:2'', %s)', :lu, :lc));
SELECT * FROM pg_temp.q(format('SELECT lms.award_points(%s, 0, ''admin_correction'', ''answers:3'')', :lu));
SELECT * FROM pg_temp.q(format('SELECT lms.award_points(%s, 1, ''gift'', ''answers:4'')', :lu));
SELECT * FROM pg_temp.q(format('SELECT lms.award_points(%s, 1, ''admin_correction'', '''')', :lu));
SELECT * FROM pg_temp.q(format('SELECT lms.award_points(%s, 1, ''admin_correction'', ''answers:5'', -2)', :lu));
SELECT * FROM pg_temp.q('SELECT lms.award_points(999999, 1, ''admin_correction'', ''answers:6'')');
SELECT * FROM pg_temp.q('SELECT lms.award_points(NULL, 1, ''admin_correction'', ''answers:7'')');

-- leaderboards (lms.refresh_leaderboards first, so every board is current)
SELECT * FROM pg_temp.q('SELECT count(*) FROM lms.refresh_leaderboards()');
SELECT pg_temp.call('api_leaderboard_global', NULL);
SELECT pg_temp.call('api_leaderboard_global', NULL, NULL, '{"window":"week","limit":"5","offset":"3"}');
SELECT pg_temp.call('api_leaderboard_global', :'learner', NULL, '{"around":"me","limit":"7"}');
SELECT pg_temp.call('api_leaderboard_global', :'other', NULL, '{"around":"me"}');
SELECT pg_temp.call('api_leaderboard_global', NULL, NULL, '{"around":"me"}');
SELECT pg_temp.call('api_leaderboard_global', NULL, NULL, '{"window":"year"}');
SELECT pg_temp.call('api_leaderboard_global', NULL, NULL, '{"limit":"101","offset":"-1"}');
SELECT pg_temp.call('api_leaderboard_global', NULL, NULL, '{"window":"month","offset":"100000"}');
SELECT pg_temp.call('api_leaderboard_course', NULL, :'lc');
SELECT pg_temp.call('api_leaderboard_course', :'learner', :'lc', '{"around":"me","window":"month","limit":"3"}');
SELECT pg_temp.call('api_leaderboard_course', NULL, '999999');
SELECT pg_temp.call('api_leaderboard_course', NULL, 'zz');
SELECT pg_temp.call('api_admin_leaderboards_refresh', :'learner');
SELECT * FROM pg_temp.q('SELECT x FROM lms.leaderboard(''global'', ''all'', 10, 5) x');
SELECT * FROM pg_temp.q(format('SELECT x FROM lms.leaderboard(''course:%s'', ''week'') x', :lc));
SELECT * FROM pg_temp.q('SELECT x FROM lms.leaderboard(''global'', ''all'', 0) x');
SELECT * FROM pg_temp.q('SELECT x FROM lms.leaderboard(''global'', ''all'', 10, -1) x');
SELECT * FROM pg_temp.q('SELECT x FROM lms.leaderboard(''galaxy'') x');
SELECT * FROM pg_temp.q('SELECT x FROM lms.leaderboard(''course:999999'') x');
SELECT * FROM pg_temp.q('SELECT x FROM lms.leaderboard(''global'', ''decade'') x');
SELECT * FROM pg_temp.q('SELECT x FROM lms.leaderboard(NULL, ''all'') x');
SELECT * FROM pg_temp.q(format('SELECT x FROM lms.user_rank(''global'', ''all'', %s) x', :lu));
SELECT * FROM pg_temp.q(format('SELECT x FROM lms.user_rank(''course:%s'', ''all'', %s) x', :lc, :lu));
SELECT * FROM pg_temp.q(format('SELECT x FROM lms.user_rank(''global'', ''all'', %s) x', :xu));
SELECT * FROM pg_temp.q(format('SELECT x FROM lms.board_me(''global'', ''week'', %s) x', :lu));
SELECT * FROM pg_temp.q('SELECT (x).board, (x).total FROM lms.board_info(''global'', ''all'') x');
SELECT * FROM pg_temp.q('SELECT x FROM lms.board_page(''global'', ''all'', 3, 1) x');

-- instructor analytics
SELECT pg_temp.call('api_course_analytics', :'owner', :'lc');
SELECT pg_temp.call('api_course_analytics', :'admin', :'nc');
SELECT pg_temp.call('api_course_analytics', :'other', :'lc');
SELECT pg_temp.call('api_course_analytics', :'owner', '999999');
SELECT pg_temp.call('api_course_analytics', NULL, :'lc');
SELECT pg_temp.call('api_course_students', :'owner', :'lc');
SELECT pg_temp.call('api_course_students', :'owner', :'lc', '{"status":"completed","limit":"3"}');
SELECT pg_temp.call('api_course_students', :'owner', :'lc', '{"status":"gone"}');
SELECT pg_temp.call('api_course_students', :'learner', :'lc');
SELECT * FROM pg_temp.q('SELECT s FROM lms.course_stats s ORDER BY s.course_id');
SELECT * FROM pg_temp.q('SELECT a FROM lms.learner_activity a ORDER BY 1 LIMIT 20');
SELECT * FROM pg_temp.q('SELECT lms.analytics_progress(a, b) FROM (VALUES (0, 0), (1, 3), (2, 3), (5, 3), (1, 7)) v(a, b)');

-- administration
SELECT pg_temp.call('api_admin_users_list', :'admin', NULL, '{"limit":"5"}');
SELECT pg_temp.call('api_admin_users_list', :'admin', NULL, '{"role":"instructor"}');
SELECT pg_temp.call('api_admin_users_list', :'admin', NULL, '{"q":"learner1","page":"2","limit":"3"}');
SELECT pg_temp.call('api_admin_users_list', :'admin', NULL, '{"role":"king"}');
SELECT pg_temp.call('api_admin_users_list', :'learner');
SELECT pg_temp.call('api_admin_user_patch', :'admin', :'xu', '{}', '{"role":"admin"}');
SELECT pg_temp.call('api_admin_user_patch', :'admin', :'xu', '{}', '{"role":"instructor"}');
SELECT pg_temp.call('api_admin_user_patch', :'admin', :'nu', '{}', '{"status":"suspended"}');
SELECT pg_temp.call('api_gamification_me', :'stranger');
SELECT pg_temp.call('api_admin_user_patch', :'admin', :'nu', '{}', '{"status":"active"}');
SELECT pg_temp.call('api_admin_user_patch', :'admin', :'nu', '{}', '{"role":"emperor","status":"gone"}');
SELECT pg_temp.call('api_admin_user_patch', :'admin', '999999', '{}', '{"role":"student"}');
SELECT pg_temp.call('api_admin_user_patch', :'learner', :'nu', '{}', '{"role":"admin"}');
SELECT pg_temp.call('api_admin_audit', :'admin', NULL, '{"limit":"5"}');
SELECT pg_temp.call('api_admin_audit', :'admin', NULL, '{"after":"bogus"}');
SELECT pg_temp.call('api_admin_audit', :'learner');
SELECT * FROM pg_temp.q($$SELECT r.status || ' ' || (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(r.body::jsonb) k) FROM lms.api_admin_performance($$ || quote_literal(:'admin') || $$, NULL, '{}', '{"gateway":{}}') r$$);
SELECT pg_temp.call('api_admin_performance', :'learner');

-- logout: the token stops working
SELECT pg_temp.call('api_auth_logout', :'other');
SELECT pg_temp.call('api_users_me_get', :'other');
SELECT pg_temp.call('api_auth_logout', NULL);

-- forty days later: access windows closed, streaks broken, new week and month
SET lms.clock_override = '2026-04-11 09:30:00+00';
SELECT pg_temp.login(email) AS stranger FROM lms.users WHERE id = :nu \gset
SELECT pg_temp.call('api_enrollments_me', :'stranger');
SELECT pg_temp.call('api_progress_course', :'stranger', :'nc');
SELECT pg_temp.call('api_progress_record', :'stranger', :'nl_video', '{}', '{"watched_seconds":1}');
SELECT pg_temp.call('api_enroll', :'stranger', :'nc');
SELECT pg_temp.call('api_progress_record', :'learner', :'lv', '{}', '{"watched_seconds":3,"last_position_seconds":3,"completion_percentage":3}');
SELECT pg_temp.call('api_gamification_me', :'learner');
SELECT pg_temp.call('api_course_students', :'owner', :'nc');
SELECT pg_temp.call('api_course_analytics', :'owner', :'nc');
SELECT pg_temp.call('api_leaderboard_global', NULL, NULL, '{"window":"week"}');
SELECT pg_temp.call('api_leaderboard_course', :'learner', :'lc', '{"window":"month","around":"me"}');
SELECT * FROM pg_temp.q(format('SELECT lms.course_progress(%s, %s)', :nu, :nc));
SELECT * FROM pg_temp.q(format('SELECT lms.effective_status(e.status, e.expires_at) FROM lms.enrollments e WHERE e.course_id = %s ORDER BY e.id', :nc));
SELECT * FROM pg_temp.q(format('SELECT lms.is_enrolled(%s, %s)', :nu, :nc));
SELECT * FROM pg_temp.q('SELECT count(*) FROM lms.refresh_leaderboards(true)');
SELECT * FROM pg_temp.q('SELECT lms.recompute_gamification()');

-- where everything ended up
SELECT * FROM pg_temp.q('SELECT count(*), sum(points) FROM lms.points_ledger');
SELECT * FROM pg_temp.q('SELECT s FROM lms.learner_scores s ORDER BY s.user_id');
SELECT * FROM pg_temp.q('SELECT e.id, e.user_id, e.course_id, e.status, e.completed_lessons, e.last_activity_at, e.last_lesson_id, e.last_position_seconds FROM lms.enrollments e ORDER BY e.id');
SELECT * FROM pg_temp.q('SELECT c.id, c.lesson_count, c.seats_taken, c.active_enrollments FROM lms.courses c ORDER BY c.id');
SELECT * FROM pg_temp.q('SELECT count(*), sum(watched_seconds), sum(completion_percentage), count(*) FILTER (WHERE is_completed) FROM lms.lesson_progress');
SELECT * FROM pg_temp.q('SELECT a.action, a.entity, a.entity_id, a.data FROM lms.audit_log a ORDER BY a.id');

-- what the HTTP part needs (tests/answers/routes.py logs in again: tokens live a day)
\o :varfile
SELECT format(E'lc=%s\nlv=%s\nlt=%s\nqz=%s\nnc=%s\nnm=%s\nnl_text=%s\ndc=%s\nlu=%s\nnu=%s',
              :lc, :lv, :lt, :qz, :nc, :nm, :nl_text, :dc, :lu, :nu);
SELECT format('email_%s=%s', r, (SELECT email FROM lms.users WHERE id = u))
  FROM (VALUES ('admin', :admin_id), ('owner', :ou), ('learner', :lu), ('stranger', :nu), ('done', :du), ('logout', :lu)) v(r, u);
\o

\i tests/regress/setup.psql
-- Progress: the hot write (monotonic values, capping, completion exactly once, course
-- completion), the counters it keeps, and the course progress read.
-- status and body without the scoring fields (the gamification tests own those values)
CREATE FUNCTION pg_temp.p(r lms.api_response) RETURNS text LANGUAGE sql AS $$
  SELECT r.status || ' ' || coalesce(CASE WHEN r.status < 300
    THEN (r.body::jsonb - ARRAY['total_points', 'level', 'streak', 'new_achievements', 'points_awarded'])::text
    ELSE r.body END, '')
$$;

SELECT lms.create_user('ivy@example.org', 'password-1', 'Ivy', 'instructor') AS ivy \gset
SELECT lms.create_user('ann@example.org', 'password-1', 'Ann') AS ann \gset
SELECT lms.create_user('bob@example.org', 'password-1', 'Bob') AS bob \gset
SELECT lms.create_user('cat@example.org', 'password-1', 'Cat') AS cat \gset
-- tokens that outlive the time travel below
SET lms.token_ttl = '100d';
SELECT pg_temp.login('ann@example.org') AS t_ann, pg_temp.login('bob@example.org') AS t_bob,
       pg_temp.login('cat@example.org') AS t_cat, pg_temp.login('ivy@example.org') AS t_ivy \gset

-- a course of two modules: video (100 s), text, quiz | video (no duration), a locked text,
-- and an unpublished lesson that does not count
INSERT INTO lms.courses (slug, title, instructor_id, is_published) VALUES ('pg', 'PostgreSQL', :ivy, true)
RETURNING id AS c \gset
INSERT INTO lms.modules (course_id, title, position) VALUES (:c, 'Basics', 1) RETURNING id AS m1 \gset
INSERT INTO lms.modules (course_id, title, position) VALUES (:c, 'More', 2) RETURNING id AS m2 \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, duration_seconds, points)
VALUES (:m1, :c, 'Intro video', 'video', 1, 100, 10) RETURNING id AS l_video \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position) VALUES (:m1, :c, 'Reading', 'text', 2)
RETURNING id AS l_text \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position) VALUES (:m1, :c, 'Check', 'quiz', 3)
RETURNING id AS l_quiz \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position) VALUES (:m2, :c, 'Live stream', 'video', 1)
RETURNING id AS l_nodur \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, available_from)
VALUES (:m2, :c, 'Next week', 'text', 2, '2026-03-09 00:00:00+00') RETURNING id AS l_later \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, is_published)
VALUES (:m2, :c, 'Draft', 'text', 3, false) RETURNING id AS l_draft \gset
SELECT lesson_count FROM lms.courses WHERE id = :c;

-- before enrolling: 403 not_enrolled; other errors first: 401, 400 invalid_id, 404
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', :'l_video', '{}', '{"watched_seconds":10}'));
SELECT pg_temp.p(lms.api_progress_record(NULL, :'l_video', '{}', '{"watched_seconds":10}'));
SELECT pg_temp.p(lms.api_progress_record('bogus', :'l_video', '{}', '{"watched_seconds":10}'));
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', 'abc', '{}', '{"watched_seconds":10}'));
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', '999999', '{}', '{"watched_seconds":10}'));
-- the owner is not a learner
SELECT pg_temp.p(lms.api_progress_record(:'t_ivy', :'l_video', '{}', '{"watched_seconds":10}'));

SELECT (lms.enroll(:ann, :c)).result, (lms.enroll(:bob, :c)).result;

-- POST /progress/lessons/{id}: the first write
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', :'l_video', '{}',
  '{"watched_seconds":30,"last_position_seconds":30,"completion_percentage":30}'));
-- watched_seconds and completion_percentage never go down; the position is the latest
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', :'l_video', '{}',
  '{"watched_seconds":10,"last_position_seconds":12,"completion_percentage":12.5}'));
-- missing numbers are 0; 40.0 is a whole number
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', :'l_video', '{}', '{"watched_seconds":40.0}'));
-- capped at the lesson's duration
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', :'l_video', '{}',
  '{"watched_seconds":5000,"last_position_seconds":4000,"completion_percentage":89.99}'));
-- 400: negative, fractional, over 100 %, wrong types, `completed` on a video, not an object
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', :'l_video', '{}',
  '{"watched_seconds":-1,"last_position_seconds":1.5,"completion_percentage":100.01}'));
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', :'l_video', '{}',
  '{"watched_seconds":"10","last_position_seconds":1e3,"completion_percentage":-1,"completed":"yes"}'));
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', :'l_video', '{}', '{"watched_seconds":3000000000}'));
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', :'l_video', '{}', '{"completed":true}'));
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', :'l_video', '{}', '[30]'));
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', :'l_video', '{}', NULL));
-- nothing was stored by the refused writes
SELECT watched_seconds, last_position_seconds, completion_percentage, is_completed
FROM lms.lesson_progress WHERE user_id = :ann AND lesson_id = :l_video;

-- the video completes at the threshold (90 %): once
SELECT status AS r_status, body AS r_body FROM lms.api_progress_record(:'t_ann', :'l_video', '{}',
  '{"watched_seconds":90,"last_position_seconds":90,"completion_percentage":90}') \gset
SELECT pg_temp.p(ROW(:r_status, :'r_body')::lms.api_response);
SELECT (:'r_body'::jsonb->>'points_awarded')::int > 0 AS points_awarded;
SET lms.clock_override = '2026-03-02 10:05:00+00';
-- a retry awards nothing and keeps completed_at
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', :'l_video', '{}',
  '{"watched_seconds":100,"last_position_seconds":100,"completion_percentage":100}'));
SELECT body::jsonb->'points_awarded' AS points_on_retry FROM lms.api_progress_record(:'t_ann', :'l_video', '{}', '{"completion_percentage":100}');
-- the threshold is a setting
SET lms.completion_threshold = 50;
SELECT lms.record_progress(:bob, :l_video, 50, 50, 50)->'lesson'->'is_completed' AS bob_at_50;
RESET lms.completion_threshold;

-- text lessons complete with completed:true (false, or absent, does not)
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', :'l_text', '{}', '{"watched_seconds":20,"completed":false}'));
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', :'l_text', '{}', '{"completion_percentage":100}'));
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', :'l_text', '{}', '{"watched_seconds":25,"completed":true}'));

-- quiz lessons: a write records time only, even at 100 %; `completed` is refused
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', :'l_quiz', '{}',
  '{"watched_seconds":15,"last_position_seconds":15,"completion_percentage":100}'));
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', :'l_quiz', '{}', '{"completed":true}'));
-- passing the quiz completes it through lms.complete_lesson, exactly once
SELECT lms.complete_lesson(:ann, :l_quiz) - 'points_awarded' AS first_pass;
SELECT lms.complete_lesson(:ann, :l_quiz) AS second_pass;
SELECT lms.complete_lesson(:cat, :l_quiz) AS not_enrolled;
SELECT watched_seconds, last_position_seconds, is_completed FROM lms.lesson_progress
WHERE user_id = :ann AND lesson_id = :l_quiz;

-- a lesson without a duration takes any number of seconds
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', :'l_nodur', '{}',
  '{"watched_seconds":7200,"last_position_seconds":7000,"completion_percentage":50}'));
-- locked before available_from, 404 when unpublished
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', :'l_later', '{}', '{"completed":true}'));
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', :'l_draft', '{}', '{"completed":true}'));

-- GET /progress/courses/{id}: counters, module breakdown, last position
SELECT * FROM lms.api_progress_course(:'t_ann', :'c', '{}', NULL);
SELECT * FROM lms.course_progress(:ann, :c);
SELECT * FROM lms.course_progress(:cat, :c);
SELECT pg_temp.p(lms.api_progress_course(:'t_cat', :'c', '{}', NULL));
SELECT pg_temp.p(lms.api_progress_course(NULL, :'c', '{}', NULL));
SELECT pg_temp.p(lms.api_progress_course(:'t_ann', '999999', '{}', NULL));
SELECT pg_temp.p(lms.api_progress_course(:'t_ann', 'x', '{}', NULL));

-- the last lesson completes the enrollment, once: status completed, certificate eligible,
-- the course's active count released, the seat kept
SELECT active_enrollments, seats_taken FROM lms.courses WHERE id = :c;
SET lms.clock_override = '2026-03-09 00:00:00+00';
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', :'l_nodur', '{}', '{"completion_percentage":95}'));
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', :'l_later', '{}', '{"completed":true}'));
SELECT status, lms.iso(completed_at) AS completed_at, completed_lessons FROM lms.enrollments WHERE user_id = :ann AND course_id = :c;
SELECT active_enrollments, seats_taken FROM lms.courses WHERE id = :c;
-- writes on a completed enrollment are accepted (re-watching) and award nothing
SELECT pg_temp.p(lms.api_progress_record(:'t_ann', :'l_video', '{}', '{"watched_seconds":5,"last_position_seconds":5}'));
SELECT body::jsonb->'points_awarded' AS points FROM lms.api_progress_record(:'t_ann', :'l_text', '{}', '{"completed":true}');
SELECT active_enrollments FROM lms.courses WHERE id = :c;
SELECT * FROM lms.api_progress_course(:'t_ann', :'c', '{}', NULL);
-- a lesson added after completion: the enrollment stays completed (5 of 6); completing the new
-- lesson counts it and awards its points once, and no second course bonus
INSERT INTO lms.lessons (module_id, course_id, title, kind, position) VALUES (:m2, :c, 'Bonus', 'text', 4)
RETURNING id AS l_bonus \gset
SELECT * FROM lms.course_progress(:ann, :c);
SELECT status AS r_status, body AS r_body FROM lms.api_progress_record(:'t_ann', :'l_bonus', '{}', '{"completed":true}') \gset
SELECT pg_temp.p(ROW(:r_status, :'r_body')::lms.api_response);
SELECT (:'r_body'::jsonb->>'points_awarded')::int > 0 AS points_awarded;
SELECT count(*) FILTER (WHERE reason = 'course_completed') AS course_bonuses,
       count(*) FILTER (WHERE reason = 'lesson_completed') AS lesson_awards
FROM lms.points_ledger WHERE user_id = :ann;
SELECT active_enrollments FROM lms.courses WHERE id = :c;

-- dropped: no writes, no progress read
SELECT lms.unenroll(:bob, :c);
SELECT pg_temp.p(lms.api_progress_record(:'t_bob', :'l_video', '{}', '{"watched_seconds":60}'));
SELECT pg_temp.p(lms.api_progress_course(:'t_bob', :'c', '{}', NULL));

-- expired (access_days): read access kept, no new progress
INSERT INTO lms.courses (slug, title, instructor_id, is_published, access_days) VALUES ('short', 'Short', :ivy, true, 7)
RETURNING id AS c7 \gset
INSERT INTO lms.modules (course_id, title, position) VALUES (:c7, 'M', 1) RETURNING id AS m7 \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position) VALUES (:m7, :c7, 'A', 'text', 1) RETURNING id AS l7a \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position) VALUES (:m7, :c7, 'B', 'text', 2) RETURNING id AS l7b \gset
SELECT (lms.enroll(:cat, :c7)).result;
SELECT pg_temp.p(lms.api_progress_record(:'t_cat', :'l7a', '{}', '{"completed":true}'));
SET lms.clock_override = '2026-03-16 00:00:00+00';
SELECT pg_temp.p(lms.api_progress_record(:'t_cat', :'l7b', '{}', '{"completed":true}'));
SELECT * FROM lms.api_progress_course(:'t_cat', :'c7', '{}', NULL);

-- the SQL interface raises errors instead
SELECT pg_temp.err(format('SELECT lms.record_progress(%s, %s, -1, 0, 0)', :cat, :l7a));
SELECT pg_temp.err(format('SELECT lms.record_progress(%s, %s, 0, -5, 0)', :cat, :l7a));
SELECT pg_temp.err(format('SELECT lms.record_progress(%s, %s, 0, 0, 100.5)', :cat, :l7a));
SELECT pg_temp.err(format('SELECT lms.record_progress(%s, %s, 0, 0, -0.01)', :cat, :l7a));
SELECT pg_temp.err(format('SELECT lms.record_progress(%s, %s, 0, 0, 0)', :cat, 999999));
SELECT pg_temp.err(format('SELECT lms.record_progress(%s, %s, 0, 0, 0)', :cat, :l7a));
SELECT pg_temp.err(format('SELECT lms.record_progress(%s, %s, 0, 0, 0, true)', :ann, :l_video));
SELECT lms.record_progress(:ann, NULL, 0, 0, 0) IS NULL AS null_in_null_out;

-- every counter agrees with a full recount
SELECT e.user_id, e.course_id, e.completed_lessons,
       (SELECT count(*) FROM lms.lesson_progress lp JOIN lms.lessons l ON l.id = lp.lesson_id
        WHERE lp.user_id = e.user_id AND l.course_id = e.course_id AND lp.is_completed AND l.is_published) AS recount
FROM lms.enrollments e ORDER BY e.id;
SELECT mp.user_id, mp.module_id, mp.completed_lessons,
       (SELECT count(*) FROM lms.lesson_progress lp JOIN lms.lessons l ON l.id = lp.lesson_id
        WHERE lp.user_id = mp.user_id AND l.module_id = mp.module_id AND lp.is_completed AND l.is_published) AS recount
FROM lms.module_progress mp ORDER BY 1, 2;
SELECT c.slug, c.active_enrollments, c.seats_taken,
       (SELECT count(*) FROM lms.enrollments e WHERE e.course_id = c.id AND e.status = 'active') AS active,
       (SELECT count(*) FROM lms.enrollments e WHERE e.course_id = c.id AND e.status IN ('active', 'completed')) AS holding
FROM lms.courses c ORDER BY c.id;

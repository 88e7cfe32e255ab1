\i tests/regress/setup.psql

-- Authoring: creating and changing courses, modules and lessons, publishing, the audit trail,
-- and the published-lesson counters that every read relies on.


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

-- ============================================================================================
-- POST /courses
-- ============================================================================================
-- every field; a timestamp without a zone is UTC, one with an offset is converted to UTC
SELECT pg_temp.brief(lms.api_course_create(:'ines_tok', NULL, '{}',
  '{"title":"  Intro to SQL!  ","summary":"Select, join, group.","category":"databases","capacity":3,
    "enroll_opens_at":"2026-03-01","enroll_closes_at":"2026-04-01T00:00:00+02:00","access_days":30}'));
-- the slug comes from the title; a derived slug already taken gets -2, -3 ...
SELECT pg_temp.brief(lms.api_course_create(:'ines_tok', NULL, '{}', '{"title":"Intro to SQL"}'));
SELECT status, body::jsonb->>'slug' AS slug, body::jsonb->'instructor' AS instructor
  FROM lms.api_course_create(:'ada_tok', NULL, '{}', '{"title":"intro  to -- SQL","slug":null}');
SELECT body::jsonb->>'slug' AS slug FROM lms.api_course_create(:'ivan_tok', NULL, '{}', '{"title":"¡Hola, Señor Ñandú!"}');
SELECT body::jsonb->>'slug' AS slug FROM lms.api_course_create(:'ivan_tok', NULL, '{}', '{"title":"日本語"}');
-- an explicit slug and prerequisites (duplicates collapse)
SELECT pg_temp.brief(lms.api_course_create(:'ivan_tok', NULL, '{}',
  '{"title":"Advanced SQL","slug":"advanced-sql","prerequisite_course_ids":[1,2,1],"capacity":null,"category":null}'));
-- 401: no token, an unknown token
SELECT pg_temp.brief(lms.api_course_create(NULL, NULL, '{}', '{"title":"x"}'));
SELECT pg_temp.brief(lms.api_course_create('not-a-token', NULL, '{}', '{"title":"x"}'));
-- 403: a student
SELECT pg_temp.brief(lms.api_course_create(:'sam_tok', NULL, '{}', '{"title":"x"}'));
-- 400: no body, a body that is not an object
SELECT pg_temp.brief(lms.api_course_create(:'ines_tok', NULL, '{}', NULL));
SELECT pg_temp.brief(lms.api_course_create(:'ines_tok', NULL, '{}', '[{"title":"x"}]'));
SELECT pg_temp.brief(lms.api_course_create(:'ines_tok', NULL, '{}', '"x"'));
-- 400: the title is required
SELECT pg_temp.brief(lms.api_course_create(:'ines_tok', NULL, '{}', '{}'));
-- 400: every bad field is listed
SELECT pg_temp.brief(lms.api_course_create(:'ines_tok', NULL, '{}',
  '{"title":"   ","slug":"Bad Slug","summary":5,"category":"","capacity":0,"enroll_opens_at":"2026-13-01",
    "enroll_closes_at":"next week","access_days":1.5,"prerequisite_course_ids":[1,99,98]}'));
-- 400: wrong types and ranges, one at a time
SELECT pg_temp.brief(lms.api_course_create(:'ines_tok', NULL, '{}', '{"title":42}'));
SELECT pg_temp.brief(lms.api_course_create(:'ines_tok', NULL, '{}', '{"title":"x","capacity":"10"}'));
SELECT pg_temp.brief(lms.api_course_create(:'ines_tok', NULL, '{}', '{"title":"x","capacity":-1}'));
SELECT pg_temp.brief(lms.api_course_create(:'ines_tok', NULL, '{}', '{"title":"x","capacity":2.5}'));
SELECT pg_temp.brief(lms.api_course_create(:'ines_tok', NULL, '{}', '{"title":"x","capacity":1e12}'));
SELECT pg_temp.brief(lms.api_course_create(:'ines_tok', NULL, '{}', '{"title":"x","access_days":0}'));
SELECT pg_temp.brief(lms.api_course_create(:'ines_tok', NULL, '{}', '{"title":"x","slug":"-x-"}'));
SELECT pg_temp.brief(lms.api_course_create(:'ines_tok', NULL, '{}', '{"title":"x","enroll_opens_at":20260301}'));
SELECT pg_temp.brief(lms.api_course_create(:'ines_tok', NULL, '{}', '{"title":"x","enroll_opens_at":"2026-02-30T10:00:00Z"}'));
SELECT pg_temp.brief(lms.api_course_create(:'ines_tok', NULL, '{}', '{"title":"x","enroll_opens_at":"2026-05-01T00:00:00Z","enroll_closes_at":"2026-04-01T00:00:00Z"}'));
SELECT pg_temp.brief(lms.api_course_create(:'ines_tok', NULL, '{}', '{"title":"x","enroll_opens_at":"2026-05-01T00:00:00Z","enroll_closes_at":"2026-05-01T00:00:00Z"}'));
SELECT pg_temp.brief(lms.api_course_create(:'ines_tok', NULL, '{}', '{"title":"x","prerequisite_course_ids":5}'));
SELECT pg_temp.brief(lms.api_course_create(:'ines_tok', NULL, '{}', '{"title":"x","prerequisite_course_ids":["1"]}'));
SELECT pg_temp.brief(lms.api_course_create(:'ines_tok', NULL, '{}', '{"title":"x","prerequisite_course_ids":[0]}'));
SELECT pg_temp.brief(lms.api_course_create(:'ines_tok', NULL, '{}', '{"title":"x","is_published":true}'));
-- 409: an explicit slug already taken
SELECT pg_temp.brief(lms.api_course_create(:'ines_tok', NULL, '{}', '{"title":"Another","slug":"intro-to-sql"}'));
-- nothing was written by the failures
SELECT id, slug, instructor_id, is_published FROM lms.courses ORDER BY id;
SELECT course_id, prerequisite_id FROM lms.course_prerequisites ORDER BY 1, 2;

-- ============================================================================================
-- POST /courses/{id}/modules
-- ============================================================================================
SELECT pg_temp.brief(lms.api_module_create(:'ines_tok', '1', '{}', '{"title":"Basics"}'));
SELECT pg_temp.brief(lms.api_module_create(:'ines_tok', '1', '{}', '{"title":"Joins"}'));
-- inserting at a position moves the later modules down
SELECT pg_temp.brief(lms.api_module_create(:'ines_tok', '1', '{}', '{"title":"Setup","position":1}'));
SELECT id, title, position FROM lms.modules WHERE course_id = 1 ORDER BY position, id;
-- an admin may add to anyone's course
SELECT pg_temp.brief(lms.api_module_create(:'ada_tok', '6', '{}', '{"title":"Window functions","position":null}'));
-- errors: 401, 400 invalid_id, 404, 403 (another instructor, a student), 400 body and fields
SELECT pg_temp.brief(lms.api_module_create(NULL, '1', '{}', '{"title":"x"}'));
SELECT pg_temp.brief(lms.api_module_create(:'ines_tok', 'abc', '{}', '{"title":"x"}'));
SELECT pg_temp.brief(lms.api_module_create(:'ines_tok', '999', '{}', '{"title":"x"}'));
SELECT pg_temp.brief(lms.api_module_create(:'ivan_tok', '1', '{}', '{"title":"x"}'));
SELECT pg_temp.brief(lms.api_module_create(:'sam_tok', '1', '{}', '{"title":"x"}'));
SELECT pg_temp.brief(lms.api_module_create(:'ines_tok', '1', '{}', '[]'));
SELECT pg_temp.brief(lms.api_module_create(:'ines_tok', '1', '{}', '{}'));
SELECT pg_temp.brief(lms.api_module_create(:'ines_tok', '1', '{}', '{"title":"","position":0}'));
SELECT pg_temp.brief(lms.api_module_create(:'ines_tok', '1', '{}', '{"title":"x","position":"2"}'));

-- ============================================================================================
-- POST /courses/{id}/publish and POST /modules/{id}/lessons
-- ============================================================================================
-- 409: a course without a published lesson
SELECT pg_temp.brief(lms.api_course_publish(:'ines_tok', '1', '{}', NULL));
-- lessons: published by default, points 10, last position
SELECT pg_temp.brief(lms.api_lesson_create(:'ines_tok', '2', '{}',
  '{"title":"What is SQL","kind":"video","duration_seconds":300,"video_playback_id":"vid-1","is_preview":true}'));
SELECT pg_temp.brief(lms.api_lesson_create(:'ines_tok', '2', '{}',
  '{"title":"SELECT","kind":"text","content":"SELECT 1;","points":25,"available_from":"2026-03-09T08:00:00Z"}'));
SELECT pg_temp.brief(lms.api_lesson_create(:'ines_tok', '2', '{}',
  '{"title":"Check yourself","kind":"quiz","position":1,"is_published":false,"duration_seconds":120}'));
SELECT id, title, position, is_published FROM lms.lessons WHERE module_id = 2 ORDER BY position, id;
SELECT pg_temp.brief(lms.api_course_publish(:'ines_tok', '1', '{}', NULL));
-- publishing again answers the course again
SELECT status, body::jsonb->'is_published' AS is_published FROM lms.api_course_publish(:'ines_tok', '1', '{}', NULL);
-- an admin publishes another instructor's course once it has a lesson
SELECT pg_temp.brief(lms.api_lesson_create(:'ivan_tok', '4', '{}', '{"title":"Frames","kind":"video","duration_seconds":600}'));
SELECT status, body::jsonb->'is_published' AS is_published FROM lms.api_course_publish(:'ada_tok', '6', '{}', NULL);
-- publish errors: 401, 400, 404, 403
SELECT pg_temp.brief(lms.api_course_publish(NULL, '1', '{}', NULL));
SELECT pg_temp.brief(lms.api_course_publish(:'ines_tok', '0', '{}', NULL));
SELECT pg_temp.brief(lms.api_course_publish(:'ines_tok', '999', '{}', NULL));
SELECT pg_temp.brief(lms.api_course_publish(:'ivan_tok', '1', '{}', NULL));
SELECT pg_temp.brief(lms.api_course_publish(:'sam_tok', '1', '{}', NULL));
-- lesson errors: 401, 400 invalid_id, 404, 403, 400 body, 400 kind and every bad field
SELECT pg_temp.brief(lms.api_lesson_create('nope', '2', '{}', '{"title":"x","kind":"text"}'));
SELECT pg_temp.brief(lms.api_lesson_create(:'ines_tok', '-1', '{}', '{"title":"x","kind":"text"}'));
SELECT pg_temp.brief(lms.api_lesson_create(:'ines_tok', '999', '{}', '{"title":"x","kind":"text"}'));
SELECT pg_temp.brief(lms.api_lesson_create(:'ivan_tok', '2', '{}', '{"title":"x","kind":"text"}'));
SELECT pg_temp.brief(lms.api_lesson_create(:'sam_tok', '2', '{}', '{"title":"x","kind":"text"}'));
SELECT pg_temp.brief(lms.api_lesson_create(:'ines_tok', '2', '{}', '1'));
SELECT pg_temp.brief(lms.api_lesson_create(:'ines_tok', '2', '{}', '{"title":"x","kind":"pdf"}'));
SELECT pg_temp.brief(lms.api_lesson_create(:'ines_tok', '2', '{}', '{"title":"x"}'));
SELECT pg_temp.brief(lms.api_lesson_create(:'ines_tok', '2', '{}',
  '{"title":null,"kind":"VIDEO","duration_seconds":-5,"video_playback_id":"","content":7,"points":100001,
    "is_preview":"yes","is_published":1,"position":0,"available_from":"tomorrow"}'));
SELECT pg_temp.brief(lms.api_lesson_create(:'ines_tok', '2', '{}', '{"title":"x","kind":"video","duration_seconds":30.5}'));
SELECT pg_temp.brief(lms.api_lesson_create(:'ines_tok', '2', '{}', '{"title":"x","kind":"video","points":-1}'));

-- ============================================================================================
-- PATCH /lessons/{id}
-- ============================================================================================
SELECT pg_temp.brief(lms.api_lesson_patch(:'ines_tok', '2', '{}',
  '{"title":"SELECT basics","content":null,"available_from":null,"points":30}'));
-- moving a lesson within its module shifts the others
SELECT status FROM lms.api_lesson_patch(:'ines_tok', '1', '{}', '{"position":3}');
SELECT id, title, position FROM lms.lessons WHERE module_id = 2 ORDER BY position, id;
SELECT status FROM lms.api_lesson_patch(:'ines_tok', '1', '{}', '{"position":1}');
SELECT id, title, position FROM lms.lessons WHERE module_id = 2 ORDER BY position, id;
-- the same module id is fine, another one is not supported
SELECT status FROM lms.api_lesson_patch(:'ines_tok', '1', '{}', '{"module_id":2}');
SELECT pg_temp.brief(lms.api_lesson_patch(:'ines_tok', '1', '{}', '{"module_id":3}'));
SELECT pg_temp.brief(lms.api_lesson_patch(:'ines_tok', '1', '{}', '{"course_id":6}'));
-- errors: 401, 400 invalid_id, 404, 403, 400 body and fields
SELECT pg_temp.brief(lms.api_lesson_patch(NULL, '1', '{}', '{"title":"x"}'));
SELECT pg_temp.brief(lms.api_lesson_patch(:'ines_tok', '1x', '{}', '{"title":"x"}'));
SELECT pg_temp.brief(lms.api_lesson_patch(:'ines_tok', '999', '{}', '{"title":"x"}'));
SELECT pg_temp.brief(lms.api_lesson_patch(:'ivan_tok', '1', '{}', '{"title":"x"}'));
SELECT pg_temp.brief(lms.api_lesson_patch(:'sam_tok', '1', '{}', '{"title":"x"}'));
SELECT pg_temp.brief(lms.api_lesson_patch(:'ines_tok', '1', '{}', 'null'));
SELECT pg_temp.brief(lms.api_lesson_patch(:'ines_tok', '1', '{}', '{"kind":"slides","duration_seconds":null,"is_published":"false"}'));
-- an admin may change anyone's lesson
SELECT status, body::jsonb->'title' AS title FROM lms.api_lesson_patch(:'ada_tok', '4', '{}', '{"title":"Frames and partitions"}');

-- ============================================================================================
-- PATCH /courses/{id}
-- ============================================================================================
-- a day later (updated_at moves, created_at stays)
SET lms.clock_override = '2026-03-03 09:00:00+00';
-- two learners hold seats in course 1 (capacity 3)
SELECT result FROM lms.enroll(:sam, 1);
SELECT result FROM lms.enroll(:lea, 1);
SELECT pg_temp.brief(lms.api_course_patch(:'ines_tok', '1', '{}',
  '{"title":"Intro to SQL","summary":"The basics.","category":"sql","capacity":2,"access_days":null,
    "enroll_closes_at":"2026-06-01T00:00:00Z","prerequisite_course_ids":[2]}'));
-- 409: a capacity below the seats already taken
SELECT pg_temp.brief(lms.api_course_patch(:'ines_tok', '1', '{}', '{"capacity":1}'));
-- no capacity at all is fine
SELECT status, body::jsonb->'capacity' AS capacity, body::jsonb->'seats_left' AS seats_left
  FROM lms.api_course_patch(:'ines_tok', '1', '{}', '{"capacity":null}');
-- the window is checked against the stored other end
SELECT pg_temp.brief(lms.api_course_patch(:'ines_tok', '1', '{}', '{"enroll_opens_at":"2026-07-01T00:00:00Z"}'));
-- a new slug; one already taken is 409
SELECT status, body::jsonb->'slug' AS slug FROM lms.api_course_patch(:'ines_tok', '1', '{}', '{"slug":"sql-101"}');
SELECT pg_temp.brief(lms.api_course_patch(:'ines_tok', '1', '{}', '{"slug":"advanced-sql"}'));
SELECT pg_temp.brief(lms.api_course_patch(:'ines_tok', '1', '{}', '{"slug":null,"title":null}'));
-- prerequisites: replaced, cleared; never the course itself, never a cycle
SELECT pg_temp.brief(lms.api_course_patch(:'ines_tok', '1', '{}', '{"prerequisite_course_ids":[1]}'));
SELECT pg_temp.brief(lms.api_course_patch(:'ines_tok', '2', '{}', '{"prerequisite_course_ids":[6]}'));
SELECT status, body::jsonb->'prerequisite_course_ids' AS prereqs FROM lms.api_course_patch(:'ivan_tok', '6', '{}', '{"prerequisite_course_ids":[2]}');
SELECT status, body::jsonb->'prerequisite_course_ids' AS prereqs FROM lms.api_course_patch(:'ivan_tok', '6', '{}', '{"prerequisite_course_ids":[]}');
-- is_published through PATCH follows the publish rule
SELECT pg_temp.brief(lms.api_course_patch(:'ines_tok', '2', '{}', '{"is_published":true}'));
SELECT status, body::jsonb->'is_published' AS is_published FROM lms.api_course_patch(:'ines_tok', '1', '{}', '{"is_published":false}');
SELECT status, body::jsonb->'is_published' AS is_published FROM lms.api_course_patch(:'ines_tok', '1', '{}', '{"is_published":true}');
-- an empty patch changes nothing but the answer is the course
SELECT status, body::jsonb->'title' AS title FROM lms.api_course_patch(:'ines_tok', '1', '{}', '{}');
-- errors: 401, 400 invalid_id, 404, 403 (another instructor, a student), 400 body and fields
SELECT pg_temp.brief(lms.api_course_patch(NULL, '1', '{}', '{"title":"x"}'));
SELECT pg_temp.brief(lms.api_course_patch(:'ines_tok', '99999999999999999999', '{}', '{"title":"x"}'));
SELECT pg_temp.brief(lms.api_course_patch(:'ines_tok', '999', '{}', '{"title":"x"}'));
SELECT pg_temp.brief(lms.api_course_patch(:'ivan_tok', '1', '{}', '{"title":"x"}'));
SELECT pg_temp.brief(lms.api_course_patch(:'sam_tok', '1', '{}', '{"title":"x"}'));
SELECT pg_temp.brief(lms.api_course_patch(:'ines_tok', '1', '{}', '[]'));
SELECT pg_temp.brief(lms.api_course_patch(:'ines_tok', '1', '{}', '{"capacity":0,"access_days":-3,"is_published":"yes","summary":null}'));
-- an admin may change anyone's course
SELECT status, body::jsonb->'category' AS category FROM lms.api_course_patch(:'ada_tok', '6', '{}', '{"category":"sql"}');

-- ============================================================================================
-- The audit trail: one row per successful write, none for a refused one
-- ============================================================================================
SELECT a.id, u.display_name AS actor, a.action, a.entity, a.entity_id, a.data, lms.iso(a.created_at) AS at
  FROM lms.audit_log a LEFT JOIN lms.users u ON u.id = a.actor_id ORDER BY a.id;

-- ============================================================================================
-- Published-lesson counters
-- courses.lesson_count / total_duration_seconds and modules.lesson_count count published
-- lessons; enrollments.completed_lessons and module_progress.completed_lessons count the
-- published lessons a learner completed. Every write keeps them right; this view recomputes
-- each one from scratch and counts the rows that disagree (0 everywhere is the healthy answer).
-- ============================================================================================
CREATE TEMP VIEW counter_mismatches AS
SELECT 'course lesson_count/total_duration' AS counter, count(*) AS mismatches
  FROM lms.courses c
  LEFT JOIN (SELECT l.course_id, count(*) AS n, sum(l.duration_seconds) AS d
               FROM lms.lessons l WHERE l.is_published GROUP BY 1) x ON x.course_id = c.id
 WHERE c.lesson_count <> coalesce(x.n, 0) OR c.total_duration_seconds <> coalesce(x.d, 0)
UNION ALL
SELECT 'module lesson_count', count(*)
  FROM lms.modules m
  LEFT JOIN (SELECT l.module_id, count(*) AS n FROM lms.lessons l WHERE l.is_published GROUP BY 1) x
         ON x.module_id = m.id
 WHERE m.lesson_count <> coalesce(x.n, 0)
UNION ALL
SELECT 'enrollment completed_lessons', count(*)
  FROM lms.enrollments e
  LEFT JOIN (SELECT p.user_id, l.course_id, count(*) AS n
               FROM lms.lesson_progress p JOIN lms.lessons l ON l.id = p.lesson_id
              WHERE p.is_completed AND l.is_published GROUP BY 1, 2) x
         ON x.user_id = e.user_id AND x.course_id = e.course_id
 WHERE e.completed_lessons <> coalesce(x.n, 0)
UNION ALL
SELECT 'module_progress completed_lessons', count(*)
  FROM (SELECT p.user_id, l.module_id, count(*) AS n
          FROM lms.lesson_progress p JOIN lms.lessons l ON l.id = p.lesson_id
         WHERE p.is_completed AND l.is_published GROUP BY 1, 2) x
  FULL JOIN lms.module_progress mp ON mp.user_id = x.user_id AND mp.module_id = x.module_id
 WHERE coalesce(mp.completed_lessons, 0) <> coalesce(x.n, 0);

-- A learner's completion as the progress write path records it: the lesson_progress row and
-- the +1 on the enrollment and on module_progress (the C core does this in lms.record_progress).
CREATE FUNCTION pg_temp.complete(uid bigint, lid bigint) RETURNS void LANGUAGE sql AS $$
  INSERT INTO lms.lesson_progress (user_id, lesson_id, course_id, module_id, watched_seconds,
                                   last_position_seconds, completion_percentage, is_completed, completed_at)
  SELECT uid, l.id, l.course_id, l.module_id, l.duration_seconds, l.duration_seconds, 100, true, lms.clock()
    FROM lms.lessons l WHERE l.id = lid AND l.is_published;
  UPDATE lms.enrollments e SET completed_lessons = e.completed_lessons + 1
    FROM lms.lessons l WHERE l.id = lid AND l.is_published AND e.user_id = uid AND e.course_id = l.course_id;
  INSERT INTO lms.module_progress AS mp (user_id, module_id, completed_lessons)
  SELECT uid, l.module_id, 1 FROM lms.lessons l WHERE l.id = lid AND l.is_published
  ON CONFLICT (user_id, module_id) DO UPDATE SET completed_lessons = mp.completed_lessons + 1;
$$;

-- a course with module A (lessons a1, a2) and module B (lesson b1 and the draft b2)
SELECT body::jsonb->'id' AS cc FROM lms.api_course_create(:'ines_tok', NULL, '{}', '{"title":"Counting"}') \gset
SELECT body::jsonb->'id' AS ma FROM lms.api_module_create(:'ines_tok', :'cc', '{}', '{"title":"A"}') \gset
SELECT body::jsonb->'id' AS mb FROM lms.api_module_create(:'ines_tok', :'cc', '{}', '{"title":"B"}') \gset
SELECT body::jsonb->'id' AS a1 FROM lms.api_lesson_create(:'ines_tok', :'ma', '{}', '{"title":"a1","kind":"video","duration_seconds":100}') \gset
SELECT body::jsonb->'id' AS a2 FROM lms.api_lesson_create(:'ines_tok', :'ma', '{}', '{"title":"a2","kind":"text","duration_seconds":50}') \gset
SELECT body::jsonb->'id' AS b1 FROM lms.api_lesson_create(:'ines_tok', :'mb', '{}', '{"title":"b1","kind":"video","duration_seconds":200}') \gset
SELECT body::jsonb->'id' AS b2 FROM lms.api_lesson_create(:'ines_tok', :'mb', '{}', '{"title":"b2","kind":"quiz","duration_seconds":30,"is_published":false}') \gset
SELECT status FROM lms.api_course_publish(:'ines_tok', :'cc', '{}', NULL);

-- What the stored counters say about this course and its learners.
CREATE TEMP VIEW counting AS
SELECT 'course' AS what, c.lesson_count AS n, c.total_duration_seconds AS seconds FROM lms.courses c WHERE c.id = :cc
UNION ALL
SELECT 'module ' || m.title, m.lesson_count, NULL FROM lms.modules m WHERE m.course_id = :cc
UNION ALL
SELECT 'enrollment ' || u.display_name, e.completed_lessons, NULL
  FROM lms.enrollments e JOIN lms.users u ON u.id = e.user_id WHERE e.course_id = :cc
UNION ALL
SELECT 'module ' || m.title || ' ' || u.display_name, mp.completed_lessons, NULL
  FROM lms.module_progress mp JOIN lms.modules m ON m.id = mp.module_id JOIN lms.users u ON u.id = mp.user_id
 WHERE m.course_id = :cc
ORDER BY 1;

SELECT result FROM lms.enroll(:sam, :cc);
SELECT result FROM lms.enroll(:lea, :cc);
-- Sam completes a1, a2 and b1; Lea completes a1
SELECT pg_temp.complete(:sam, :a1), pg_temp.complete(:sam, :a2), pg_temp.complete(:sam, :b1), pg_temp.complete(:lea, :a1);
-- Max completes a2 and b1 through the real progress write path
SELECT lms.create_user('max@example.org', 'password1', 'Max Member') AS max \gset
SELECT result FROM lms.enroll(:max, :cc);
SELECT r->'lesson'->'is_completed' AS lesson_completed, r->'course'->'completed_lessons' AS completed_lessons
  FROM lms.record_progress(:max, :b1, 200, 200, 100) r;
SELECT r->'lesson'->'is_completed' AS lesson_completed, r->'course'->'completed_lessons' AS completed_lessons
  FROM lms.record_progress(:max, :a2, 0, 0, 0, true) r;
SELECT * FROM counting;
SELECT * FROM counter_mismatches;

-- unpublishing a1: out of the course and module counts, and out of Sam's and Lea's completions
SELECT status, body::jsonb->'is_published' AS is_published FROM lms.api_lesson_patch(:'ines_tok', :'a1', '{}', '{"is_published":false}');
SELECT * FROM counting;
SELECT * FROM counter_mismatches;
-- the learners' lesson_progress rows stay
SELECT u.display_name, lp.is_completed FROM lms.lesson_progress lp JOIN lms.users u ON u.id = lp.user_id
 WHERE lp.lesson_id = :a1 ORDER BY 1;
-- a duration change moves the total only while the lesson is published
SELECT status FROM lms.api_lesson_patch(:'ines_tok', :'b1', '{}', '{"duration_seconds":260}');
SELECT status FROM lms.api_lesson_patch(:'ines_tok', :'a1', '{}', '{"duration_seconds":120}');
SELECT lesson_count, total_duration_seconds FROM lms.courses WHERE id = :cc;
-- republishing a1 gives the completions back, with its new duration
SELECT status FROM lms.api_lesson_patch(:'ines_tok', :'a1', '{}', '{"is_published":true}');
SELECT * FROM counting;
SELECT * FROM counter_mismatches;
-- publishing the draft b2 and changing its duration in the same PATCH; nobody has completed it
SELECT status FROM lms.api_lesson_patch(:'ines_tok', :'b2', '{}', '{"is_published":true,"duration_seconds":40}');
SELECT * FROM counting;
-- a new lesson lowers everyone's share without touching their enrollments
SELECT status FROM lms.api_lesson_create(:'ines_tok', :'mb', '{}', '{"title":"b3","kind":"text","duration_seconds":10}');
SELECT u.display_name, e.completed_lessons, c.lesson_count,
       lms.enrollment_json(e)->'progress_percentage' AS progress_percentage
  FROM lms.enrollments e JOIN lms.courses c ON c.id = e.course_id JOIN lms.users u ON u.id = e.user_id
 WHERE e.course_id = :cc ORDER BY 1;
SELECT * FROM counter_mismatches;
-- the course answer reads the same counters
SELECT body::jsonb->'lesson_count' AS lesson_count, body::jsonb->'total_duration_seconds' AS total_duration_seconds,
       body::jsonb->'enrollment_count' AS enrollment_count
  FROM lms.api_course_get(NULL, :'cc', '{}', NULL);
-- a dropped learner's counts follow too
SELECT lms.unenroll(:lea, :cc);
SELECT status FROM lms.api_lesson_patch(:'ines_tok', :'a1', '{}', '{"is_published":false}');
SELECT * FROM counting;
SELECT status FROM lms.api_lesson_patch(:'ines_tok', :'a1', '{}', '{"is_published":true}');
SELECT * FROM counter_mismatches;
-- so does a DBA deleting a published lesson, or a whole course
DELETE FROM lms.lessons WHERE id = :b1;
SELECT * FROM counting;
SELECT * FROM counter_mismatches;
DELETE FROM lms.courses WHERE id = 1;
SELECT * FROM counter_mismatches;
-- a DBA moving a lesson to another module is refused (the counters could not follow)
UPDATE lms.lessons SET module_id = :ma WHERE id = :b2;

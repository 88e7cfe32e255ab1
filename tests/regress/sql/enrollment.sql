\i tests/regress/setup.psql
-- Enrollment: seats, idempotent enroll, drop, window, prerequisites, access_days expiry,
-- and the lesson access check.
-- the status and the enrollment fields that tell the story
CREATE FUNCTION pg_temp.show(r lms.api_response) RETURNS text LANGUAGE sql AS $$
  SELECT r.status || ' ' || coalesce(CASE WHEN r.body IS NULL THEN '' WHEN r.status < 300
    THEN (SELECT jsonb_build_object('id', b->'id', 'user_id', b->'user_id', 'status', b->'status',
                                    'expires_at', b->'expires_at', 'enrolled_at', b->'enrolled_at')::text
          FROM (SELECT r.body::jsonb AS b) x)
    ELSE (r.body::jsonb->>'code') END, '')
$$;

SELECT lms.create_user('admin@example.org', 'password-1', 'Admin', 'admin') AS admin_id \gset
SELECT lms.create_user('ivy@example.org', 'password-1', 'Ivy', 'instructor') AS ivy \gset
SELECT lms.create_user('ann@example.org', 'password-1', 'Ann') AS ann \gset
SELECT lms.create_user('bob@example.org', 'password-1', 'Bob') AS bob \gset
SELECT lms.create_user('cat@example.org', 'password-1', 'Cat') AS cat \gset
-- tokens that outlive the time travel below
SET lms.token_ttl = '100d';
SELECT pg_temp.login('ann@example.org') AS t_ann, pg_temp.login('bob@example.org') AS t_bob,
       pg_temp.login('cat@example.org') AS t_cat, pg_temp.login('admin@example.org') AS t_admin \gset

-- a published course with 2 seats, one lesson of each access kind
INSERT INTO lms.courses (slug, title, instructor_id, is_published, capacity)
VALUES ('sql-basics', 'SQL Basics', :ivy, true, 2) RETURNING id AS c_sql \gset
INSERT INTO lms.modules (course_id, title, position) VALUES (:c_sql, 'Start', 1) RETURNING id AS m_sql \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, duration_seconds, is_preview)
VALUES (:m_sql, :c_sql, 'Welcome', 'video', 1, 60, true) RETURNING id AS l_preview \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, duration_seconds)
VALUES (:m_sql, :c_sql, 'Select', 'video', 2, 600) RETURNING id AS l_plain \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, available_from)
VALUES (:m_sql, :c_sql, 'Next week', 'text', 3, '2026-03-09 00:00:00+00') RETURNING id AS l_later \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, is_published)
VALUES (:m_sql, :c_sql, 'Draft', 'text', 4, false) RETURNING id AS l_draft \gset
-- a draft course
INSERT INTO lms.courses (slug, title, instructor_id) VALUES ('draft', 'Draft', :ivy) RETURNING id AS c_draft \gset
INSERT INTO lms.modules (course_id, title, position) VALUES (:c_draft, 'M', 1) RETURNING id AS m_draft \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, is_preview)
VALUES (:m_draft, :c_draft, 'Draft preview', 'text', 1, true) RETURNING id AS l_draft_course \gset

-- POST /courses/{id}/enroll: 201, then 200 with the same enrollment (idempotent)
SELECT * FROM lms.api_enroll(:'t_ann', :'c_sql', '{}', NULL);
SELECT pg_temp.show(lms.api_enroll(:'t_ann', :'c_sql', '{}', NULL));
SELECT lms.is_enrolled(:ann, :c_sql) AS ann_enrolled, lms.is_enrolled(:bob, :c_sql) AS bob_enrolled,
       lms.is_enrolled(NULL, :c_sql) AS null_user, lms.seats_left(:c_sql) AS seats_left;
SELECT pg_temp.show(lms.api_enroll(:'t_bob', :'c_sql', '{}', NULL));
-- full: 409 course_full, and the counters never pass the capacity
SELECT * FROM lms.api_enroll(:'t_cat', :'c_sql', '{}', NULL);
SELECT capacity, seats_taken, active_enrollments, lms.seats_left(id) AS seats_left FROM lms.courses WHERE id = :c_sql;
-- the idempotent answer still works when the course is full
SELECT pg_temp.show(lms.api_enroll(:'t_bob', :'c_sql', '{}', NULL));
-- errors: 401, 400 invalid_id, 404 unknown or unpublished course (even for an admin)
SELECT * FROM lms.api_enroll(NULL, :'c_sql', '{}', NULL);
SELECT pg_temp.show(lms.api_enroll('bogus', :'c_sql', '{}', NULL));
SELECT * FROM lms.api_enroll(:'t_cat', 'abc', '{}', NULL);
SELECT pg_temp.show(lms.api_enroll(:'t_cat', '0', '{}', NULL));
SELECT * FROM lms.api_enroll(:'t_cat', '999999', '{}', NULL);
SELECT pg_temp.show(lms.api_enroll(:'t_cat', :'c_draft', '{}', NULL));
SELECT pg_temp.show(lms.api_enroll(:'t_admin', :'c_draft', '{}', NULL));
SELECT * FROM lms.enroll(:cat, 999999);

-- DELETE /courses/{id}/enroll: 204, status dropped, seat freed
SELECT * FROM lms.api_unenroll(:'t_bob', :'c_sql', '{}', NULL);
SELECT status, dropped_at IS NOT NULL AS has_dropped_at FROM lms.enrollments WHERE user_id = :bob AND course_id = :c_sql;
SELECT seats_taken, active_enrollments, lms.seats_left(id) AS seats_left FROM lms.courses WHERE id = :c_sql;
SELECT lms.is_enrolled(:bob, :c_sql) AS bob_enrolled;
-- 404 when not enrolled (already dropped, never enrolled, unknown course); 401 without a token
SELECT * FROM lms.api_unenroll(:'t_bob', :'c_sql', '{}', NULL);
SELECT pg_temp.show(lms.api_unenroll(:'t_cat', :'c_sql', '{}', NULL));
SELECT pg_temp.show(lms.api_unenroll(:'t_cat', '999999', '{}', NULL));
SELECT pg_temp.show(lms.api_unenroll(NULL, :'c_sql', '{}', NULL));
SELECT pg_temp.show(lms.api_unenroll(:'t_cat', 'x', '{}', NULL));
-- the freed seat goes to Cat; Bob, dropped, now finds the course full
SELECT pg_temp.show(lms.api_enroll(:'t_cat', :'c_sql', '{}', NULL));
SELECT pg_temp.show(lms.api_enroll(:'t_bob', :'c_sql', '{}', NULL));
-- Ann drops; Bob is re-activated: 201, the same enrollment row, a new enrolled_at
SELECT pg_temp.show(lms.api_unenroll(:'t_ann', :'c_sql', '{}', NULL));
SET lms.clock_override = '2026-03-02 11:00:00+00';
SELECT pg_temp.show(lms.api_enroll(:'t_bob', :'c_sql', '{}', NULL));
SELECT user_id, status, lms.iso(dropped_at) AS dropped_at FROM lms.enrollments WHERE course_id = :c_sql ORDER BY id;
SELECT seats_taken, active_enrollments FROM lms.courses WHERE id = :c_sql;

-- lms.lesson_access
SELECT l.title, who.name, lms.lesson_access(who.id, l.id) AS access
FROM (VALUES (:l_preview, 1), (:l_plain, 2), (:l_later, 3), (:l_draft, 4), (:l_draft_course, 5)) AS v(lid, ord)
JOIN lms.lessons l ON l.id = v.lid
CROSS JOIN (VALUES (NULL::bigint, 'anonymous', 1), (:ann::bigint, 'ann (dropped)', 2), (:bob, 'bob (enrolled)', 3),
                   (:ivy, 'ivy (owner)', 4), (:admin_id, 'admin', 5)) AS who(id, name, ord)
ORDER BY v.ord, who.ord;
SELECT lms.lesson_access(:bob, 999999) AS unknown_lesson, lms.lesson_access(:bob, NULL) AS null_lesson;
-- the lesson opens on its date
SET lms.clock_override = '2026-03-09 00:00:00+00';
SELECT lms.lesson_access(:bob, :l_later) AS on_the_day;
SET lms.clock_override = '2026-03-02 11:00:00+00';
-- the owner sees unpublished lessons
SELECT lms.lesson_access(:ivy, :l_draft) AS owner_draft;

-- the enrollment window [opens, closes)
INSERT INTO lms.courses (slug, title, instructor_id, is_published, enroll_opens_at, enroll_closes_at)
VALUES ('windowed', 'Windowed', :ivy, true, '2026-03-05 00:00:00+00', '2026-03-10 00:00:00+00') RETURNING id AS c_win \gset
SELECT * FROM lms.api_enroll(:'t_ann', :'c_win', '{}', NULL);
SET lms.clock_override = '2026-03-10 00:00:00+00';
SELECT pg_temp.show(lms.api_enroll(:'t_ann', :'c_win', '{}', NULL));
SET lms.clock_override = '2026-03-05 00:00:00+00';
SELECT pg_temp.show(lms.api_enroll(:'t_ann', :'c_win', '{}', NULL));
-- once enrolled, asking again after the window closes is still the idempotent 200
SET lms.clock_override = '2026-03-11 00:00:00+00';
SELECT pg_temp.show(lms.api_enroll(:'t_ann', :'c_win', '{}', NULL));
SET lms.clock_override = '2026-03-02 11:00:00+00';

-- prerequisites: 403 until every prerequisite course is completed
INSERT INTO lms.courses (slug, title, instructor_id, is_published) VALUES ('advanced', 'Advanced', :ivy, true)
RETURNING id AS c_adv \gset
INSERT INTO lms.course_prerequisites VALUES (:c_adv, :c_sql);
SELECT * FROM lms.api_enroll(:'t_bob', :'c_adv', '{}', NULL);
-- Bob completes SQL Basics through the progress path (both published, available lessons)
UPDATE lms.lessons SET available_from = NULL WHERE id = :l_later;
SELECT lms.record_progress(:bob, :l_preview, 60, 60, 100)->'course'->>'status' AS after_1,
       lms.record_progress(:bob, :l_plain, 600, 600, 100)->'course'->>'status' AS after_2,
       lms.record_progress(:bob, :l_later, 0, 0, 0, true)->'course'->>'status' AS after_3;
SELECT pg_temp.show(lms.api_enroll(:'t_bob', :'c_adv', '{}', NULL));
-- a completed enrollment stays enrolled and holds its seat, but is not active any more
SELECT lms.is_enrolled(:bob, :c_sql) AS bob_enrolled, seats_taken, active_enrollments
FROM lms.courses WHERE id = :c_sql;
SELECT pg_temp.show(lms.api_enroll(:'t_bob', :'c_sql', '{}', NULL));
-- a completed learner who drops frees the seat; coming back restores the completion
SELECT pg_temp.show(lms.api_unenroll(:'t_bob', :'c_sql', '{}', NULL));
SELECT seats_taken, active_enrollments FROM lms.courses WHERE id = :c_sql;
SELECT pg_temp.show(lms.api_enroll(:'t_bob', :'c_sql', '{}', NULL));
SELECT seats_taken, active_enrollments, lms.is_enrolled(:bob, :c_sql) AS bob_enrolled FROM lms.courses WHERE id = :c_sql;

-- access_days: access ends 30 days after enrolling; the seat is released on the next enroll
INSERT INTO lms.courses (slug, title, instructor_id, is_published, capacity, access_days)
VALUES ('thirty-days', 'Thirty days', :ivy, true, 1, 30) RETURNING id AS c_30 \gset
INSERT INTO lms.modules (course_id, title, position) VALUES (:c_30, 'M', 1) RETURNING id AS m_30 \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position) VALUES (:m_30, :c_30, 'Only', 'text', 1)
RETURNING id AS l_30 \gset
SELECT pg_temp.show(lms.api_enroll(:'t_ann', :'c_30', '{}', NULL));
SELECT pg_temp.show(lms.api_enroll(:'t_cat', :'c_30', '{}', NULL));
SET lms.clock_override = '2026-04-01 10:59:59+00';
SELECT lms.is_enrolled(:ann, :c_30) AS last_second, lms.seats_left(:c_30) AS seats_left;
SET lms.clock_override = '2026-04-01 11:00:00+00';
SELECT lms.is_enrolled(:ann, :c_30) AS expired_enrolled, lms.lesson_access(:ann, :l_30) AS access,
       lms.seats_left(:c_30) AS seats_left;
SELECT lms.enrollment_json(e)->>'status' AS reads_as, e.status AS stored FROM lms.enrollments e
WHERE user_id = :ann AND course_id = :c_30;
-- the expired learner cannot drop (nothing to drop)
SELECT pg_temp.show(lms.api_unenroll(:'t_ann', :'c_30', '{}', NULL));
-- Cat takes the seat held by the expired enrollment
SELECT pg_temp.show(lms.api_enroll(:'t_cat', :'c_30', '{}', NULL));
SELECT user_id, status FROM lms.enrollments WHERE course_id = :c_30 ORDER BY id;
SELECT seats_taken, active_enrollments, lms.seats_left(id) AS seats_left FROM lms.courses WHERE id = :c_30;
SELECT pg_temp.show(lms.api_enroll(:'t_ann', :'c_30', '{}', NULL));
-- an expired learner re-enrolling into their own overdue seat gets a fresh access window
SET lms.clock_override = '2026-05-02 11:00:00+00';
SELECT pg_temp.show(lms.api_enroll(:'t_cat', :'c_30', '{}', NULL));
SELECT seats_taken, active_enrollments FROM lms.courses WHERE id = :c_30;
SET lms.clock_override = '2026-03-02 11:00:00+00';

-- GET /enrollments/me: newest first, with course_title; ?status filter; paging
SELECT * FROM lms.api_enrollments_me(:'t_bob', NULL, '{}', NULL);
SELECT status, jsonb_path_query_array(body::jsonb, '$.items[*].course_title') AS titles, body::jsonb->'total' AS total
FROM lms.api_enrollments_me(:'t_ann', NULL, '{}', NULL);
SET lms.clock_override = '2026-04-02 00:00:00+00';
SELECT status, jsonb_path_query_array(body::jsonb, '$.items[*].course_title') AS titles, body::jsonb->'total' AS total
FROM lms.api_enrollments_me(:'t_ann', NULL, '{"status":"expired"}', NULL);
SELECT status, jsonb_path_query_array(body::jsonb, '$.items[*].course_title') AS titles, body::jsonb->'total' AS total
FROM lms.api_enrollments_me(:'t_ann', NULL, '{"status":"dropped"}', NULL);
SELECT status, jsonb_path_query_array(body::jsonb, '$.items[*].course_title') AS titles, body::jsonb - 'items' AS paging
FROM lms.api_enrollments_me(:'t_ann', NULL, '{"page":"2","limit":"1"}', NULL);
SET lms.clock_override = '2026-03-02 11:00:00+00';
SELECT * FROM lms.api_enrollments_me(:'t_cat', NULL, '{"status":"paused"}', NULL);
SELECT pg_temp.show(lms.api_enrollments_me(:'t_cat', NULL, '{"limit":"0"}', NULL));
SELECT pg_temp.show(lms.api_enrollments_me(:'t_cat', NULL, '{"limit":"101"}', NULL));
SELECT pg_temp.show(lms.api_enrollments_me(:'t_cat', NULL, '{"page":"0"}', NULL));
SELECT pg_temp.show(lms.api_enrollments_me(NULL, NULL, '{}', NULL));
SELECT * FROM lms.api_enrollments_me(:'t_admin', NULL, '{}', NULL);

-- the counters agree with the rows
SELECT c.slug, c.seats_taken, c.active_enrollments,
       (SELECT count(*) FROM lms.enrollments e WHERE e.course_id = c.id AND e.status IN ('active', 'completed')) AS holding,
       (SELECT count(*) FROM lms.enrollments e WHERE e.course_id = c.id AND e.status = 'active') AS active
FROM lms.courses c ORDER BY c.id;
-- the gateway runs the API, not the core
SELECT has_function_privilege('lms_gateway', 'lms.api_enroll(text,text,jsonb,jsonb)', 'EXECUTE') AS api_enroll,
       has_function_privilege('lms_gateway', 'lms.enroll(bigint,bigint)', 'EXECUTE') AS enroll,
       has_function_privilege('lms_gateway', 'lms.unenroll(bigint,bigint)', 'EXECUTE') AS unenroll;

\i tests/regress/setup.psql
-- Instructor analytics: how a course is doing (enrollments, completion, progress, activity,
-- points, a per-lesson funnel) and who its learners are; the same figures in lms.course_stats.
SELECT lms.create_user('root@example.org', 'admin-pass-1', 'Root Admin', 'admin') AS admin_id,
       lms.create_user('ines@example.org', 'teach-pass-1', 'Ines Instructor', 'instructor') AS ines_id,
       lms.create_user('otto@example.org', 'teach-pass-2', 'Otto Other', 'instructor') AS otto_id,
       lms.create_user('ann@example.org', 'learn-pass-1', 'Ann All-done') AS ann_id,
       lms.create_user('ben@example.org', 'learn-pass-2', 'Ben Begun') AS ben_id,
       lms.create_user('cat@example.org', 'learn-pass-3', 'Cat Quit') AS cat_id,
       lms.create_user('dan@example.org', 'learn-pass-4', 'Dan Idle') AS dan_id,
       lms.create_user('eve@example.org', 'learn-pass-5', 'Eve Expired') AS eve_id \gset
SELECT body::jsonb->>'access_token' AS admin_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"root@example.org","password":"admin-pass-1"}') \gset
SELECT body::jsonb->>'access_token' AS ines_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"ines@example.org","password":"teach-pass-1"}') \gset
SELECT body::jsonb->>'access_token' AS otto_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"otto@example.org","password":"teach-pass-2"}') \gset
SELECT body::jsonb->>'access_token' AS ann_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"ann@example.org","password":"learn-pass-1"}') \gset
SELECT body::jsonb->>'access_token' AS ben_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"ben@example.org","password":"learn-pass-2"}') \gset
SELECT body::jsonb->>'access_token' AS cat_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"cat@example.org","password":"learn-pass-3"}') \gset
SELECT body::jsonb->>'access_token' AS dan_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"dan@example.org","password":"learn-pass-4"}') \gset
SELECT body::jsonb->>'access_token' AS eve_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"eve@example.org","password":"learn-pass-5"}') \gset

-- two modules, three published text lessons and a hidden one
SELECT body::jsonb->>'id' AS course_id FROM lms.api_course_create(:'ines_tok', NULL, '{}', '{"title":"Indexes","slug":"indexes"}') \gset
SELECT body::jsonb->>'id' AS m1 FROM lms.api_module_create(:'ines_tok', :'course_id', '{}', '{"title":"B-trees"}') \gset
SELECT body::jsonb->>'id' AS m2 FROM lms.api_module_create(:'ines_tok', :'course_id', '{}', '{"title":"Others"}') \gset
SELECT body::jsonb->>'id' AS l1 FROM lms.api_lesson_create(:'ines_tok', :'m1', '{}', '{"title":"Pages","kind":"text","duration_seconds":120}') \gset
SELECT body::jsonb->>'id' AS l2 FROM lms.api_lesson_create(:'ines_tok', :'m1', '{}', '{"title":"Splits","kind":"text","duration_seconds":180}') \gset
SELECT body::jsonb->>'id' AS l3 FROM lms.api_lesson_create(:'ines_tok', :'m2', '{}', '{"title":"GIN","kind":"text","duration_seconds":300}') \gset
SELECT body::jsonb->>'id' AS l4 FROM lms.api_lesson_create(:'ines_tok', :'m2', '{}', '{"title":"Draft","kind":"text"}') \gset
SELECT status FROM lms.api_lesson_patch(:'ines_tok', :'l4', '{}', '{"is_published":false}');
SELECT status FROM lms.api_course_publish(:'ines_tok', :'course_id', '{}', NULL);
-- an empty draft course of Otto's
SELECT body::jsonb->>'id' AS empty_id FROM lms.api_course_create(:'otto_tok', NULL, '{}', '{"title":"Empty","slug":"empty"}') \gset

-- nobody enrolled yet: every figure is 0
SELECT status, jsonb_pretty(body::jsonb) FROM lms.api_course_analytics(:'ines_tok', :'course_id', '{}', NULL);

-- Ann completes everything, Ben one lesson, Cat one lesson then drops, Dan nothing,
-- Eve one lesson and her access ends (fixture: her access window is moved into the past)
SELECT status FROM lms.api_enroll(:'ann_tok', :'course_id', '{}', NULL);
SELECT status FROM lms.api_enroll(:'ben_tok', :'course_id', '{}', NULL);
SELECT status FROM lms.api_enroll(:'cat_tok', :'course_id', '{}', NULL);
SELECT status FROM lms.api_enroll(:'dan_tok', :'course_id', '{}', NULL);
SELECT status FROM lms.api_enroll(:'eve_tok', :'course_id', '{}', NULL);
SELECT count(*) FILTER (WHERE status = 200) AS writes_ok FROM (
  SELECT (lms.api_progress_record(t.tok, t.lesson, '{}', '{"watched_seconds":0,"last_position_seconds":0,"completion_percentage":100,"completed":true}')).status
    FROM (VALUES (:'ann_tok', :'l1', 1), (:'ann_tok', :'l2', 2), (:'ann_tok', :'l3', 3),
                 (:'ben_tok', :'l1', 4), (:'cat_tok', :'l2', 5), (:'eve_tok', :'l1', 6)) AS t(tok, lesson, n)
   ORDER BY t.n) w;
-- Dan opened lesson 3 without finishing it
SELECT status FROM lms.api_progress_record(:'dan_tok', :'l3', '{}', '{"watched_seconds":30,"last_position_seconds":30,"completion_percentage":10}');
SELECT status FROM lms.api_unenroll(:'cat_tok', :'course_id', '{}', NULL);
UPDATE lms.enrollments SET expires_at = '2026-03-02 09:00:00+00' WHERE user_id = :eve_id;

-- GET /courses/{id}/analytics: active 2 (Ben, Dan), completed 1 (Ann), dropped 1, expired 1;
-- completion_rate = 1 / 3; average_progress = (100 + 33.33 + 0) / 3; all five were active today;
-- points: 10 per lesson completed in the course (6) + the course bonus 100 (achievements carry no course)
SELECT status, jsonb_pretty(body::jsonb) FROM lms.api_course_analytics(:'ines_tok', :'course_id', '{}', NULL);
-- an admin sees the same
SELECT status, body = (SELECT body FROM lms.api_course_analytics(:'ines_tok', :'course_id', '{}', NULL)) AS same
  FROM lms.api_course_analytics(:'admin_tok', :'course_id', '{}', NULL);
-- eight days later nobody has been active in the last 7 days
SET lms.clock_override = '2026-03-10 10:00:00+00';
SELECT body::jsonb->>'access_token' AS ines_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"ines@example.org","password":"teach-pass-1"}') \gset
SELECT body::jsonb->>'access_token' AS admin_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"root@example.org","password":"admin-pass-1"}') \gset
SELECT body::jsonb->>'access_token' AS otto_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"otto@example.org","password":"teach-pass-2"}') \gset
SELECT body::jsonb->>'access_token' AS ben_tok FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"ben@example.org","password":"learn-pass-2"}') \gset
SELECT status, body::jsonb->'active_learners_7d' AS active_learners_7d, body::jsonb->'completion_rate' AS completion_rate
  FROM lms.api_course_analytics(:'ines_tok', :'course_id', '{}', NULL);
-- an empty course (its owner and an admin)
SELECT status, body FROM lms.api_course_analytics(:'otto_tok', :'empty_id', '{}', NULL);
-- errors: another instructor, a learner, no token, an unknown course
SELECT status, body FROM lms.api_course_analytics(:'otto_tok', :'course_id', '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_course_analytics(:'ben_tok', :'course_id', '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_course_analytics(:'ines_tok', :'empty_id', '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_course_analytics(NULL, :'course_id', '{}', NULL);
SELECT status, body FROM lms.api_course_analytics(:'admin_tok', '999', '{}', NULL);

-- GET /courses/{id}/students: every status unless filtered, in enrollment order
SELECT status, jsonb_pretty(body::jsonb) FROM lms.api_course_students(:'ines_tok', :'course_id', '{"limit":"2"}', NULL);
SELECT status, body::jsonb->'total' AS total, jsonb_path_query_array(body::jsonb, '$.items[*].display_name') AS names
  FROM lms.api_course_students(:'ines_tok', :'course_id', '{"limit":"2","page":"3"}', NULL);
SELECT s, (SELECT body::jsonb->'total' FROM lms.api_course_students(:'admin_tok', :'course_id', jsonb_build_object('status', s), NULL)) AS total,
       (SELECT jsonb_path_query_array(body::jsonb, '$.items[*].display_name') FROM lms.api_course_students(:'admin_tok', :'course_id', jsonb_build_object('status', s), NULL)) AS names
  FROM unnest(ARRAY['active', 'completed', 'dropped', 'expired']) AS s;
SELECT status, body::jsonb->'total' AS total FROM lms.api_course_students(:'otto_tok', :'empty_id', '{}', NULL);
-- errors: bad filter and paging, another instructor, a learner, no token, an unknown course
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_course_students(:'ines_tok', :'course_id', '{"status":"finished"}', NULL);
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_course_students(:'ines_tok', :'course_id', '{"limit":"0"}', NULL);
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_course_students(:'ines_tok', :'course_id', '{"limit":"ten"}', NULL);
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_course_students(:'ines_tok', :'course_id', '{"page":"-2"}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_course_students(:'otto_tok', :'course_id', '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_course_students(:'ben_tok', :'course_id', '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_course_students(NULL, :'course_id', '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_course_students(:'ines_tok', '999', '{}', NULL);

-- the analyst view: one row per course, the same definitions
SELECT * FROM lms.course_stats ORDER BY course_id;
SELECT obj_description('lms.course_stats'::regclass) IS NOT NULL AS view_documented,
       count(*) FILTER (WHERE col_description('lms.course_stats'::regclass, attnum) IS NULL) AS undocumented_columns
  FROM pg_attribute WHERE attrelid = 'lms.course_stats'::regclass AND attnum > 0;
SET ROLE lms_analyst;
SELECT course_id, completion_rate, average_progress FROM lms.course_stats ORDER BY course_id;
RESET ROLE;
-- the view spells out the shown status and the percentage inline (lms_analyst runs no function
-- of ours): it agrees with the rules' SQL face, lms.effective_status and lms.analytics_progress
SELECT s.course_id,
       (s.active_enrollments, s.completed_enrollments, s.dropped_enrollments, s.expired_enrollments)
         = (SELECT count(*) FILTER (WHERE x.st = 'active'), count(*) FILTER (WHERE x.st = 'completed'),
                   count(*) FILTER (WHERE x.st = 'dropped'), count(*) FILTER (WHERE x.st = 'expired')
              FROM (SELECT lms.effective_status(e.status, e.expires_at) AS st FROM lms.enrollments e
                     WHERE e.course_id = s.course_id) x) AS same_counts,
       s.average_progress
         = coalesce((SELECT round(avg(lms.analytics_progress(e.completed_lessons, s.lesson_count)), 2)
                       FROM lms.enrollments e
                      WHERE e.course_id = s.course_id
                        AND lms.effective_status(e.status, e.expires_at) IN ('active', 'completed')), 0) AS same_progress
  FROM lms.course_stats s ORDER BY s.course_id;

-- Rows coming and going many at a time (a bulk load, a restore's COPY) move the summaries once
-- per statement, from the statement's transition table; afterwards every summary agrees with
-- its rows (the invariants of tests/backup: every line must say 0). The bulk statements bypass
-- the courses' seat counters, which are set afterwards as a load would.
INSERT INTO lms.users (email, password_hash, display_name)
SELECT format('bulk%s@example.com', g), 'x', format('Bulk %s', g) FROM generate_series(1, 40) g;
INSERT INTO lms.enrollments (user_id, course_id, last_activity_at, last_active_hour)
SELECT u.id, :'course_id', t, lms.hour_of(t)
  FROM lms.users u, LATERAL (SELECT CASE WHEN u.id % 5 > 0 THEN timestamptz '2026-03-02 09:30+00' - (u.id % 5) * interval '1 hour' END AS t) x
 WHERE u.email LIKE 'bulk%@example.com';
INSERT INTO lms.lesson_progress (user_id, lesson_id, course_id, module_id, watched_seconds, last_position_seconds, completion_percentage)
SELECT e.user_id, l.id, l.course_id, l.module_id, 60, 60, 40
  FROM lms.enrollments e JOIN lms.users u ON u.id = e.user_id AND u.email LIKE 'bulk%@example.com'
  JOIN lms.lessons l ON l.course_id = e.course_id;
DELETE FROM lms.lesson_progress p USING lms.users u WHERE u.id = p.user_id AND u.email LIKE 'bulk%@example.com' AND p.user_id % 2 = 0;
DELETE FROM lms.enrollments e USING lms.users u
 WHERE u.id = e.user_id AND u.email LIKE 'bulk%@example.com' AND e.user_id % 3 = 0
   AND NOT EXISTS (SELECT FROM lms.lesson_progress p WHERE p.user_id = e.user_id);
UPDATE lms.courses c SET active_enrollments = x.active, seats_taken = x.seats
  FROM (SELECT e.course_id, count(*) FILTER (WHERE e.status = 'active') AS active,
               count(*) FILTER (WHERE e.status IN ('active', 'completed')) AS seats
          FROM lms.enrollments e GROUP BY 1) x
 WHERE x.course_id = c.id AND c.id = :'course_id';
\set ECHO none
\i tests/backup/invariants.sql
\set ECHO all

\i tests/regress/setup.psql
-- The gamification routes: /gamification/me, its history, the achievements catalogue, and the
-- admin routes (new achievement granted retroactively, points corrections, recompute).
CREATE FUNCTION pg_temp.r(r lms.api_response) RETURNS text LANGUAGE sql AS $$
  SELECT r.status || ' ' || coalesce(r.body::jsonb::text, '')
$$;

SELECT lms.create_user('adm@example.org', 'password-1', 'Adm', 'admin') AS adm \gset
SELECT lms.create_user('ivy@example.org', 'password-1', 'Ivy', 'instructor') AS ivy \gset
SELECT lms.create_user('ann@example.org', 'password-1', 'Ann') AS ann \gset
SELECT lms.create_user('bob@example.org', 'password-1', 'Bob') AS bob \gset
SET lms.token_ttl = '100d';
SELECT pg_temp.login('adm@example.org') AS t_adm, pg_temp.login('ann@example.org') AS t_ann,
       pg_temp.login('bob@example.org') AS t_bob, pg_temp.login('ivy@example.org') AS t_ivy \gset
INSERT INTO lms.courses (slug, title, instructor_id, is_published) VALUES ('pg', 'PostgreSQL', :ivy, true)
RETURNING id AS c \gset
INSERT INTO lms.modules (course_id, title, position) VALUES (:c, 'Basics', 1) RETURNING id AS m \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, points) VALUES (:m, :c, 'Read', 'text', 1, 40)
RETURNING id AS l1 \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, points) VALUES (:m, :c, 'More', 'text', 2, 40)
RETURNING id AS l2 \gset
SELECT (lms.enroll(:ann, :c)).result, (lms.enroll(:bob, :c)).result;
SET lms.leaderboard_refresh_interval = 0;

-- a learner who has done nothing yet
SELECT pg_temp.r(lms.api_gamification_me(:'t_bob', NULL, '{}', NULL));
-- Ann completes the course through the progress route: 40 + 10 (first_lesson) + 40 + 100 + 50 (first_course)
SELECT status, (body::jsonb)->'points_awarded' AS awarded, (body::jsonb)->'new_achievements' AS new
  FROM lms.api_progress_record(:'t_ann', :'l1', '{}', '{"watched_seconds":0,"last_position_seconds":0,"completion_percentage":0,"completed":true}');
SET lms.clock_override = '2026-03-03 10:00:00+00';
SELECT status, (body::jsonb)->'points_awarded' AS awarded, (body::jsonb)->'total_points' AS total,
       (body::jsonb)->'level' AS level, (body::jsonb)->'streak' AS streak, (body::jsonb)->'new_achievements' AS new
  FROM lms.api_progress_record(:'t_ann', :'l2', '{}', '{"watched_seconds":0,"last_position_seconds":0,"completion_percentage":0,"completed":true}');
SELECT pg_temp.r(lms.api_gamification_me(:'t_ann', NULL, '{}', NULL));
SELECT pg_temp.r(lms.api_gamification_me(NULL, NULL, '{}', NULL));
SELECT pg_temp.r(lms.api_gamification_me('nope', NULL, '{}', NULL));

-- history: newest first, paged
SELECT pg_temp.r(lms.api_gamification_history(:'t_ann', NULL, '{}', NULL));
SELECT pg_temp.r(lms.api_gamification_history(:'t_ann', NULL, '{"page":"2","limit":"2"}', NULL));
SELECT pg_temp.r(lms.api_gamification_history(:'t_bob', NULL, '{}', NULL));
SELECT pg_temp.r(lms.api_gamification_history(:'t_ann', NULL, '{"limit":"0"}', NULL));
SELECT pg_temp.r(lms.api_gamification_history(:'t_ann', NULL, '{"page":"0"}', NULL));
SELECT pg_temp.r(lms.api_gamification_history(NULL, NULL, '{}', NULL));

-- the catalogue, to anyone
SELECT pg_temp.r(lms.api_achievements_list(NULL, NULL, '{}', NULL));

-- POST /admin/achievements: granted at once to Ann who already completed 2 lessons, with its
-- points (and those 30 points push her over nothing yet)
SELECT pg_temp.r(lms.api_admin_achievement_create(:'t_adm', NULL, '{}',
  '{"code":"two_lessons","title":"Two down","description":"Complete two lessons.","points":30,"criteria":{"kind":"lessons_completed","threshold":2}}'));
SELECT a.code, u.display_name FROM lms.user_achievements ua JOIN lms.achievements a ON a.id = ua.achievement_id
  JOIN lms.users u ON u.id = ua.user_id WHERE a.code = 'two_lessons';
-- a points_total achievement that Ann reaches only with the points of another new one: the
-- grant goes on to a fixed point
SELECT pg_temp.r(lms.api_admin_achievement_create(:'t_adm', NULL, '{}',
  '{"code":"three_hundred","title":"300 club","points":0,"criteria":{"kind":"points_total","threshold":300}}'));
SELECT pg_temp.r(lms.api_admin_achievement_create(:'t_adm', NULL, '{}',
  '{"code":"graduate_bonus","title":"Graduate bonus","points":60,"criteria":{"kind":"courses_completed","threshold":1}}'));
SELECT a.code, ua.user_id = :ann AS ann FROM lms.user_achievements ua JOIN lms.achievements a ON a.id = ua.achievement_id
 ORDER BY a.id;
SELECT total_points, level FROM lms.learner_scores WHERE user_id = :ann;
-- 409, 400s, 403, 401
SELECT pg_temp.r(lms.api_admin_achievement_create(:'t_adm', NULL, '{}',
  '{"code":"two_lessons","title":"Again","points":1,"criteria":{"kind":"lessons_completed","threshold":2}}'));
SELECT pg_temp.r(lms.api_admin_achievement_create(:'t_adm', NULL, '{}',
  '{"code":"Bad Code","title":"","points":-1,"criteria":{"kind":"logins","threshold":0}}'));
SELECT pg_temp.r(lms.api_admin_achievement_create(:'t_adm', NULL, '{}',
  '{"code":"x","title":"X","points":1.5,"criteria":[1]}'));
SELECT pg_temp.r(lms.api_admin_achievement_create(:'t_adm', NULL, '{}', '[1,2]'));
SELECT pg_temp.r(lms.api_admin_achievement_create(:'t_adm', NULL, '{}', NULL));
SELECT pg_temp.r(lms.api_admin_achievement_create(:'t_ivy', NULL, '{}',
  '{"code":"x","title":"X","points":1,"criteria":{"kind":"quiz_perfect","threshold":1}}'));
SELECT pg_temp.r(lms.api_admin_achievement_create(NULL, NULL, '{}', '{}'));

-- POST /admin/points: a correction with a course, then a gift; totals, level and boards follow
SELECT pg_temp.r(lms.api_admin_points(:'t_adm', NULL, '{}',
  format('{"user_id":%s,"points":-100,"reason":"Duplicate lesson credit","course_id":%s}', :ann, :c)::jsonb));
SELECT pg_temp.r(lms.api_admin_points(:'t_adm', NULL, '{}',
  format('{"user_id":%s,"points":25,"reason":"Helped in the forum"}', :bob)::jsonb));
SELECT total_points, level FROM lms.learner_scores WHERE user_id = :ann;
SELECT * FROM lms.leaderboard('course:' || :c);
SELECT * FROM lms.leaderboard('global');
SELECT pg_temp.r(lms.api_admin_points(:'t_adm', NULL, '{}', '{"user_id":0,"points":0,"reason":"","course_id":"x"}'));
SELECT pg_temp.r(lms.api_admin_points(:'t_adm', NULL, '{}', '{"user_id":999999,"points":5,"reason":"x"}'));
SELECT pg_temp.r(lms.api_admin_points(:'t_adm', NULL, '{}',
  format('{"user_id":%s,"points":5,"reason":"x","course_id":999999}', :bob)::jsonb));
SELECT pg_temp.r(lms.api_admin_points(:'t_adm', NULL, '{}',
  format('{"user_id":%s,"points":5000000,"reason":"x"}', :bob)::jsonb));
SELECT pg_temp.r(lms.api_admin_points(:'t_adm', NULL, '{}', '"text"'));
SELECT pg_temp.r(lms.api_admin_points(:'t_ann', NULL, '{}', format('{"user_id":%s,"points":5,"reason":"me"}', :ann)::jsonb));
SELECT pg_temp.r(lms.api_admin_points(NULL, NULL, '{}', '{}'));

-- POST /admin/gamification/recompute: nothing disagrees
SELECT status, (body::jsonb) - 'took_ms' AS body, (body::jsonb) ? 'took_ms' AS has_took_ms
  FROM lms.api_admin_recompute(:'t_adm', NULL, '{}', NULL);
SELECT pg_temp.r(lms.api_admin_recompute(:'t_ann', NULL, '{}', NULL));
SELECT pg_temp.r(lms.api_admin_recompute(NULL, NULL, '{}', NULL));

-- every admin mutation wrote one audit row
SELECT action, entity, entity_id IS NOT NULL AS has_entity FROM lms.audit_log ORDER BY id;

-- GET /gamification/me once more, the raw body as the gateway sends it (jsonb's own layout,
-- byte for byte): Ann after the corrections, then under a DateStyle that must not reach her
-- last activity date; Ivy, who never scored (no scores row: zeros, level 1, on no board)
SELECT status, body FROM lms.api_gamification_me(:'t_ann', NULL, '{}', NULL);
SELECT body = body::jsonb::text AS jsonb_layout FROM lms.api_gamification_me(:'t_ann', NULL, '{}', NULL);
SET datestyle = 'SQL, DMY';
SELECT (body::jsonb)->'last_activity_date' AS day FROM lms.api_gamification_me(:'t_ann', NULL, '{}', NULL);
RESET datestyle;
SELECT EXISTS (SELECT FROM lms.learner_scores WHERE user_id = :ivy) AS ivy_has_scores;
SELECT status, body FROM lms.api_gamification_me(:'t_ivy', NULL, '{}', NULL);
-- an expired token, then a suspended learner
SET lms.clock_override = '2027-03-02 10:00:00+00';
SELECT pg_temp.r(lms.api_gamification_me(:'t_ann', NULL, '{}', NULL));
SET lms.clock_override = '2026-03-03 10:00:00+00';
UPDATE lms.users SET status = 'suspended' WHERE id = :bob;
SELECT pg_temp.r(lms.api_gamification_me(:'t_bob', NULL, '{}', NULL));

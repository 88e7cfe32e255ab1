\i tests/regress/setup.psql
SET lms.token_ttl = '100d';
SET lms.leaderboard_refresh_interval = 0;
-- Point rules: the defaults, an admin's rules for every course and per course (validated,
-- audit-logged), new events earning the rules in force, lessons with their own points, and the
-- explicit recalculation: past events re-scored through the ledger (corrections, never
-- rewriting), totals, levels, course totals, achievements and boards following, week boards and
-- league weeks left alone, recompute still finding nothing, a second run correcting nothing.
CREATE FUNCTION pg_temp.uid(email text) RETURNS bigint LANGUAGE sql AS $$
  SELECT id FROM lms.users WHERE users.email = uid.email
$$;
CREATE FUNCTION pg_temp.standing(email text) RETURNS text LANGUAGE sql AS $$
  SELECT format('total=%s level=%s', s.total_points, s.level) FROM lms.learner_scores s WHERE s.user_id = pg_temp.uid(email)
$$;
CREATE FUNCTION pg_temp.rules() RETURNS text LANGUAGE sql AS $$
  SELECT (SELECT string_agg(format('%s=%s', r->>'rule', r->>'points'), ' ') FROM jsonb_array_elements(d->'rules') r)
         || ' overrides=' || (SELECT coalesce(string_agg(format('%s:%s=%s', o->>'course_id', o->>'rule', o->>'points'), ' '), '-')
                                FROM jsonb_array_elements(d->'course_overrides') o)
    FROM (SELECT lms.point_rules_json() AS d) x
$$;

SELECT lms.create_user('adm@example.org', 'password-1', 'Adm', 'admin') AS adm \gset
SELECT lms.create_user('ivy@example.org', 'password-1', 'Ivy', 'instructor') AS ivy \gset
SELECT lms.create_user('ann@example.org', 'password-1', 'Ann') AS ann \gset
SELECT lms.create_user('bob@example.org', 'password-1', 'Bob') AS bob \gset
SELECT pg_temp.login('adm@example.org') AS t_adm, pg_temp.login('ivy@example.org') AS t_ivy,
       pg_temp.login('ann@example.org') AS t_ann \gset

-- the rules in force: the defaults until an admin sets any
SELECT rule, points, min, per_course FROM lms.point_rules_list() ORDER BY rule;
SELECT pg_temp.rules();
SELECT status FROM lms.api_admin_point_rules_get(:'t_ann', NULL, '{}', NULL);
SELECT status, body::jsonb->'rules'->0 AS first FROM lms.api_admin_point_rules_get(:'t_adm', NULL, '{}', NULL);

-- a course: a video lesson that follows its kind's rule (no points of its own), a text lesson
-- worth 25 of its own, a quiz lesson
SELECT (lms.api_course_create(:'t_ivy', NULL, '{}', '{"title": "Rules", "slug": "rules"}')).body::jsonb->>'id' AS c \gset
SELECT (lms.api_course_create(:'t_ivy', NULL, '{}', '{"title": "Other", "slug": "other"}')).body::jsonb->>'id' AS c2 \gset
SELECT (lms.api_module_create(:'t_ivy', :'c', '{}', '{"title": "M"}')).body::jsonb->>'id' AS m \gset
SELECT (lms.api_module_create(:'t_ivy', :'c2', '{}', '{"title": "M"}')).body::jsonb->>'id' AS m2 \gset
SELECT r.body::jsonb->>'id' AS video, r.body::jsonb->'points' AS points, r.body::jsonb->>'points_source' AS source
  FROM lms.api_lesson_create(:'t_ivy', :'m', '{}', '{"title": "Watch", "kind": "video", "duration_seconds": 100}') r \gset
SELECT :'points' AS video_points, :'source' AS video_source;
SELECT r.body::jsonb->>'id' AS text_lesson, r.body::jsonb->'points' AS points, r.body::jsonb->>'points_source' AS source
  FROM lms.api_lesson_create(:'t_ivy', :'m', '{}', '{"title": "Read", "kind": "text", "points": 25}') r \gset
SELECT :'points' AS text_points, :'source' AS text_source;
SELECT (lms.api_lesson_create(:'t_ivy', :'m2', '{}', '{"title": "Watch too", "kind": "video", "duration_seconds": 100}')).body::jsonb->>'id' AS video2 \gset
SELECT pg_temp.brief(lms.api_lesson_create(:'t_ivy', :'m', '{}', '{"title": "Bad", "kind": "text", "points": -1}'));
SELECT status FROM lms.api_course_publish(:'t_ivy', :'c', '{}', NULL);
SELECT status FROM lms.api_course_publish(:'t_ivy', :'c2', '{}', NULL);
SELECT lms.enroll(:ann, :c) IS NOT NULL, lms.enroll(:bob, :c) IS NOT NULL, lms.enroll(:ann, :c2) IS NOT NULL;

-- Ann finishes the video under the default rule (10); Bob nothing yet
SELECT r->'points_awarded' AS awarded FROM lms.record_progress(:ann, :video, 100, 100, 100) r;
SELECT pg_temp.standing('ann@example.org');

-- the admin's rules: refused field by field when they do not make sense
SELECT r.status, e->>'field' AS field, e->>'message' AS message
  FROM lms.api_admin_point_rules_put(:'t_adm', NULL, '{}', jsonb_build_object(
         'rules', '{"lesson_video": 15, "quiz_perfect": 0, "bonus": 5, "streak_bonus": "many"}'::jsonb,
         'course_overrides', jsonb_build_array(
           jsonb_build_object('course_id', :c, 'rule', 'streak_bonus', 'points', 5),
           jsonb_build_object('course_id', 999999, 'rule', 'quiz_passed', 'points', 5),
           jsonb_build_object('course_id', :c, 'rule', 'course_completed', 'points', 200000),
           jsonb_build_object('course_id', :c, 'rule', 'quiz_passed', 'points', 5),
           jsonb_build_object('course_id', :c, 'rule', 'quiz_passed', 'points', 6)))) r,
  jsonb_array_elements(r.body::jsonb->'errors') e;
SELECT status FROM lms.api_admin_point_rules_put(:'t_ivy', NULL, '{}', '{"rules": {}}');
SELECT pg_temp.brief(lms.api_admin_point_rules_put(:'t_adm', NULL, '{}', '[]'));
SELECT pg_temp.err('INSERT INTO lms.point_rules (rule, points) VALUES (''quiz_perfect'', 0)');
-- video lessons 15, quiz pass 30 everywhere; the course "Rules" gives 200 for its completion
SELECT status FROM lms.api_admin_point_rules_put(:'t_adm', NULL, '{}', jsonb_build_object(
  'rules', '{"lesson_video": 15, "quiz_passed": 30}'::jsonb,
  'course_overrides', jsonb_build_array(jsonb_build_object('course_id', :c, 'rule', 'course_completed', 'points', 200))));
SELECT pg_temp.rules();
SELECT action, data->'after'->'course_overrides'->0->>'points' AS override FROM lms.audit_log WHERE action = 'gamification.rules.update';
SELECT lms.point_rule('course_completed', :c) AS rules_course, lms.point_rule('course_completed', :c2) AS other_course,
       lms.point_rule('course_completed') AS every_course, lms.point_rule('lesson_video', :c) AS video;
SELECT pg_temp.err('SELECT lms.point_rule(''bonus'')');

-- a rule applies to new events at once: Bob's video earns 15; the lesson reads 15 from its rule
SELECT r->'points_awarded' AS awarded FROM lms.record_progress(:bob, :video, 100, 100, 100) r;
SELECT body::jsonb->'points' AS points, body::jsonb->>'points_source' AS source FROM lms.api_lesson_get(:'t_ivy', :'video', '{}', NULL);
-- a lesson with its own points keeps them; set to null it follows its kind's rule
SELECT body::jsonb->'points' AS points FROM lms.api_lesson_patch(:'t_ivy', :'text_lesson', '{}', '{"points": 40}');
SELECT body::jsonb->'points' AS points, body::jsonb->>'points_source' AS source FROM lms.api_lesson_patch(:'t_ivy', :'text_lesson', '{}', '{"points": null}');
SELECT body::jsonb->'points' AS points FROM lms.api_lesson_patch(:'t_ivy', :'text_lesson', '{}', '{"points": 25}');
-- Ann finishes the text lesson (25) and so the course: the course's own completion value, 200
SELECT r->'points_awarded' AS awarded, r->'course'->>'status' AS course FROM lms.api_progress_record(:'t_ann', :'text_lesson', '{}', '{"watched_seconds": 0, "last_position_seconds": 0, "completion_percentage": 100, "completed": true}') x,
       LATERAL (SELECT x.body::jsonb AS r) y;
SELECT reason, points FROM lms.points_ledger WHERE user_id = :ann ORDER BY id;
SELECT pg_temp.standing('ann@example.org');

-- the recalculation: Ann's video was scored 10 under the old rule; it now earns 15: one
-- correction row (+5, reason recalculation, keyed by the run and the award), nothing rewritten
SET lms.clock_override = '2026-03-03 10:00:00+00';
SELECT run, events, corrections, learners, points FROM lms.recalculate_points();
SELECT l.points, l.reason, l.source_key, l.course_id, l.source_id, l.note FROM lms.points_ledger l
 WHERE l.reason = 'recalculation' ORDER BY l.id;
SELECT points AS anns_award_as_made FROM lms.points_ledger WHERE source_key = lms.source_key('lesson', :ann, :'video');
SELECT pg_temp.standing('ann@example.org');
SELECT * FROM lms.recompute_gamification();
-- the all-time boards follow; the week board and the league week count what was earned in the week
SELECT display_name, points FROM lms.leaderboard('global', 'all') ORDER BY rank, display_name;
SELECT display_name, points FROM lms.leaderboard('course:' || :c, 'all') ORDER BY rank, display_name;
SELECT display_name, points FROM lms.leaderboard('global', 'week') ORDER BY rank, display_name;
SELECT u.display_name, m.points FROM lms.league_members m JOIN lms.users u ON u.id = m.user_id ORDER BY 1;
-- exactly once: a second run finds nothing to correct
SELECT run, events, corrections, learners, points FROM lms.recalculate_points();

-- a rule lowered: the next run corrects downwards; a rule raised far: achievements follow
SELECT status FROM lms.api_admin_point_rules_put(:'t_adm', NULL, '{}', '{"rules": {"lesson_video": 1000}}');
SELECT pg_temp.brief(lms.api_admin_recalculate(:'t_adm', NULL, '{}', '{"course_id": 999999}'));
SELECT pg_temp.brief(lms.api_admin_recalculate(:'t_adm', NULL, '{}', '{"course_id": "x"}'));
SELECT status FROM lms.api_admin_recalculate(:'t_ann', NULL, '{}', NULL);
SELECT (body::jsonb - 'took_ms' - 'run') AS answer FROM lms.api_admin_recalculate(:'t_adm', NULL, '{}', NULL);
SELECT pg_temp.standing('ann@example.org'), pg_temp.standing('bob@example.org');
SELECT u.display_name, a.code FROM lms.user_achievements ua JOIN lms.achievements a ON a.id = ua.achievement_id
  JOIN lms.users u ON u.id = ua.user_id WHERE a.code = 'points_1000' ORDER BY 1;
-- the overrides went too (PUT sets the rules exactly): the course's completion back to 100
SELECT pg_temp.rules();
SELECT (body::jsonb - 'took_ms' - 'run') AS answer FROM lms.api_admin_recalculate(:'t_adm', NULL, '{}', jsonb_build_object('course_id', :c));
SELECT l.points, l.source_key FROM lms.points_ledger l WHERE l.reason = 'recalculation' ORDER BY l.id;
SELECT * FROM lms.recompute_gamification();
SELECT action, data->>'corrections' AS corrections FROM lms.audit_log WHERE action = 'gamification.recalculate' ORDER BY id;
SELECT id, course_id, events, corrections, learners, points, rules->'rules'->1->>'points' AS lesson_video
  FROM lms.point_recalculations ORDER BY id;
-- history shows the corrections as they were made
SELECT i->>'reason' AS reason, i->'points' AS points FROM lms.api_gamification_history(:'t_ann', NULL, '{}', NULL) r,
       jsonb_array_elements(r.body::jsonb->'items') i;

\i tests/regress/setup.psql
SET lms.token_ttl = '100d';
-- Custom events: points for events from elsewhere (forum posts, live sessions ...) under any
-- reason that is not a built-in one, once per learner and source key, through lms.award_points
-- and POST /admin/points; achievements that count a custom reason (reason_count), granted to
-- those who already qualify and then as events arrive; recompute keeps the counts.
CREATE FUNCTION pg_temp.event(who bigint, reason text, key text, pts int DEFAULT 5) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(lms.award_points(who, pts, reason, key)::text, 'NULL (already awarded)')
$$;
CREATE FUNCTION pg_temp.codes(who bigint) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(a.code, ' ' ORDER BY a.code), '-') FROM lms.user_achievements ua
    JOIN lms.achievements a ON a.id = ua.achievement_id WHERE ua.user_id = who
$$;

SELECT lms.create_user('adm@example.org', 'password-1', 'Adm', 'admin') AS adm \gset
SELECT lms.create_user('ann@example.org', 'password-1', 'Ann') AS ann \gset
SELECT lms.create_user('bob@example.org', 'password-1', 'Bob') AS bob \gset
SELECT pg_temp.login('adm@example.org') AS t_adm, pg_temp.login('ann@example.org') AS t_ann \gset

-- the reasons: built-in ones, custom ones ([a-z][a-z0-9_]{0,63}, not built in)
SELECT r, lms.reason_is_valid(r) AS valid, lms.reason_is_custom(r) AS custom
  FROM unnest(ARRAY['forum_post', 'live_session_2', 'quiz_passed', 'recalculation', 'admin_correction',
                    'Forum', '2fast', 'a', repeat('x', 64), repeat('x', 65), 'peer-review', '']) r;

-- a forum post: awarded once per learner and source key, whatever the sender retries
SELECT pg_temp.event(:ann, 'forum_post', 'post-1') IS NOT NULL AS first;
SELECT pg_temp.event(:ann, 'forum_post', 'post-1') AS again;
SELECT pg_temp.event(:ann, 'peer_review', 'post-1') AS other_reason_same_key;
SELECT pg_temp.event(:bob, 'forum_post', 'post-1') IS NOT NULL AS another_learner;
SELECT user_id = :ann AS ann, points, reason, source_key ~ '^event:[0-9]+:post-1$' AS learner_key FROM lms.points_ledger ORDER BY id;
SELECT total_points FROM lms.learner_scores WHERE user_id = :ann;
-- a custom event cannot take a built-in award's key, nor be a reason that is not one
SELECT pg_temp.event(:ann, 'forum_post', 'lesson:' || :ann || ':1') IS NOT NULL AS namespaced;
SELECT count(*) AS lesson_keys_taken FROM lms.points_ledger WHERE source_key LIKE 'lesson:%';
SELECT pg_temp.err(format('SELECT lms.award_points(%s, 5, %L, %L)', :ann, 'Forum Post', 'k'));
SELECT pg_temp.err(format('SELECT lms.award_points(%s, 5, %L, %L)', :ann, 'forum_post', repeat('k', 161)));
SELECT pg_temp.err(format('SELECT lms.award_points(%s, 5, %L, %L)', :ann, 'forum_post', ''));
SELECT pg_temp.event(:ann, 'forum_post', repeat('k', 160)) IS NOT NULL AS longest_key;
-- a custom event is not the learner's own activity: no streak day
SELECT current_streak, last_activity_date FROM lms.learner_scores WHERE user_id = :ann;

-- POST /admin/points: with a source_key, a custom event, once (the same event again: 200 and
-- the same entry); without one, an admin correction as in 1.0
SELECT status, (body::jsonb - 'id' - 'created_at') AS entry FROM lms.api_admin_points(:'t_adm', NULL, '{}',
  jsonb_build_object('user_id', :bob, 'points', 30, 'reason', 'live_session', 'source_key', 'session-42', 'note', 'Live Q&A'));
SELECT (body::jsonb->>'id') AS first_id FROM lms.api_admin_points(:'t_adm', NULL, '{}',
  jsonb_build_object('user_id', :bob, 'points', 30, 'reason', 'live_session', 'source_key', 'session-43')) \gset
SELECT status, body::jsonb->>'id' = :'first_id' AS same_entry FROM lms.api_admin_points(:'t_adm', NULL, '{}',
  jsonb_build_object('user_id', :bob, 'points', 30, 'reason', 'live_session', 'source_key', 'session-43'));
SELECT status, body::jsonb->>'reason' AS reason, body::jsonb->>'note' AS note FROM lms.api_admin_points(:'t_adm', NULL, '{}',
  jsonb_build_object('user_id', :bob, 'points', 3, 'reason', 'a thank-you'));
SELECT r.status, e->>'field' AS field, e->>'message' AS message FROM lms.api_admin_points(:'t_adm', NULL, '{}',
  jsonb_build_object('user_id', :bob, 'points', 3, 'reason', 'quiz_passed', 'source_key', repeat('k', 161), 'note', 7)) r,
  jsonb_array_elements(r.body::jsonb->'errors') e;
SELECT status FROM lms.api_admin_points(:'t_ann', NULL, '{}', jsonb_build_object('user_id', :bob, 'points', 3, 'reason', 'x', 'source_key', 'k'));
SELECT action, data->>'source_key' AS source_key FROM lms.audit_log WHERE action LIKE 'points.%' ORDER BY id;

-- achievements counting a custom reason: granted at once to those who qualify, then as events come
SELECT status, body::jsonb->'criteria' AS criteria, body::jsonb->'granted' AS granted
  FROM lms.api_admin_achievement_create(:'t_adm', NULL, '{}',
       '{"code": "regular", "title": "Regular", "points": 15, "criteria": {"kind": "reason_count", "reason": "forum_post", "threshold": 3}}');
SELECT pg_temp.codes(:ann) AS ann, pg_temp.codes(:bob) AS bob;
SELECT pg_temp.event(:bob, 'forum_post', 'post-2') IS NOT NULL, pg_temp.event(:bob, 'forum_post', 'post-3') IS NOT NULL;
SELECT pg_temp.codes(:bob) AS bob;
SELECT reason, events FROM lms.learner_reason_counts WHERE user_id = :bob ORDER BY reason;
SELECT r.status, e->>'field' AS field, e->>'message' AS message FROM lms.api_admin_achievement_create(:'t_adm', NULL, '{}',
  '{"code": "bad", "title": "Bad", "criteria": {"kind": "reason_count", "reason": "quiz_passed", "threshold": 1}}') r,
  jsonb_array_elements(r.body::jsonb->'errors') e;
SELECT r.status, e->>'field' AS field, e->>'message' AS message FROM lms.api_admin_achievement_create(:'t_adm', NULL, '{}',
  '{"code": "bad2", "title": "Bad", "criteria": {"kind": "points_total", "reason": "forum_post", "threshold": 1}}') r,
  jsonb_array_elements(r.body::jsonb->'errors') e;
SELECT a->'criteria' AS criteria FROM lms.api_achievements_list(NULL, NULL, '{}', NULL) r,
       jsonb_array_elements(r.body::jsonb->'items') a WHERE a->>'code' IN ('regular', 'first_lesson');

-- recompute rebuilds the counts from the ledger: a count gone wrong is one difference, fixed
SELECT * FROM lms.recompute_gamification();
UPDATE lms.learner_reason_counts SET events = 1 WHERE user_id = :bob AND reason = 'forum_post';
SELECT * FROM lms.recompute_gamification();
SELECT events FROM lms.learner_reason_counts WHERE user_id = :bob AND reason = 'forum_post';
SELECT * FROM lms.recompute_gamification();
-- a custom event's points count for the learner's league week
SELECT u.display_name, m.points FROM lms.league_members m JOIN lms.users u ON u.id = m.user_id ORDER BY 1;

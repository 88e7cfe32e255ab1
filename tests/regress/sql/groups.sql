\i tests/regress/setup.psql
SET lms.token_ttl = '100d';
SET lms.clock_override = '2026-03-04 10:00:00+00';
-- reads refresh a changed board on demand (no worker in the tests)
SET lms.leaderboard_refresh_interval = 0;
-- Groups and group ladders: who makes and manages groups, members in several groups, the
-- ladder by average and by total with competition ranks, freshness with the global board,
-- hidden learners, membership changes, windows, around=me.
CREATE FUNCTION pg_temp.uid(email text) RETURNS bigint LANGUAGE sql AS $$
  SELECT id FROM lms.users WHERE users.email = uid.email
$$;
CREATE FUNCTION pg_temp.give(email text, pts int, key text) RETURNS boolean LANGUAGE sql AS $$
  SELECT lms.award_points(pg_temp.uid(email), pts, 'quiz_passed', key) IS NOT NULL
$$;
-- a ladder answer on one line: window, rank_by, total, [rank:name:members:points:average], me
CREATE FUNCTION pg_temp.ladder(token text, query jsonb DEFAULT '{}') RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN r.status <> 200 THEN r.status || ' ' || (r.body::jsonb->>'code') || ' ' || coalesce(r.body::jsonb->>'errors', '') ELSE
    format('%s/%s period=%s total=%s [%s] me=%s', d->>'window', d->>'rank_by', d->>'period_start', d->'total',
           (SELECT string_agg(format('%s:%s:%s:%s:%s', i->>'rank', i->>'name', i->>'members', i->>'points', i->>'average'), ' ')
              FROM jsonb_array_elements(d->'items') i),
           CASE WHEN jsonb_typeof(d->'me') = 'array' THEN (SELECT string_agg(format('%s:%s', i->>'rank', i->>'name'), ' ') FROM jsonb_array_elements(d->'me') i) ELSE 'null' END) END
  FROM lms.api_leaderboard_groups(token, NULL, query, NULL) r, LATERAL (SELECT r.body::jsonb AS d) x
$$;

SELECT lms.create_user('adm@example.org', 'password-1', 'Adm', 'admin') AS adm \gset
SELECT lms.create_user('ivy@example.org', 'password-1', 'Ivy', 'instructor') AS ivy \gset
SELECT lms.create_user('joe@example.org', 'password-1', 'Joe', 'instructor') AS joe \gset
DO $$
DECLARE
  n text;
BEGIN
  FOREACH n IN ARRAY ARRAY['ann', 'bob', 'cat', 'dan', 'eve', 'fay'] LOOP
    PERFORM lms.create_user(n || '@example.org', 'password-1', initcap(n));
  END LOOP;
END $$;
SELECT pg_temp.login('adm@example.org') AS t_adm, pg_temp.login('ivy@example.org') AS t_ivy,
       pg_temp.login('joe@example.org') AS t_joe, pg_temp.login('ann@example.org') AS t_ann,
       pg_temp.login('dan@example.org') AS t_dan, pg_temp.login('fay@example.org') AS t_fay \gset

-- instructors and admins make groups; learners do not; fields are checked
SELECT status, body::jsonb->>'name' AS name, body::jsonb->'member_count' AS members, body::jsonb->'owner'->>'display_name' AS owner
  FROM lms.api_group_create(:'t_ivy', NULL, '{}', '{"name": " Section A ", "description": "Mondays"}');
SELECT r.body::jsonb->'items'->0->>'id' AS g_a FROM lms.api_groups_list(:'t_ivy', NULL, '{}', NULL) r \gset
SELECT status, body::jsonb->>'id' AS g_b FROM lms.api_group_create(:'t_ivy', NULL, '{}', '{"name": "Section B"}') \gset
SELECT status, body::jsonb->>'id' AS g_c FROM lms.api_group_create(:'t_joe', NULL, '{}', '{"name": "Joe''s team"}') \gset
SELECT status, body::jsonb->>'code' AS code FROM lms.api_group_create(:'t_ann', NULL, '{}', '{"name": "Mine"}');
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_group_create(:'t_ivy', NULL, '{}', '{"name": "", "description": 5}');
SELECT status FROM lms.api_group_create(NULL, NULL, '{}', '{"name": "x"}');

-- members: a learner may be in several groups; unknown users are refused; only the owner
-- (or an admin) changes a group
SELECT status, body FROM lms.api_group_members_add(:'t_ivy', :'g_a', '{}',
  jsonb_build_object('user_ids', jsonb_build_array(pg_temp.uid('ann@example.org'), pg_temp.uid('bob@example.org'), pg_temp.uid('cat@example.org'), pg_temp.uid('ann@example.org'))));
SELECT status, body FROM lms.api_group_members_add(:'t_ivy', :'g_b', '{}',
  jsonb_build_object('user_ids', jsonb_build_array(pg_temp.uid('dan@example.org'), pg_temp.uid('eve@example.org'))));
SELECT status, body FROM lms.api_group_members_add(:'t_adm', :'g_c', '{}',
  jsonb_build_object('user_ids', jsonb_build_array(pg_temp.uid('ann@example.org'))));
SELECT status, body::jsonb->'errors'->0->>'message' AS message FROM lms.api_group_members_add(:'t_ivy', :'g_a', '{}', '{"user_ids": [999999, 888888]}');
SELECT status, body::jsonb->'errors'->0->>'message' AS message FROM lms.api_group_members_add(:'t_ivy', :'g_a', '{}', '{"user_ids": ["x"]}');
SELECT status FROM lms.api_group_members_add(:'t_joe', :'g_a', '{}', '{"user_ids": []}');
SELECT status FROM lms.api_group_members_add(:'t_ivy', '999999', '{}', '{"user_ids": []}');

-- who sees what: an admin every group, an instructor their own, a learner the groups she is in
SELECT 'adm' AS who, body::jsonb->'total' AS total FROM lms.api_groups_list(:'t_adm', NULL, '{}', NULL)
UNION ALL SELECT 'ivy', body::jsonb->'total' FROM lms.api_groups_list(:'t_ivy', NULL, '{}', NULL)
UNION ALL SELECT 'ann', body::jsonb->'total' FROM lms.api_groups_list(:'t_ann', NULL, '{}', NULL)
UNION ALL SELECT 'fay', body::jsonb->'total' FROM lms.api_groups_list(:'t_fay', NULL, '{}', NULL);
SELECT status, body::jsonb->'member_count' AS members FROM lms.api_group_get(:'t_ann', :'g_a', '{}', NULL);
SELECT status FROM lms.api_group_get(:'t_fay', :'g_a', '{}', NULL);
SELECT status, (SELECT string_agg(i->>'display_name', ' ') FROM jsonb_array_elements(body::jsonb->'items') i) AS members
  FROM lms.api_group_members(:'t_ivy', :'g_a', '{}', NULL);
SELECT status FROM lms.api_group_members(:'t_ann', :'g_a', '{}', NULL);

-- points: Ann 100, Bob 50, Cat nothing; Dan 90, Eve 60; Fay 500 is in no group
SELECT pg_temp.give('ann@example.org', 100, 'a'), pg_temp.give('bob@example.org', 50, 'b'),
       pg_temp.give('dan@example.org', 90, 'd'), pg_temp.give('eve@example.org', 60, 'e'),
       pg_temp.give('fay@example.org', 500, 'f');
-- by average (the default): B 75.00 per member beats A 150 / 3 = 50.00; Joe's team 100
SELECT pg_temp.ladder(NULL);
-- by total: A and B share rank 1 at 150 (reached at the same time: the lower id first)
SELECT pg_temp.ladder(NULL, '{"rank_by": "total"}');
SELECT pg_temp.ladder(NULL, '{"rank_by": "total", "limit": "1", "offset": "2"}');
-- with a token, me lists the caller's groups; around=me makes them the items
SELECT pg_temp.ladder(:'t_ann');
SELECT pg_temp.ladder(:'t_ann', '{"around": "me"}');
SELECT pg_temp.ladder(:'t_fay', '{"around": "me"}');
SELECT pg_temp.ladder(NULL, '{"around": "me"}');
SELECT pg_temp.ladder(NULL, '{"window": "year", "rank_by": "best", "limit": "0", "offset": "-1", "around": "you"}');

-- the ladder follows the global board: a new award shows after the board's refresh (here on
-- the read); a learner who hides from boards takes her points off her groups
SELECT pg_temp.give('cat@example.org', 60, 'c');
SELECT pg_temp.ladder(NULL);
UPDATE lms.users SET leaderboard_visible = false WHERE email = 'bob@example.org';
SELECT pg_temp.ladder(NULL);
UPDATE lms.users SET leaderboard_visible = true WHERE email = 'bob@example.org';

-- PUT sets the members: Cat leaves A, Fay joins; her 500 points come with her
SELECT status, body FROM lms.api_group_members_set(:'t_ivy', :'g_a', '{}',
  jsonb_build_object('user_ids', jsonb_build_array(pg_temp.uid('ann@example.org'), pg_temp.uid('bob@example.org'), pg_temp.uid('fay@example.org'))));
SELECT pg_temp.ladder(NULL);
SELECT action, data FROM lms.audit_log WHERE entity = 'group' AND action LIKE 'group.members%' ORDER BY id;

-- windows: the week ladder counts the week's points; next week it starts again from zero
SELECT pg_temp.ladder(NULL, '{"window": "week"}');
SET lms.clock_override = '2026-03-10 10:00:00+00';
SELECT pg_temp.give('dan@example.org', 10, 'd2');
SELECT pg_temp.ladder(NULL, '{"window": "week"}');
SELECT pg_temp.ladder(NULL, '{"window": "month"}');

-- renaming, deleting
SELECT status, body::jsonb->>'name' AS name FROM lms.api_group_patch(:'t_ivy', :'g_b', '{}', '{"name": "Section B (evening)"}');
SELECT status FROM lms.api_group_patch(:'t_joe', :'g_b', '{}', '{"name": "mine now"}');
SELECT status, body::jsonb->'errors'->0->>'field' AS field FROM lms.api_group_patch(:'t_ivy', :'g_b', '{}', '{"name": null}');
SELECT status FROM lms.api_group_delete(:'t_joe', :'g_b', '{}', NULL);
SELECT status FROM lms.api_group_delete(:'t_ivy', :'g_b', '{}', NULL);
SELECT status FROM lms.api_group_get(:'t_ivy', :'g_b', '{}', NULL);
SELECT pg_temp.ladder(NULL);
SELECT action FROM lms.audit_log WHERE entity = 'group' ORDER BY id;

-- the ladder agrees with a rebuild from the boards and the memberships, and recompute agrees
SELECT lms.group_scores_rebuild() AS disagreeing_rows;
SELECT * FROM lms.recompute_gamification();
SELECT lms.group_scores_rebuild() AS disagreeing_rows;
-- for analysts
SELECT * FROM lms.group_ladder('all', 'total');
SELECT * FROM lms.group_ladder('all', 'most');

-- A statement that changes many global entries after a small one in the same session (the
-- worker's refresh after a quiet spell): the groups trigger sums each entry's new and old
-- points instead of joining the two transition tables, whose plan, made once for the session's
-- first small statement, was a nested loop: 20,000 entries took 66 s, a million would take
-- days. The timeout guards that shape with a wide margin (the sum takes well under a second).
BEGIN;
INSERT INTO lms.board_entries (board, win, user_id, points, reached_at, display_name, level)
SELECT 'global', 'month', 900000000 + g, g % 50, '2026-03-10 10:00:00+00', 'load', 1 FROM generate_series(1, 20000) g;
UPDATE lms.board_entries SET points = points + 1 WHERE board = 'global' AND user_id BETWEEN 900000001 AND 900000005;
SET LOCAL statement_timeout = '15s';
UPDATE lms.board_entries SET points = points + 1 WHERE board = 'global' AND user_id > 900000000;
ROLLBACK;
SELECT lms.group_scores_rebuild() AS disagreeing_rows;

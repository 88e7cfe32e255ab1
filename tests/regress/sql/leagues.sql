\i tests/regress/setup.psql
SET lms.token_ttl = '100d';
SET lms.clock_override = '2026-03-02 09:00:00+00';
-- Weekly leagues: the tier table and its validation, cohorts formed by the first points of a
-- week, standings and zones, ties, hidden and suspended learners, the rollover (once), points
-- dated in a week already rolled over, learners waiting for a rollover, the inactive rule.
-- GET /leagues/me on one line: status, tier, cohort, zones, standings rank:name:points:zone, me
CREATE FUNCTION pg_temp.me(token text) RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN r.status <> 200 THEN r.status || ' ' || r.body ELSE
    format('%s week=%s ends=%s tier=%s cohort=%s zones=%s [%s] me=%s', d->>'status', d->>'week', d->>'ends_at',
           coalesce(d->'tier'->>'name', '-'), coalesce(d->'cohort'->>'size', '-') || '/' || coalesce(d->'cohort'->>'capacity', '-'),
           d->'zones', (SELECT string_agg(format('%s:%s:%s%s', i->>'rank', i->>'display_name', i->>'points',
                                                 coalesce(':' || (i->>'zone'), '')), ' ')
                          FROM jsonb_array_elements(d->'standings') i), d->'me') END
  FROM lms.api_leagues_me(token, NULL, '{}', NULL) r, LATERAL (SELECT r.body::jsonb AS d) x
$$;
CREATE FUNCTION pg_temp.give(email text, pts int, key text) RETURNS boolean LANGUAGE sql AS $$
  SELECT lms.award_points((SELECT id FROM lms.users WHERE users.email = give.email), pts, 'quiz_passed', key) IS NOT NULL
$$;
CREATE FUNCTION pg_temp.week(w date) RETURNS TABLE (cohort text, tier int, rank int, who text, points bigint, zone text, outcome text, new_tier int)
LANGUAGE sql AS $$
  SELECT dense_rank() OVER (ORDER BY s.cohort_id)::text, s.tier, s.rank, s.display_name, s.points, s.zone, s.outcome, s.new_tier
    FROM lms.league_standings(w) s ORDER BY s.cohort_id, s.rank NULLS LAST, s.display_name
$$;

SELECT lms.create_user('adm@example.org', 'password-1', 'Adm', 'admin') AS adm \gset
DO $$
BEGIN
  FOR i IN 1..9 LOOP
    PERFORM lms.create_user('l' || i || '@example.org', 'password-1', 'L' || i);
  END LOOP;
END $$;
SELECT pg_temp.login('adm@example.org') AS t_adm, pg_temp.login('l1@example.org') AS t1,
       pg_temp.login('l2@example.org') AS t2, pg_temp.login('l6@example.org') AS t6,
       pg_temp.login('l8@example.org') AS t8, pg_temp.login('l9@example.org') AS t9 \gset

-- the league week is the calendar week of the boards, Monday 00:00 UTC
SELECT lms.league_week('2026-03-02 00:00:00+00') AS monday, lms.league_week('2026-03-08 23:59:59+00') AS sunday,
       lms.league_week('2026-03-09 00:00:00+00') AS next_monday, lms.league_week('2026-03-04 23:30:00-05') AS late_wednesday_east;
SELECT lms.league_lock('2026-03-03', 'shared');
SELECT lms.league_lock('2026-03-02', 'sometimes');

-- the default tier table: ten tiers, nothing stored
SELECT d->'cohort_size' AS cohort_size, d->'inactive_grace_weeks' AS grace, d->'is_default' AS is_default,
       (SELECT string_agg(format('%s:%s:%s:%s', t->>'tier', t->>'name', t->>'promote_top', coalesce(t->>'demote_from', '-')), ' ')
          FROM jsonb_array_elements(d->'tiers') t) AS tiers
  FROM (SELECT body::jsonb AS d FROM lms.api_admin_league_tiers_get(:'t_adm', NULL, '{}', NULL)) x;
SELECT count(*) AS stored_tiers FROM lms.league_tiers;
SELECT status FROM lms.api_admin_league_tiers_get(:'t1', NULL, '{}', NULL);
SELECT status FROM lms.api_admin_league_tiers_get(NULL, NULL, '{}', NULL);

-- a tier table that contradicts itself is refused, field by field
SELECT r.status, e->>'field' AS field, e->>'message' AS message
  FROM lms.api_admin_league_tiers_put(:'t_adm', NULL, '{}', '{"cohort_size": 20, "join_slots": 0, "tiers": [
    {"name": "Low", "promote_top": 2, "demote_from": 4},
    {"name": " low ", "promote_top": 3, "demote_from": 3},
    {"name": "", "promote_top": -1},
    {"name": "Top", "promote_top": 1, "demote_from": 200}]}') r,
  jsonb_array_elements(r.body::jsonb->'errors') e;
SELECT r.status, e->>'field' AS field, e->>'message' AS message
  FROM lms.api_admin_league_tiers_put(:'t_adm', NULL, '{}', '{"cohort_size": 1, "inactive_grace_weeks": "1", "tiers": [
    {"name": "Low", "promote_top": 1}, {"name": "High", "promote_top": 0, "demote_from": 2}]}') r,
  jsonb_array_elements(r.body::jsonb->'errors') e;
SELECT status, body::jsonb->'errors'->0->>'field' AS field
  FROM lms.api_admin_league_tiers_put(:'t_adm', NULL, '{}', '{"tiers": [{"name": "Only", "promote_top": 0}]}');
SELECT status, body::jsonb->>'code' AS code FROM lms.api_admin_league_tiers_put(:'t_adm', NULL, '{}', '[1]');
SELECT status FROM lms.api_admin_league_tiers_put(:'t1', NULL, '{}', '{"tiers": []}');
-- three tiers, cohorts of 5, one cohort filling at a time
SELECT status, body::jsonb->'is_default' AS is_default, body::jsonb->'cohort_size' AS cohort_size
  FROM lms.api_admin_league_tiers_put(:'t_adm', NULL, '{}', '{"cohort_size": 5, "join_slots": 1, "tiers": [
    {"name": "Bronze", "promote_top": 2, "demote_from": null},
    {"name": "Silver", "promote_top": 1, "demote_from": 4},
    {"name": "Gold", "promote_top": 0, "demote_from": 4}]}');
SELECT action, data->'after'->'tiers'->2->>'name' AS top_name FROM lms.audit_log WHERE action = 'league.tiers.update';

-- before any points: nobody is in the week yet
SELECT pg_temp.me(:'t1');
SELECT pg_temp.me(NULL);

-- the first points of a week join a cohort of the learner's tier (Bronze for newcomers);
-- a first entry below zero does not, nor a hidden learner's points
UPDATE lms.users SET leaderboard_visible = false WHERE email = 'l9@example.org';
SELECT pg_temp.give('l1@example.org', 50, 'w1:l1'), pg_temp.give('l2@example.org', 30, 'w1:l2'),
       pg_temp.give('l3@example.org', 30, 'w1:l3'), pg_temp.give('l9@example.org', 99, 'w1:l9');
SELECT lms.award_points((SELECT id FROM lms.users WHERE email = 'l8@example.org'), -5, 'admin_correction', 'w1:l8:minus') IS NOT NULL AS corrected;
SELECT pg_temp.me(:'t1');
SELECT pg_temp.me(:'t8');
SELECT pg_temp.me(:'t9');
-- ties: L3 reaches 40 before L2 does, so L3 is ahead
SET lms.clock_override = '2026-03-03 09:00:00+00';
SELECT pg_temp.give('l3@example.org', 10, 'w1:l3:b');
SET lms.clock_override = '2026-03-04 09:00:00+00';
SELECT pg_temp.give('l2@example.org', 10, 'w1:l2:b');
-- a sixth joiner opens a second cohort: a cohort never holds more than its capacity
SELECT pg_temp.give('l4@example.org', 20, 'w1:l4'), pg_temp.give('l5@example.org', 10, 'w1:l5'),
       pg_temp.give('l6@example.org', 70, 'w1:l6'), pg_temp.give('l7@example.org', 5, 'w1:l7');
SELECT pg_temp.me(:'t1');
SELECT pg_temp.me(:'t6');
-- the same source key twice counts once, in the ledger and in the league
SELECT pg_temp.give('l1@example.org', 50, 'w1:l1') AS again;
SELECT tier, size, capacity, is_open FROM lms.league_cohorts ORDER BY id;

-- a rollover before the week has ended does nothing
SELECT * FROM lms.league_rollover();

-- the next week: L1 (a member of the past week) must wait for its rollover to know her tier;
-- L8, a newcomer, is placed at once
SET lms.clock_override = '2026-03-09 00:00:30+00';
SELECT pg_temp.give('l1@example.org', 15, 'w2:l1'), pg_temp.give('l8@example.org', 15, 'w2:l8');
SELECT user_id = (SELECT id FROM lms.users WHERE email = 'l1@example.org') AS is_l1, cohort_id IS NULL AS waiting, points
  FROM lms.league_members WHERE week = '2026-03-09' ORDER BY user_id;
-- GET /leagues/me on a server without the worker rolls the ended week over on demand
SELECT pg_temp.me(:'t1');
SELECT week, members, promoted, demoted, rolled_over_at FROM lms.league_weeks ORDER BY week;
-- every member of the past week got a rank, an outcome and a tier: the top 2 of each Bronze
-- cohort move up, nobody falls out of the lowest tier; L1, who waited, now has her cohort
SELECT * FROM pg_temp.week('2026-03-02');
-- exactly once: a second rollover finds nothing to do, and the outcomes stay
SELECT * FROM lms.league_rollover();
SELECT count(*) FILTER (WHERE outcome = 'promoted') AS promoted FROM lms.league_members WHERE week = '2026-03-02';

-- points dated in a week already rolled over (a transaction that started before the end and
-- committed after the rollover) count for the following week
SET lms.clock_override = '2026-03-08 23:59:59+00';
SELECT pg_temp.give('l6@example.org', 7, 'late:l6');
SET lms.clock_override = '2026-03-09 00:01:00+00';
SELECT week, points FROM lms.league_members WHERE user_id = (SELECT id FROM lms.users WHERE email = 'l6@example.org') ORDER BY week;
SELECT pg_temp.me(:'t6');

-- history: newest first
SELECT i->>'week' AS week, i->>'tier_name' AS tier, i->'rank' AS rank, i->>'outcome' AS outcome, i->'new_tier' AS new_tier, i->'points' AS points
  FROM lms.api_leagues_history(:'t1', NULL, '{}', NULL) r, jsonb_array_elements(r.body::jsonb->'items') i;
SELECT status, body::jsonb->>'code' AS code FROM lms.api_leagues_history(:'t1', NULL, '{"limit":"0"}', NULL);

-- week 2: L1 and L6 compete in Silver, L2 and L8 in Bronze; a learner suspended at the
-- rollover is excluded and keeps her tier
SELECT pg_temp.give('l6@example.org', 5, 'w2:l6'), pg_temp.give('l3@example.org', 1, 'w2:l3'),
       pg_temp.give('l2@example.org', 40, 'w2:l2');
SELECT pg_temp.me(:'t2');
UPDATE lms.users SET status = 'suspended' WHERE email = 'l3@example.org';
SET lms.clock_override = '2026-03-16 08:00:00+00';
SELECT week, members, promoted, demoted FROM lms.api_admin_league_rollover(:'t_adm', NULL, '{}', NULL) r,
       jsonb_to_recordset(r.body::jsonb->'rolled') AS x(week date, members int, promoted int, demoted int);
SELECT status FROM lms.api_admin_league_rollover(:'t1', NULL, '{}', NULL);
SELECT * FROM pg_temp.week('2026-03-09');

-- the inactive rule (inactive_grace_weeks = 1): L1 ends week 2 in Gold; a week without points
-- keeps the tier, every further one costs a tier. Back after two silent weeks: Silver
SET lms.clock_override = '2026-03-30 08:00:00+00';
SELECT pg_temp.me(:'t1');
SELECT lms.league_start_tier(3, '2026-03-09', '2026-03-23', 1, 3) AS after_one_week_off,
       lms.league_start_tier(3, '2026-03-09', '2026-03-30', 1, 3) AS after_two,
       lms.league_start_tier(3, '2026-03-09', '2026-06-01', 1, 3) AS after_many,
       lms.league_start_tier(NULL, '2026-03-09', '2026-03-30', 1, 3) AS undecided,
       lms.league_start_tier(NULL, NULL, '2026-03-30', 1, 3) AS newcomer;
SELECT pg_temp.give('l1@example.org', 5, 'w5:l1');
SELECT pg_temp.me(:'t1');

-- a smaller tier table later: members of a tier that no longer exists count in the top one
SELECT status FROM lms.api_admin_league_tiers_put(:'t_adm', NULL, '{}', '{"tiers": [
    {"name": "Bronze", "promote_top": 2, "demote_from": null},
    {"name": "Silver", "promote_top": 0, "demote_from": 4}]}');
SELECT pg_temp.me(:'t1');
SELECT lms.league_start_tier(3, '2026-03-09', '2026-03-16', 1, 2) AS clamped;

-- analysts: the current week by default, one tier on demand
SELECT week, tier, tier_name, rank, display_name, points, zone FROM lms.league_standings();
SELECT count(*) FROM lms.league_standings('2026-03-02', 1);
SELECT * FROM lms.recompute_gamification();
-- rows of weeks long gone (a bulk import of history, written straight into the ledger) form
-- no league; recompute then brings the totals in line with them
INSERT INTO lms.points_ledger (user_id, points, reason, source_key, created_at)
SELECT id, 9, 'quiz_passed', 'old:l5', '2026-01-05 10:00:00+00' FROM lms.users WHERE email = 'l5@example.org';
SELECT count(*) FROM lms.league_members WHERE week = '2026-01-05';
SELECT * FROM lms.recompute_gamification();

-- rows written with the trigger off (a bulk load) form the week's league with lms.league_rebuild:
-- one row per learner with the week's points, a cohort of their start tier
SET lms.clock_override = '2026-04-08 10:00:00+00';
SET session_replication_role = replica;
INSERT INTO lms.points_ledger (user_id, points, reason, source_key, created_at)
SELECT u.id, x.pts, 'quiz_passed', 'bulk:' || u.id || ':' || x.pts, '2026-04-07 10:00:00+00'::timestamptz + x.pts * interval '1 minute'
  FROM lms.users u CROSS JOIN (VALUES (4), (6)) x(pts) WHERE u.email IN ('l1@example.org', 'l4@example.org', 'l9@example.org');
RESET session_replication_role;
SELECT count(*) AS league_rows_before FROM lms.league_members WHERE week = '2026-04-06';
SELECT lms.league_rebuild() AS added;
SELECT lms.league_rebuild() AS added_again;
SELECT * FROM pg_temp.week('2026-04-06');
SELECT lms.league_rebuild('2026-03-02');
-- a COPY is a load, not events: the trigger does not count it (a restore brings the league back
-- as it was dumped); lms.league_rebuild() forms the week from it
COPY lms.points_ledger (user_id, points, reason, source_key, created_at) FROM stdin;
6	8	quiz_passed	copied:l5	2026-04-08 09:00:00+00
\.
SELECT count(*) AS l5_this_week FROM lms.league_members m JOIN lms.users u ON u.id = m.user_id WHERE m.week = '2026-04-06' AND u.email = 'l5@example.org';
SELECT lms.league_rebuild() AS added;
SELECT m.points, m.tier FROM lms.league_members m JOIN lms.users u ON u.id = m.user_id WHERE m.week = '2026-04-06' AND u.email = 'l5@example.org';
-- recompute brings the totals in line with the rows loaded behind the scoring code's back
SELECT * FROM lms.recompute_gamification();
SELECT * FROM lms.recompute_gamification();

-- one statement of many ledger rows (a recompute, an achievement granted to many learners) is
-- counted at once: a learner's rows summed into one league row, the joiners placed together,
-- whole cohorts formed full and closed, the rest one by one into the open cohort. Each cohort
-- row is written once, not once per joiner (found at 1M learners: one transaction updating the
-- open cohort for each joiner re-checks every version of it it wrote, quadratic): 213
-- newcomers with cohorts of 5 make 43 cohorts and update one of them twice
SET lms.clock_override = '2026-04-15 10:00:00+00';
INSERT INTO lms.users (email, password_hash, display_name)
SELECT 'm' || i || '@example.org', 'x', 'M' || i FROM generate_series(1, 213) i;
BEGIN;
SELECT pg_stat_get_xact_tuples_inserted('lms.league_cohorts'::regclass) AS ins0,
       pg_stat_get_xact_tuples_updated('lms.league_cohorts'::regclass) AS upd0 \gset
INSERT INTO lms.points_ledger (user_id, points, reason, source_key, created_at)
SELECT u.id, x.pts, 'quiz_passed', 'many:' || u.email || ':' || x.pts, lms.clock()
  FROM lms.users u CROSS JOIN (VALUES (3), (4)) x(pts)
 WHERE u.email ~ '^m[0-9]+@' OR u.email IN ('l5@example.org', 'l9@example.org');
SELECT pg_stat_get_xact_tuples_inserted('lms.league_cohorts'::regclass) - :ins0 AS cohorts_made,
       pg_stat_get_xact_tuples_updated('lms.league_cohorts'::regclass) - :upd0 AS cohort_updates;
COMMIT;
-- L9 is hidden; L5 was in last week's league, not rolled over yet: she waits for it
SELECT count(*) AS members, count(DISTINCT user_id) AS learners, sum(points) AS points,
       count(*) FILTER (WHERE cohort_id IS NULL) AS waiting, min(tier) AS min_tier, max(tier) AS max_tier
  FROM lms.league_members WHERE week = '2026-04-13';
-- her GET /leagues/me says so; in a read-only transaction the read does not do the rollover
SELECT pg_temp.login('l5@example.org') AS t5 \gset
BEGIN READ ONLY;
SELECT pg_temp.me(:'t5') AS l5_waits;
COMMIT;
SELECT slot, is_open, size, capacity, count(*) AS cohorts
  FROM lms.league_cohorts WHERE week = '2026-04-13' GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3;
-- a second statement: the members' rows updated once each, a newcomer into the open cohort
INSERT INTO lms.users (email, password_hash, display_name) VALUES ('n1@example.org', 'x', 'N1');
INSERT INTO lms.points_ledger (user_id, points, reason, source_key, created_at)
SELECT u.id, x.pts, 'quiz_passed', 'many2:' || u.email || ':' || x.pts, lms.clock() + x.pts * interval '1 second'
  FROM lms.users u CROSS JOIN (VALUES (5), (6)) x(pts) WHERE u.email IN ('m1@example.org', 'm2@example.org', 'n1@example.org');
SELECT u.email, m.points, m.reached_at, c.slot, c.size, c.is_open
  FROM lms.league_members m JOIN lms.users u ON u.id = m.user_id JOIN lms.league_cohorts c ON c.id = m.cohort_id
 WHERE m.week = '2026-04-13' AND u.email IN ('m1@example.org', 'm2@example.org', 'm213@example.org', 'n1@example.org')
 ORDER BY u.email;
SELECT count(*) AS cohorts_disagreeing FROM lms.league_cohorts c
 WHERE c.week = '2026-04-13' AND (c.size > c.capacity OR c.size <> (SELECT count(*) FROM lms.league_members m WHERE m.cohort_id = c.id));

-- A learner's row of a week is one index probe even when the statistics know none of the week's
-- rows (ANALYZE ran before anyone joined it: every Monday morning). The planner then rates every
-- index that leads with the week as good as the primary key; with (week) alone it scanned all the
-- week's members for each award (the ledger trigger's UPDATE) and each GET /leagues/me (seen at
-- 1M, 3,528 learners into a new week: all 3,528 entries read for one learner's row).
-- No index that leads with the week may lack the learner (the planner's choice between equal
-- estimates is not ours); then, in this database, an award probes a few entries.
SELECT count(*) AS week_indexes_without_the_learner
  FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
 WHERE i.indrelid = 'lms.league_members'::regclass AND a.attname = 'week' AND i.indpred IS NULL
   AND NOT EXISTS (SELECT FROM unnest(i.indkey::int2[]) k
                     JOIN pg_attribute b ON b.attrelid = i.indrelid AND b.attnum = k WHERE b.attname = 'user_id');
SET lms.clock_override = '2026-04-20 10:00:00+00';
ANALYZE lms.league_members;
INSERT INTO lms.users (email, password_hash, display_name)
SELECT 'p' || i || '@example.org', 'x', 'P' || i FROM generate_series(1, 1500) i;
INSERT INTO lms.points_ledger (user_id, points, reason, source_key, created_at)
SELECT u.id, 5, 'quiz_passed', 'probe:' || u.email, lms.clock() FROM lms.users u WHERE u.email ~ '^p[0-9]+@';
CREATE FUNCTION pg_temp.member_entries_read() RETURNS bigint LANGUAGE sql AS $$
  SELECT pg_stat_clear_snapshot();
  SELECT sum(idx_tup_read)::bigint FROM pg_stat_user_indexes WHERE relname = 'league_members'
$$;
SELECT pg_stat_force_next_flush();
SELECT pg_temp.member_entries_read() AS reads_before \gset
SELECT pg_temp.give('p1500@example.org', 3, 'probe-again') AS counted;
SELECT pg_stat_force_next_flush();
SELECT pg_temp.member_entries_read() - :reads_before < 100 AS award_probes_one_row;

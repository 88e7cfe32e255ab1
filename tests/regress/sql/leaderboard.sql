\i tests/regress/setup.psql
-- Leaderboards: competition ranks with the tie order, hidden and suspended learners left out,
-- week and month windows rolling over, course boards, freshness, and the board routes.
-- a board answer, one line: header, then rank:name:points per item, then me
CREATE FUNCTION pg_temp.b(r lms.api_response) RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN r.status <> 200 THEN r.status || ' ' || r.body ELSE
    format('%s %s/%s period=%s generated=%s total=%s limit=%s offset=%s [%s] me=%s', r.status,
           d->>'board', d->>'window', d->>'period_start', d->>'generated_at', d->'total', d->'limit', d->'offset',
           (SELECT string_agg(format('%s:%s:%s:L%s', i->>'rank', i->>'display_name', i->>'points', i->>'level'), ' ')
              FROM jsonb_array_elements(d->'items') i), d->'me') END
  FROM (SELECT r.body::jsonb AS d) x
$$;
CREATE FUNCTION pg_temp.page(board text, win text DEFAULT 'all') RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(format('%s:%s:%s', rank, display_name, points), ' '), '(empty)')
  FROM lms.leaderboard(board, win, 100, 0)
$$;

SELECT lms.create_user('adm@example.org', 'password-1', 'Adm', 'admin') AS adm \gset
SELECT lms.create_user('ivy@example.org', 'password-1', 'Ivy', 'instructor') AS ivy \gset
SELECT lms.create_user('ann@example.org', 'password-1', 'Ann') AS ann \gset
SELECT lms.create_user('bob@example.org', 'password-1', 'Bob') AS bob \gset
SELECT lms.create_user('cat@example.org', 'password-1', 'Cat') AS cat \gset
SELECT lms.create_user('dan@example.org', 'password-1', 'Dan') AS dan \gset
SELECT lms.create_user('eve@example.org', 'password-1', 'Eve') AS eve \gset
SET lms.token_ttl = '100d';
SELECT pg_temp.login('adm@example.org') AS t_adm, pg_temp.login('ann@example.org') AS t_ann,
       pg_temp.login('bob@example.org') AS t_bob, pg_temp.login('eve@example.org') AS t_eve,
       pg_temp.login('dan@example.org') AS t_dan \gset
INSERT INTO lms.courses (slug, title, instructor_id, is_published) VALUES ('pg', 'PostgreSQL', :ivy, true)
RETURNING id AS c \gset
INSERT INTO lms.courses (slug, title, instructor_id) VALUES ('draft', 'Draft', :ivy) RETURNING id AS c_draft \gset

-- reads refresh a changed board on demand (no worker in the tests)
SET lms.leaderboard_refresh_interval = 0;
-- before anyone scores: empty boards
SELECT pg_temp.page('global');
SELECT pg_temp.b(lms.api_leaderboard_global(NULL, NULL, '{}', NULL));

-- Ann 300, Cat 200 and Dan 100 at 10:00; Bob and Eve reach 200 later, at 11:00
SELECT lms.award_points(:ann, 300, 'quiz_passed', 'q:ann', :c) IS NOT NULL,
       lms.award_points(:cat, 200, 'quiz_passed', 'q:cat', :c) IS NOT NULL,
       lms.award_points(:dan, 100, 'quiz_passed', 'q:dan') IS NOT NULL;
SET lms.clock_override = '2026-03-02 11:00:00+00';
SELECT lms.award_points(:eve, 200, 'quiz_passed', 'q:eve') IS NOT NULL,
       lms.award_points(:bob, 150, 'quiz_passed', 'q:bob', :c) IS NOT NULL,
       lms.award_points(:bob, 50, 'quiz_passed', 'q:bob2') IS NOT NULL;
-- competition ranking 1, 2, 2, 2, 5: within the tie Cat reached 200 first, then Bob before Eve (lower id)
SELECT * FROM lms.leaderboard('global');
SELECT * FROM lms.user_rank('global', 'all', :eve);
-- paging
SELECT * FROM lms.leaderboard('global', 'all', 2, 1);
SELECT * FROM lms.leaderboard('global', 'all', 2, 10);

-- Eve hides herself: 1, 2, 2, 4, and she is on no board, not in the total
UPDATE lms.users SET leaderboard_visible = false WHERE id = :eve;
SELECT pg_temp.page('global');
SELECT count(*) AS eve_rows FROM lms.user_rank('global', 'all', :eve);
SELECT pg_temp.b(lms.api_leaderboard_global(:'t_eve', NULL, '{}', NULL));
-- Dan is suspended: gone too; back when reactivated
UPDATE lms.users SET status = 'suspended' WHERE id = :dan;
SELECT pg_temp.page('global');
UPDATE lms.users SET status = 'active' WHERE id = :dan;
SELECT pg_temp.page('global');

-- the board routes: anonymous, with a token (me), paging and around=me
SELECT pg_temp.b(lms.api_leaderboard_global(NULL, NULL, '{}', NULL));
SELECT pg_temp.b(lms.api_leaderboard_global(:'t_bob', NULL, '{"limit":"2"}', NULL));
SELECT pg_temp.b(lms.api_leaderboard_global(:'t_dan', NULL, '{"limit":"1","around":"me"}', NULL));
SELECT pg_temp.b(lms.api_leaderboard_global(:'t_dan', NULL, '{"limit":"3","around":"me"}', NULL));
SELECT pg_temp.b(lms.api_leaderboard_global(:'t_ann', NULL, '{"limit":"3","around":"me"}', NULL));
SELECT pg_temp.b(lms.api_leaderboard_global(NULL, NULL, '{"limit":"2","offset":"2"}', NULL));
-- a hidden caller gets me: null, also with around=me (the top page)
SELECT pg_temp.b(lms.api_leaderboard_global(:'t_eve', NULL, '{"limit":"2","around":"me"}', NULL));
-- the whole answer once
SELECT status, body::jsonb FROM lms.api_leaderboard_global(:'t_bob', NULL, '{"window":"week","limit":"2"}', NULL);

-- course boards count the entries carrying the course, admin corrections included
SELECT pg_temp.page('course:' || :c);
SELECT lms.award_points(:cat, -150, 'admin_correction', 'fix:cat', :c) IS NOT NULL;
SELECT pg_temp.page('course:' || :c);
SELECT pg_temp.b(lms.api_leaderboard_course(:'t_bob', :'c', '{}', NULL));
SELECT pg_temp.page('global');

-- windows: the week of Monday 2 March and the month of March (UTC)
SELECT pg_temp.page('global', 'week') AS week, pg_temp.page('global', 'month') AS month;
-- Sunday 23:59 UTC is still the same week
SET lms.clock_override = '2026-03-08 23:59:59+00';
SELECT lms.award_points(:dan, 500, 'quiz_passed', 'q:dan2') IS NOT NULL;
SELECT pg_temp.page('global', 'week') AS week;
-- Monday 00:00 UTC: a new, empty week; the month and all-time boards go on
SET lms.clock_override = '2026-03-09 00:00:00+00';
SELECT pg_temp.b(lms.api_leaderboard_global(NULL, NULL, '{"window":"week"}', NULL));
SELECT lms.award_points(:bob, 5, 'quiz_passed', 'q:bob3', :c) IS NOT NULL;
SELECT pg_temp.page('global', 'week') AS week, pg_temp.page('course:' || :c, 'week') AS course_week;
SELECT pg_temp.page('global', 'month') AS month;
-- 1 April: a new month (and the week of Monday 30 March)
SET lms.clock_override = '2026-04-01 00:00:00+00';
SELECT pg_temp.b(lms.api_leaderboard_global(NULL, NULL, '{"window":"month"}', NULL));
SELECT pg_temp.b(lms.api_leaderboard_global(NULL, NULL, '{"window":"week"}', NULL));
SELECT pg_temp.page('global') AS all_time;

-- freshness: with a refresh interval, a read within it serves the materialized board and says
-- when it was generated; lms.refresh_leaderboards() rebuilds every board now
RESET lms.leaderboard_refresh_interval;
SELECT lms.award_points(:ann, 1000, 'quiz_passed', 'q:ann2') IS NOT NULL;
SELECT pg_temp.page('global') AS within_interval;
SELECT * FROM lms.refresh_leaderboards();
SELECT pg_temp.page('global') AS refreshed;
SELECT board, win, period_start, generated_at, total FROM lms.boards ORDER BY board, win;
SET lms.leaderboard_refresh_interval = 0;

-- SQL errors
SELECT pg_temp.err('SELECT * FROM lms.leaderboard(''local'')');
SELECT pg_temp.err('SELECT * FROM lms.leaderboard(''course:abc'')');
SELECT pg_temp.err('SELECT * FROM lms.leaderboard(''course:0'')');
SELECT pg_temp.err('SELECT * FROM lms.leaderboard(''course:999999'')');
SELECT pg_temp.err('SELECT * FROM lms.leaderboard(''global'', ''year'')');
SELECT pg_temp.err('SELECT * FROM lms.leaderboard(''global'', ''all'', 0)');
SELECT pg_temp.err('SELECT * FROM lms.leaderboard(''global'', ''all'', 1001)');
SELECT pg_temp.err('SELECT * FROM lms.leaderboard(''global'', ''all'', 10, -1)');
SELECT pg_temp.err('SELECT * FROM lms.user_rank(''global'', NULL, 1)');

-- route errors: 400 validation_failed, 401, 404, 400 invalid_id
SELECT pg_temp.b(lms.api_leaderboard_global(NULL, NULL, '{"window":"year"}', NULL));
SELECT pg_temp.b(lms.api_leaderboard_global(NULL, NULL, '{"limit":"0"}', NULL));
SELECT pg_temp.b(lms.api_leaderboard_global(NULL, NULL, '{"limit":"101","offset":"-1"}', NULL));
SELECT pg_temp.b(lms.api_leaderboard_global(NULL, NULL, '{"around":"you"}', NULL));
SELECT pg_temp.b(lms.api_leaderboard_global(NULL, NULL, '{"around":"me"}', NULL));
SELECT pg_temp.b(lms.api_leaderboard_global('not-a-token', NULL, '{}', NULL));
SELECT pg_temp.b(lms.api_leaderboard_course(NULL, '999999', '{}', NULL));
SELECT pg_temp.b(lms.api_leaderboard_course(NULL, :'c_draft', '{}', NULL));
SELECT pg_temp.b(lms.api_leaderboard_course(NULL, 'abc', '{}', NULL));

-- POST /admin/leaderboards/refresh: admin only, audited
SELECT status, (body::jsonb)->'refreshed' AS refreshed, (body::jsonb)->'took_ms' IS NOT NULL AS has_took_ms
  FROM lms.api_admin_leaderboards_refresh(:'t_adm', NULL, '{}', NULL);
SELECT status, body FROM lms.api_admin_leaderboards_refresh(:'t_ann', NULL, '{}', NULL);
SELECT status, body FROM lms.api_admin_leaderboards_refresh(NULL, NULL, '{}', NULL);
SELECT action, entity FROM lms.audit_log WHERE action LIKE 'leaderboards%';

-- recompute agrees with everything above
SELECT * FROM lms.recompute_gamification();

-- Incremental refresh: a refresh re-reads only the learners whose ledger rows or visibility
-- changed and moves them between the histogram's buckets. After awards, corrections, hiding,
-- suspension and coming back, the boards must equal a full rebuild, and every page, rank and
-- position must equal a ranking computed straight from the scores.
SET lms.clock_override = '2026-04-02 09:00:00+00';
INSERT INTO lms.users (email, password_hash, display_name)
SELECT 'l' || i || '@example.org', 'x', 'L' || lpad(i::text, 2, '0') FROM generate_series(1, 30) i;
-- scores with many ties (10, 20, ... 70 points), half of them in the course
SELECT count(lms.award_points(u.id, 10 * (1 + i % 7), 'quiz_passed', 'inc:' || i,
                              CASE WHEN i % 2 = 0 THEN :c END))
  FROM generate_series(1, 30) i JOIN lms.users u ON u.email = 'l' || i || '@example.org';
CREATE FUNCTION pg_temp.board_state() RETURNS TABLE (what text, board text, win text, k bigint, v bigint, t timestamptz)
LANGUAGE sql AS $$
  SELECT 'entry', e.board, e.win, e.user_id, e.points, e.reached_at FROM lms.board_entries e
  UNION ALL SELECT 'bucket', h.board, h.win, h.points, h.learners, NULL FROM lms.board_counts h WHERE h.learners <> 0
  UNION ALL SELECT 'total', b.board, b.win, b.total, NULL, NULL FROM lms.boards b
$$;
-- the global all-time board computed from the scores: position, competition rank
CREATE FUNCTION pg_temp.expected() RETURNS TABLE (pos bigint, rank bigint, user_id bigint, points bigint)
LANGUAGE sql AS $$
  SELECT row_number() OVER (ORDER BY s.total_points DESC, s.reached_at, s.user_id),
         rank() OVER (ORDER BY s.total_points DESC), s.user_id, s.total_points
    FROM lms.learner_scores s JOIN lms.users u ON u.id = s.user_id
   WHERE s.reached_at IS NOT NULL AND u.leaderboard_visible AND u.status = 'active'
$$;
-- mismatches of every page of 4 (at every offset, so pages start inside tie groups), every
-- user_rank and every around=me position against pg_temp.expected()
CREATE FUNCTION pg_temp.read_mismatches() RETURNS TABLE (pages bigint, ranks bigint, positions bigint, learners bigint)
LANGUAGE sql AS $$
  SELECT (SELECT count(*) FROM generate_series(0, (SELECT count(*) FROM pg_temp.expected())) o
           WHERE (SELECT array_agg(ROW(p.rank, p.user_id, p.points)::text ORDER BY p.ord)
                    FROM lms.leaderboard('global', 'all', 4, o::int) WITH ORDINALITY p(rank, user_id, n, points, level, ord))
                 IS DISTINCT FROM
                 (SELECT array_agg(ROW(e.rank, e.user_id, e.points)::text ORDER BY e.pos)
                    FROM pg_temp.expected() e WHERE e.pos > o AND e.pos <= o + 4)),
         (SELECT count(*) FROM lms.users u
            LEFT JOIN pg_temp.expected() e ON e.user_id = u.id
            LEFT JOIN LATERAL lms.user_rank('global', 'all', u.id) r ON true
           WHERE (r.rank, r.points) IS DISTINCT FROM (e.rank, e.points)),
         (SELECT count(*) FROM lms.users u
            LEFT JOIN pg_temp.expected() e ON e.user_id = u.id
            LEFT JOIN LATERAL lms.board_me('global', 'all', u.id) m ON true
           WHERE (m.pos, m.rank, m.points) IS DISTINCT FROM (e.pos, e.rank, e.points)),
         (SELECT count(*) FROM pg_temp.expected())
$$;
SELECT count(*) > 0 AS refreshed FROM lms.refresh_leaderboards(true);
SELECT * FROM pg_temp.read_mismatches();
SELECT pg_temp.page('global') AS incremental;
-- more points for some, a correction, L03 hides, L04 is suspended, Eve shows herself again
SET lms.clock_override = '2026-04-02 10:00:00+00';
SELECT count(lms.award_points(u.id, 30, 'quiz_passed', 'inc2:' || i, :c))
  FROM generate_series(1, 30, 4) i JOIN lms.users u ON u.email = 'l' || i || '@example.org';
SELECT lms.award_points(u.id, -40, 'admin_correction', 'inc:fix', :c) IS NOT NULL
  FROM lms.users u WHERE u.email = 'l6@example.org';
UPDATE lms.users SET leaderboard_visible = false WHERE email = 'l3@example.org';
UPDATE lms.users SET status = 'suspended' WHERE email = 'l4@example.org';
UPDATE lms.users SET leaderboard_visible = true WHERE id = :eve;
SELECT count(*) > 0 AS refreshed FROM lms.refresh_leaderboards(true);
SELECT * FROM pg_temp.read_mismatches();
SELECT pg_temp.page('global') AS incremental;
SELECT pg_temp.page('course:' || :c, 'month') AS course_month;
-- nothing changed: no board needs a refresh (a second pass settles the marks)
SELECT count(*) >= 0 AS settled FROM lms.refresh_leaderboards(true);
SELECT count(*) AS changed_boards FROM lms.refresh_leaderboards(true);
-- the incrementally maintained boards equal a full rebuild, row for row
CREATE TEMP TABLE incremental_state AS SELECT * FROM pg_temp.board_state();
SELECT count(*) > 0 AS rebuilt FROM lms.refresh_leaderboards();
SELECT (SELECT count(*) FROM (SELECT * FROM incremental_state EXCEPT ALL SELECT * FROM pg_temp.board_state()) a) AS only_incremental,
       (SELECT count(*) FROM (SELECT * FROM pg_temp.board_state() EXCEPT ALL SELECT * FROM incremental_state) b) AS only_full,
       (SELECT count(*) FROM incremental_state WHERE what = 'entry') AS entries;
-- L04 back: on the boards again after a refresh
UPDATE lms.users SET status = 'active' WHERE email = 'l4@example.org';
SELECT count(*) > 0 AS refreshed FROM lms.refresh_leaderboards(true);
SELECT * FROM pg_temp.read_mismatches();
SELECT * FROM lms.recompute_gamification();

-- Display names and levels are copied onto the boards: a rename, and a level-up from points
-- outside the course, reach every board the learner is on with the next refresh.
UPDATE lms.users SET display_name = 'L06 renamed' WHERE email = 'l6@example.org';
SELECT lms.award_points(u.id, 500, 'admin_correction', 'inc:levelup', NULL) IS NOT NULL
  FROM lms.users u WHERE u.email = 'l6@example.org';
SELECT count(*) > 0 AS refreshed FROM lms.refresh_leaderboards(true);
SELECT b.board, p.display_name, p.level, s.level AS overall_level
  FROM (VALUES ('global'), ('course:' || :c)) b(board)
  CROSS JOIN LATERAL lms.leaderboard(b.board, 'all', 1000, 0) p
  JOIN lms.users u ON u.id = p.user_id
  JOIN lms.learner_scores s ON s.user_id = p.user_id
 WHERE u.email = 'l6@example.org' ORDER BY 1;
-- no page row disagrees with the learner's current name and level, and every bucket's count of
-- learners above it is the running sum of the histogram
SELECT count(*) AS stale_rows
  FROM (VALUES ('global'), ('course:' || :c)) b(board)
  CROSS JOIN (VALUES ('all'), ('week'), ('month')) w(win)
  CROSS JOIN LATERAL lms.leaderboard(b.board, w.win, 1000, 0) p
  JOIN lms.users u ON u.id = p.user_id
  LEFT JOIN lms.learner_scores s ON s.user_id = p.user_id
 WHERE (p.display_name, p.level) IS DISTINCT FROM (u.display_name, coalesce(s.level, 1));
SELECT count(*) AS wrong_above
  FROM (SELECT h.above, sum(h.learners) OVER (PARTITION BY h.board, h.win ORDER BY h.points DESC) - h.learners AS want
          FROM lms.board_counts h) x
 WHERE x.above <> x.want;
-- a full rebuild applies a rename it finds logged too
UPDATE lms.users SET display_name = 'L08 renamed' WHERE email = 'l8@example.org';
SELECT count(*) > 0 AS rebuilt FROM lms.refresh_leaderboards();
SELECT b.board, p.display_name
  FROM (VALUES ('global'), ('course:' || :c)) b(board)
  CROSS JOIN LATERAL lms.leaderboard(b.board, 'all', 1000, 0) p
  JOIN lms.users u ON u.id = p.user_id
 WHERE u.email = 'l8@example.org' ORDER BY 1;
SELECT * FROM pg_temp.read_mismatches();
SELECT * FROM lms.recompute_gamification();

-- A pass over every board holds one advisory lock, not one per board: held to the end of the
-- transaction, a lock per board filled the shared lock table at a few thousand courses. (Only
-- the boards' locks are counted: an award also holds its league week's, leagues.c.)
BEGIN;
SELECT count(*) >= 6 AS boards_rebuilt FROM lms.refresh_leaderboards();
SELECT count(*) AS advisory_locks_held FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND classid IN (1280131905, 1280131906);
COMMIT;
BEGIN;
SELECT lms.award_points(u.id, 5, 'admin_correction', 'inc:locks', NULL) IS NOT NULL AS awarded
  FROM lms.users u WHERE u.email = 'l8@example.org';
SELECT count(*) > 0 AS refreshed FROM lms.refresh_leaderboards(true);
SELECT count(*) AS advisory_locks_held FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND classid IN (1280131905, 1280131906);
COMMIT;
-- a single board's refresh on a read shares the pass lock and takes its board's
BEGIN;
SELECT lms.award_points(u.id, 5, 'admin_correction', 'inc:locks2', NULL) IS NOT NULL AS awarded
  FROM lms.users u WHERE u.email = 'l8@example.org';
SET LOCAL lms.leaderboard_refresh_interval = 0;
SELECT count(*) > 0 AS read FROM lms.leaderboard('global', 'all', 5, 0);
SELECT mode, count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND classid IN (1280131905, 1280131906) GROUP BY 1 ORDER BY 1;
COMMIT;
SELECT * FROM pg_temp.read_mismatches();

-- A tie group longer than a page's walk: pages deep inside it seek their first entry by an
-- index-only scan and go on to the lower scores after it. 150 learners on one score, in two
-- halves that share a reached_at each (so the seek lands among equal reached_at), between
-- the scores above and below; every page of 4 at every offset still matches.
SET lms.clock_override = '2026-04-02 12:00:00+00';
SELECT count(lms.create_user('tie' || i || '@example.org', 'password-1', 'Tie ' || i)) AS tied_learners
  FROM generate_series(1, 150) i;
SELECT count(lms.award_points(u.id, 45, 'quiz_passed', 'tie:' || u.id, NULL))
  FROM lms.users u WHERE u.email LIKE 'tie%' AND u.id % 2 = 0;
SET lms.clock_override = '2026-04-02 13:00:00+00';
SELECT count(lms.award_points(u.id, 45, 'quiz_passed', 'tie:' || u.id, NULL))
  FROM lms.users u WHERE u.email LIKE 'tie%' AND u.id % 2 = 1;
SELECT count(*) > 0 AS refreshed FROM lms.refresh_leaderboards(true);
SELECT max(n) AS largest_tie_group,
       (SELECT count(*) FROM pg_temp.expected() e WHERE e.points < 45) > 0 AS scores_below
  FROM (SELECT count(*) AS n FROM pg_temp.expected() GROUP BY points) g;
SELECT * FROM pg_temp.read_mismatches();
-- around=me for the last learner of the group: the page centred on them, ranks shared
SELECT (r.body::jsonb->>'offset')::int = e.pos - 1 - 2 AS centred,
       (SELECT array_agg((i->>'user_id')::bigint) FROM jsonb_array_elements(r.body::jsonb->'items') i)
         = (SELECT array_agg(x.user_id ORDER BY x.pos) FROM pg_temp.expected() x WHERE x.pos BETWEEN e.pos - 2 AND e.pos + 2) AS same_rows
  FROM (SELECT * FROM pg_temp.expected() WHERE points = 45 ORDER BY pos DESC LIMIT 1) e
  JOIN lms.users u ON u.id = e.user_id
  CROSS JOIN LATERAL lms.api_leaderboard_global(pg_temp.login(u.email), NULL, '{"around": "me", "limit": "5"}', NULL) r;

-- A burst of changes since the last pass (5,000 or more: a recalculation, a bulk award) makes
-- the pass build the changed boards in full instead of learner by learner (leaderboard_refresh.c,
-- many_changes); the boards come out as a forced full rebuild makes them, reads agree, and the
-- next pass finds nothing to do
SELECT count(lms.award_points(u.id, 1 + g % 3, 'admin_correction', 'burst:' || g, NULL))
  FROM generate_series(1, 5200) g JOIN lms.users u ON u.email = 'l' || (g % 30 + 1) || '@example.org';
SELECT count(*) > 0 AS refreshed FROM lms.refresh_leaderboards(true);
SELECT count(*) AS changed_boards FROM lms.refresh_leaderboards(true);
CREATE TEMP TABLE burst_state AS SELECT * FROM pg_temp.board_state();
SELECT count(*) > 0 AS rebuilt FROM lms.refresh_leaderboards();
SELECT (SELECT count(*) FROM (SELECT * FROM burst_state EXCEPT ALL SELECT * FROM pg_temp.board_state()) a) AS only_pass,
       (SELECT count(*) FROM (SELECT * FROM pg_temp.board_state() EXCEPT ALL SELECT * FROM burst_state) b) AS only_full;
SELECT * FROM pg_temp.read_mismatches();

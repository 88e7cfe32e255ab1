\i tests/regress/setup.psql
SET lms.leaderboard_refresh_interval = 0;
-- Positions in large tie groups: around=me and deep pages find their place from the hour slots of
-- a tie group (lms.board_slots) and count only within one hour. Every position, page and
-- around=me answer is compared with board order computed naively from lms.board_entries, after a
-- full build and after incremental refreshes that move learners in and out of the groups.

-- 400 learners: 300 tie on 100 points, reaching it over ten hours (30 an hour, in id order within
-- the hour except every third learner, who reaches it at the hour's start); 60 on 200, 40 on 50.
INSERT INTO lms.users (email, password_hash, display_name)
SELECT format('tie%s@example.org', g), (SELECT crypt('password-1', gen_salt('bf', 4))), format('Tie %s', g)
  FROM generate_series(1, 400) g;
CREATE TEMP TABLE l AS
SELECT id, row_number() OVER (ORDER BY id) AS n FROM lms.users WHERE email LIKE 'tie%@example.org';
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT id, n FROM l ORDER BY n LOOP
    PERFORM set_config('lms.clock_override',
      (timestamptz '2026-03-02 08:00:00+00' + ((r.n - 1) % 10) * interval '1 hour'
        + CASE WHEN r.n % 3 = 0 THEN interval '0' ELSE ((r.n * 7) % 50) * interval '1 minute' END)::text, false);
    PERFORM lms.award_points(r.id, CASE WHEN r.n <= 300 THEN 100 WHEN r.n <= 360 THEN 200 ELSE 50 END,
                             'quiz_passed', 'tie:' || r.n);
  END LOOP;
END $$;
SET lms.clock_override = '2026-03-02 20:00:00+00';
SELECT count(*) > 0 AS refreshed FROM lms.refresh_leaderboards();

-- board order, naively; and the checks against it
CREATE FUNCTION pg_temp.naive(board text, win text) RETURNS TABLE (pos bigint, rank bigint, user_id bigint, points bigint)
LANGUAGE sql AS $$
  SELECT row_number() OVER w, rank() OVER (ORDER BY e.points DESC), e.user_id, e.points
    FROM lms.board_entries e WHERE e.board = naive.board AND e.win = naive.win
  WINDOW w AS (ORDER BY e.points DESC, e.reached_at, e.user_id)
$$;
CREATE FUNCTION pg_temp.check_board(board text, win text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  bad_pos int;
  bad_pages int := 0;
  bad_around int := 0;
  off int;
  tok text;
  r record;
  d jsonb;
  biggest bigint;
BEGIN
  SELECT count(*) INTO bad_pos FROM pg_temp.naive(board, win) n, lms.board_me(board, win, n.user_id) m
   WHERE (m.pos, m.rank, m.points) IS DISTINCT FROM (n.pos::int, n.rank::int, n.points);
  FOREACH off IN ARRAY ARRAY[0, 50, 59, 60, 64, 65, 100, 129, 130, 131, 200, 250, 299, 330, 355, 359, 360, 380, 399, 400] LOOP
    SELECT bad_pages + count(*) INTO bad_pages FROM (
      (SELECT rank, user_id, points FROM lms.leaderboard(board, win, 20, off)
       EXCEPT ALL SELECT rank::int, user_id, points FROM pg_temp.naive(board, win) WHERE pos > off AND pos <= off + 20)
      UNION ALL
      (SELECT rank::int, user_id, points FROM pg_temp.naive(board, win) WHERE pos > off AND pos <= off + 20
       EXCEPT ALL SELECT rank, user_id, points FROM lms.leaderboard(board, win, 20, off))) x;
  END LOOP;
  -- around=me through the route, for every 7th learner: the page starts where the naive order says
  FOR r IN SELECT n.* FROM pg_temp.naive(board, win) n WHERE n.pos % 7 = 1 LOOP
    tok := lms.new_token();
    INSERT INTO lms.sessions (token_hash, user_id, expires_at) VALUES (lms.token_hash(tok), r.user_id, lms.clock() + interval '1 day');
    d := (lms.board_answer(tok, board, jsonb_build_object('window', win, 'around', 'me', 'limit', '11'))).body::jsonb;
    IF (d->>'offset')::bigint <> greatest(0, least(r.pos - 1 - 5, (d->>'total')::bigint - 11))
       OR NOT (d->'items') @> jsonb_build_array(jsonb_build_object('user_id', r.user_id, 'rank', r.rank))
       OR (d->'items'->0->>'user_id')::bigint IS DISTINCT FROM
          (SELECT n.user_id FROM pg_temp.naive(board, win) n WHERE n.pos = (d->>'offset')::bigint + 1) THEN
      bad_around := bad_around + 1;
    END IF;
  END LOOP;
  SELECT max(n) INTO biggest FROM (SELECT count(*) AS n FROM lms.board_entries e
                                    WHERE e.board = check_board.board AND e.win = check_board.win GROUP BY e.points) g;
  RETURN format('%s:%s largest tie group %s: positions wrong %s, pages wrong %s, around=me wrong %s',
                board, win, biggest, bad_pos, bad_pages, bad_around);
END $$;
CREATE FUNCTION pg_temp.slots_match() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM (SELECT e.board, e.win, e.points, lms.hour_of(e.reached_at) AS slot, count(*) AS n
                          FROM lms.board_entries e GROUP BY 1, 2, 3, 4) x
  FULL JOIN lms.board_slots s ON s.board = x.board AND s.win = x.win AND s.points = x.points AND s.slot = x.slot
  WHERE coalesce(s.learners, 0) <> coalesce(x.n, 0)
$$;

-- after the full build
SELECT pg_temp.check_board('global', 'all');
SELECT pg_temp.check_board('global', 'week');
SELECT pg_temp.slots_match() AS slot_mismatches;
SELECT count(*) AS slots_of_the_tie FROM lms.board_slots WHERE board = 'global' AND win = 'all' AND points = 100;

-- incremental refreshes: 40 learners leave the tie (to 150), 30 join it (50 -> 100) at a later
-- hour, 10 join from nowhere; a learner hides from the boards
SET lms.clock_override = '2026-03-02 21:10:00+00';
SELECT count(lms.award_points(id, 50, 'quiz_passed', 'up:' || n)) FROM l WHERE n % 7 = 2 AND n <= 280;
SET lms.clock_override = '2026-03-02 22:20:00+00';
SELECT count(lms.award_points(id, 50, 'quiz_passed', 'join:' || n)) FROM l WHERE n > 370;
UPDATE lms.users SET leaderboard_visible = false WHERE id = (SELECT id FROM l WHERE n = 150);
SELECT count(*) > 0 AS refreshed FROM lms.refresh_leaderboards(true);
SELECT pg_temp.check_board('global', 'all');
SELECT pg_temp.check_board('global', 'week');
SELECT pg_temp.slots_match() AS slot_mismatches;

-- with the board's pages all-visible (after VACUUM) positions and deep pages are counted from the
-- index alone (extension/direct.c, lms_scan_next_index_only); then one learner moves, so that some
-- pages are all-visible and some not: every answer still agrees with the naive order
VACUUM lms.board_entries;
SELECT relallvisible > 0 AS pages_all_visible FROM pg_class WHERE oid = 'lms.board_entries'::regclass;
SELECT pg_temp.check_board('global', 'all');
SELECT pg_temp.check_board('global', 'week');
SET lms.clock_override = '2026-03-02 23:30:00+00';
SELECT count(lms.award_points(id, 5, 'quiz_passed', 'late:' || n)) FROM l WHERE n IN (3, 33, 303);
SELECT count(*) > 0 AS refreshed FROM lms.refresh_leaderboards(true);
SELECT pg_temp.check_board('global', 'all');
SELECT pg_temp.check_board('global', 'week');

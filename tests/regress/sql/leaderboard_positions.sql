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
  -- the naive order once (the loops below read it thousands of times)
  CREATE TEMP TABLE nv ON COMMIT DROP AS SELECT * FROM pg_temp.naive(board, win);
  CREATE INDEX ON nv (pos);
  SELECT count(*) INTO bad_pos FROM nv n, lms.board_me(board, win, n.user_id) m
   WHERE (m.pos, m.rank, m.points) IS DISTINCT FROM (n.pos::int, n.rank::int, n.points);
  FOREACH off IN ARRAY ARRAY[0, 50, 59, 60, 64, 65, 100, 129, 130, 131, 200, 250, 299, 330, 355, 359, 360, 380, 399, 400,
                            1000, 1191, 1192, 1193, 1500, 2590, 2600, 2990] LOOP
    SELECT bad_pages + count(*) INTO bad_pages FROM (
      (SELECT rank, user_id, points FROM lms.leaderboard(board, win, 20, off)
       EXCEPT ALL SELECT rank::int, user_id, points FROM nv WHERE pos > off AND pos <= off + 20)
      UNION ALL
      (SELECT rank::int, user_id, points FROM nv WHERE pos > off AND pos <= off + 20
       EXCEPT ALL SELECT rank, user_id, points FROM lms.leaderboard(board, win, 20, off))) x;
  END LOOP;
  -- around=me through the route, for every 7th learner: the page starts where the naive order says
  FOR r IN SELECT n.* FROM nv n WHERE n.pos % 7 = 1 LOOP
    tok := lms.new_token();
    INSERT INTO lms.sessions (token_hash, user_id, expires_at) VALUES (lms.token_hash(tok), r.user_id, lms.clock() + interval '1 day');
    d := (lms.board_answer(tok, board, jsonb_build_object('window', win, 'around', 'me', 'limit', '11'))).body::jsonb;
    IF (d->>'offset')::bigint <> greatest(0, least(r.pos - 1 - 5, (d->>'total')::bigint - 11))
       OR NOT (d->'items') @> jsonb_build_array(jsonb_build_object('user_id', r.user_id, 'rank', r.rank))
       OR (d->'items'->0->>'user_id')::bigint IS DISTINCT FROM
          (SELECT n.user_id FROM nv n WHERE n.pos = (d->>'offset')::bigint + 1) THEN
      bad_around := bad_around + 1;
    END IF;
  END LOOP;
  SELECT max(n) INTO biggest FROM (SELECT count(*) AS n FROM lms.board_entries e
                                    WHERE e.board = check_board.board AND e.win = check_board.win GROUP BY e.points) g;
  DROP TABLE nv;
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

-- One-instant tie groups of thousands (a recalculation or a bulk grant stamps one instant on every
-- learner it reaches) are split by user id (lms.board_parts): a position sums the parts before the
-- learner's and walks one part, not the group. 2,600 learners on 1,000 points, ids spread over
-- ~138,000: 1,084 reach it at 09:30:00 in one statement, 1,300 at 09:50:00 in another, 108 at
-- their own instants before 09:30 and 108 between the two.
INSERT INTO lms.users (id, email, password_hash, display_name)
SELECT 3000000 + g * 53, format('big%s@example.org', g), (SELECT crypt('password-1', gen_salt('bf', 4))), format('Big %s', g)
  FROM generate_series(1, 2600) g;
CREATE TEMP TABLE big AS
SELECT id, row_number() OVER (ORDER BY id) AS n FROM lms.users WHERE email LIKE 'big%@example.org';
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT id, n FROM big WHERE n % 12 = 0 ORDER BY n LOOP
    PERFORM set_config('lms.clock_override',
      (timestamptz '2026-03-03 09:00:00+00' + CASE WHEN r.n % 24 = 0 THEN interval '5 minutes' ELSE interval '31 minutes' END
        + (r.n / 24) * interval '100 milliseconds')::text, false);
    PERFORM lms.award_points(r.id, 1000, 'quiz_passed', 'big:' || r.n);
  END LOOP;
END $$;
SET lms.clock_override = '2026-03-03 09:30:00+00';
SELECT count(lms.award_points(id, 1000, 'quiz_passed', 'big:' || n)) FROM big WHERE n % 12 <> 0 AND n % 2 = 0;
SET lms.clock_override = '2026-03-03 09:50:00+00';
SELECT count(lms.award_points(id, 1000, 'quiz_passed', 'big:' || n)) FROM big WHERE n % 2 = 1;
SET lms.clock_override = '2026-03-03 10:00:00+00';
SELECT count(*) > 0 AS refreshed FROM lms.refresh_leaderboards();

CREATE FUNCTION pg_temp.parts_match() RETURNS text LANGUAGE sql AS $$
  SELECT format('split groups %s, parts %s, mismatched %s, big groups unsplit %s',
    (SELECT count(DISTINCT (board, win, points, reached_at)) FROM lms.board_parts),
    (SELECT count(*) FROM lms.board_parts),
    (SELECT count(*) FROM (SELECT e.board, e.win, e.points, e.reached_at, e.user_id >> g.shift AS part, count(*) AS n
                             FROM lms.board_entries e
                             JOIN (SELECT DISTINCT board, win, points, reached_at, shift FROM lms.board_parts) g
                               ON g.board = e.board AND g.win = e.win AND g.points = e.points AND g.reached_at = e.reached_at
                            GROUP BY 1, 2, 3, 4, 5) x
       FULL JOIN lms.board_parts p USING (board, win, points, reached_at, part)
      WHERE coalesce(p.learners, 0) <> coalesce(x.n, 0)),
    (SELECT count(*) FROM (SELECT board, win, points, reached_at FROM lms.board_entries
                            GROUP BY 1, 2, 3, 4 HAVING count(*) >= 1024) g
      WHERE NOT EXISTS (SELECT FROM lms.board_parts p WHERE (p.board, p.win, p.points, p.reached_at)
                                                          = (g.board, g.win, g.points, g.reached_at))))
$$;
-- the index entries of board order one call reads (from the statistics the backend flushes)
CREATE FUNCTION pg_temp.in_order_reads() RETURNS bigint LANGUAGE sql AS $$
  SELECT pg_stat_clear_snapshot();
  SELECT idx_tup_read FROM pg_stat_user_indexes WHERE indexrelname = 'board_entries_in_order'
$$;

SELECT pg_temp.parts_match();
SELECT pg_temp.check_board('global', 'all');
SELECT pg_temp.check_board('global', 'week');
SELECT pg_temp.check_board('global', 'month');
-- the last learner of the 09:50 group, behind 2,599 learners of its hour: a few hundred entries read
SELECT pg_stat_force_next_flush();
SELECT pg_temp.in_order_reads() AS reads_before \gset
SELECT pos > 2300 AS deep_in_the_group FROM lms.board_me('global', 'all', (SELECT max(id) FROM big WHERE n % 2 = 1));
SELECT pg_stat_force_next_flush();
SELECT pg_temp.in_order_reads() - :reads_before < 500 AS few_entries_read;

-- incremental refreshes: 233 of the 09:30 group move up, 200 newcomers reach 1,000 at 09:30:00
-- exactly (they join the split instant), every learner of the 09:50 group moves up (its parts
-- empty and go), and 1,100 reach it at 10:15:00 (a group split by an incremental refresh)
INSERT INTO lms.users (id, email, password_hash, display_name)
SELECT 3200000 + g * 61, format('late%s@example.org', g), (SELECT crypt('password-1', gen_salt('bf', 4))), format('Late %s', g)
  FROM generate_series(1, 1300) g;
INSERT INTO big SELECT id, 10000 + row_number() OVER (ORDER BY id) FROM lms.users WHERE email LIKE 'late%@example.org';
SET lms.clock_override = '2026-03-03 10:05:00+00';
SELECT count(lms.award_points(id, 5, 'quiz_passed', 'bigup:' || n)) FROM big WHERE n % 12 <> 0 AND n % 2 = 0 AND n % 7 = 0;
SELECT count(lms.award_points(id, 5, 'quiz_passed', 'bigup:' || n)) FROM big WHERE n % 2 = 1 AND n < 10000;
SET lms.clock_override = '2026-03-03 09:30:00+00';
SELECT count(lms.award_points(id, 1000, 'quiz_passed', 'big:' || n)) FROM big WHERE n > 10000 AND n <= 10200;
SELECT count(*) > 0 AS refreshed FROM lms.refresh_leaderboards(true);
SET lms.clock_override = '2026-03-03 10:15:00+00';
SELECT count(lms.award_points(id, 1000, 'quiz_passed', 'big:' || n)) FROM big WHERE n > 10200;
SELECT count(*) > 0 AS refreshed FROM lms.refresh_leaderboards(true);
SELECT pg_temp.parts_match();
SELECT count(*) AS parts_of_the_0950_group FROM lms.board_parts WHERE reached_at = '2026-03-03 09:50:00+00';
SELECT pg_temp.check_board('global', 'all');
SELECT pg_temp.check_board('global', 'week');

-- A burst of logged user changes (renames here; a recalculation's level-ups alike) is applied by
-- each board probing the changes of its own learners: a course board of 20 learners rebuilt
-- after 20,000 changes reads a few thousand of them (the count that decides the full build stops
-- at 5,000), not all 20,000 (at 1M learners 1,173,025 logged level-ups made each of 6,003 boards
-- hash all of them).
INSERT INTO lms.courses (slug, title, instructor_id, is_published)
VALUES ('burst', 'Burst', (SELECT id FROM l WHERE n = 1), true) RETURNING id AS c_burst \gset
SELECT count(lms.award_points(id, 10, 'quiz_passed', 'burst:' || n, :c_burst)) FROM l WHERE n <= 20;
SELECT count(*) AS course_board_entries FROM lms.leaderboard('course:' || :c_burst, 'all', 100, 0);
DO $$
BEGIN
  FOR i IN 1..50 LOOP
    UPDATE lms.users SET display_name = format('Tie %s v%s', substr(email, 4, strpos(email, '@') - 4), i)
     WHERE email LIKE 'tie%@example.org';
  END LOOP;
END $$;
SELECT count(*) >= 20000 AS changes_logged FROM lms.board_user_changes;
CREATE FUNCTION pg_temp.change_reads() RETURNS bigint LANGUAGE sql AS $$
  SELECT pg_stat_clear_snapshot();
  SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables
   WHERE relid = 'lms.board_user_changes'::regclass
$$;
SELECT pg_stat_force_next_flush();
SELECT pg_temp.change_reads() AS change_reads_before \gset
SELECT count(*) AS course_board_entries FROM lms.leaderboard('course:' || :c_burst, 'all', 100, 0);
SELECT pg_stat_force_next_flush();
SELECT pg_temp.change_reads() - :change_reads_before AS change_reads \gset
SELECT :change_reads < 10000 AS few_changes_read;
SELECT count(*) AS stale_names FROM lms.board_entries e JOIN lms.users u ON u.id = e.user_id
 WHERE e.board = 'course:' || :c_burst AND e.win = 'all' AND e.display_name <> u.display_name;

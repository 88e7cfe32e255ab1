-- Weekly leagues (docs/gamification.md#weekly-leagues): tiers and settings, joining a cohort
-- with the first points of a week, the weekly rollover (exactly once per week), the learner's
-- routes and the admin's. Tables: 93_league_schema.sql; the ledger trigger, the week rule and
-- the week lock: extension/leagues.c.

-- The Monday (UTC) of the week holding an instant: league weeks are calendar weeks in UTC,
-- like the boards' week window.
CREATE FUNCTION lms.league_week(at timestamptz) RETURNS date
  AS 'MODULE_PATHNAME', 'lms_league_week' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The week's lock until commit: 'shared' (a writer of the week), 'try_shared' (false instead
-- of waiting) or 'exclusive' (its rollover, which so waits for the writers still running).
CREATE FUNCTION lms.league_lock(week date, how text) RETURNS boolean
  AS 'MODULE_PATHNAME', 'lms_league_lock' LANGUAGE C VOLATILE STRICT;

-- True while the statement running is a COPY (pg_restore, a bulk load): the triggers that keep
-- leagues and group ladders count no events then (the restored tables come back as dumped).
CREATE FUNCTION lms.loading() RETURNS boolean
  AS 'MODULE_PATHNAME', 'lms_loading_sql' LANGUAGE C VOLATILE;

-- Counts every ledger row into the learner's league week (extension/leagues.c), once per
-- statement with its new rows; rows loaded by COPY are not counted.
CREATE FUNCTION lms.league_count_points() RETURNS trigger
  AS 'MODULE_PATHNAME', 'lms_league_count_points' LANGUAGE C;
CREATE TRIGGER points_ledger_league
  AFTER INSERT ON lms.points_ledger
  REFERENCING NEW TABLE AS ledger_new
  FOR EACH STATEMENT EXECUTE FUNCTION lms.league_count_points();

-- The ten tiers an install starts with, Bronze to Diamond: the top 10 of a cohort move up in the
-- lower tiers, 7 in the middle ones, 5 near the top; from rank 26 on (the last 5 of a full
-- cohort) learners move down, except in Bronze, and nobody leaves Diamond upwards.
CREATE FUNCTION lms.league_default_tiers() RETURNS SETOF lms.league_tiers
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT v.tier, v.name, v.promote_top, v.demote_from
    FROM (VALUES (1, 'Bronze', 10, NULL::int), (2, 'Silver', 10, 26), (3, 'Gold', 10, 26),
                 (4, 'Sapphire', 7, 26), (5, 'Ruby', 7, 26), (6, 'Emerald', 7, 26),
                 (7, 'Amethyst', 5, 26), (8, 'Pearl', 5, 26), (9, 'Obsidian', 5, 26),
                 (10, 'Diamond', 0, 26)) AS v(tier, name, promote_top, demote_from)
$$;

-- The tier table in force: the admin's, or the default one while the admin has set none.
CREATE FUNCTION lms.league_tier_table() RETURNS SETOF lms.league_tiers
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT t.* FROM lms.league_tiers t
  UNION ALL
  SELECT d.* FROM lms.league_default_tiers() d WHERE NOT EXISTS (SELECT FROM lms.league_tiers)
$$;

-- A league setting: cohort_size (30), inactive_grace_weeks (1), join_slots (4).
CREATE FUNCTION lms.league_setting(setting text) RETURNS int
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT coalesce((SELECT s.value FROM lms.league_settings s WHERE s.name = setting),
                  CASE setting WHEN 'cohort_size' THEN 30 WHEN 'inactive_grace_weeks' THEN 1
                               WHEN 'join_slots' THEN 4 END)
$$;

-- The inactive-learner rule. The tier a learner starts a week in: the tier their last league
-- week gave them (tier 1 for a newcomer), one tier lower for every whole week without points
-- beyond `grace` such weeks, never below 1 nor above the top tier. NULL while that last week
-- has not been rolled over (the learner waits for the rollover).
CREATE FUNCTION lms.league_start_tier(last_new_tier int, last_week date, week date, grace int, top int)
RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN last_week IS NULL THEN 1
            WHEN last_new_tier IS NULL THEN NULL
            ELSE greatest(1, least(top, last_new_tier - greatest(0, (week - last_week) / 7 - 1 - grace))) END;

-- The zone of a rank in a cohort of a tier: 'promotion' for ranks 1..promote_top with points
-- above 0 below the top tier, 'demotion' from rank demote_from above tier 1, else NULL. The
-- rollover turns the zones into outcomes; GET /leagues/me shows them live.
CREATE FUNCTION lms.league_zone(rank int, points bigint, tier int, top int, promote_top int, demote_from int)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN rank IS NULL THEN NULL
            WHEN tier < top AND rank <= promote_top AND points > 0 THEN 'promotion'
            WHEN tier > 1 AND rank >= demote_from THEN 'demotion' END;

-- The standings of one cohort: its members the boards show (hidden and suspended learners are
-- left out), ranked by points, then by who reached them first, then user id: ranks 1, 2, 3 ...
-- (no shared ranks: the zones need an order). The one ranking of the leagues: the rollover
-- ranks every cohort through it.
CREATE FUNCTION lms.league_cohort_standings(cohort bigint)
RETURNS TABLE (rank int, user_id bigint, display_name text, points bigint, reached_at timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT (row_number() OVER (ORDER BY m.points DESC, m.reached_at, m.user_id))::int,
         m.user_id, u.display_name, m.points, m.reached_at
    FROM lms.league_members m JOIN lms.users u ON u.id = m.user_id
   WHERE m.cohort_id = cohort AND u.status = 'active' AND u.leaderboard_visible
$$;

-- Where a learner's next week starts: the start tier (NULL: waiting for a rollover) and the
-- week that decides it. PL/pgSQL, like lms.league_cohort_for below, for its kept plan: a SQL
-- function called from PL/pgSQL is parsed and planned again on every call, which made most of
-- the cost of a first join and of GET /leagues/me.
CREATE FUNCTION lms.league_entry(uid bigint, wk date, OUT tier int, OUT last_week date, OUT last_final boolean)
RETURNS record
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
  SELECT lms.league_start_tier(p.new_tier, p.week, wk, lms.league_setting('inactive_grace_weeks'),
                               (SELECT max(x.tier) FROM lms.league_tier_table() x)),
         p.week, p.outcome IS NOT NULL
    INTO tier, last_week, last_final
    FROM (SELECT NULL) AS one
    LEFT JOIN LATERAL (SELECT m.week, m.new_tier, m.outcome FROM lms.league_members m
                        WHERE m.user_id = uid AND m.week < wk ORDER BY m.week DESC LIMIT 1) p ON true;
END
$$;

-- A place in an open cohort of (week, tier, the learner's slot), or a new cohort when none is
-- open; a cohort closes when it is full, so it never holds more than its capacity.
CREATE FUNCTION lms.league_cohort_for(wk date, t int, uid bigint) RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  cohort bigint;
BEGIN
  INSERT INTO lms.league_cohorts AS c (week, tier, tier_name, slot, capacity, size, is_open)
  SELECT wk, t, (SELECT x.name FROM lms.league_tier_table() x WHERE x.tier = t),
         (uid % greatest(1, lms.league_setting('join_slots')))::int,
         lms.league_setting('cohort_size'), 1, true
  ON CONFLICT (week, tier, slot) WHERE is_open
  DO UPDATE SET size = c.size + 1, is_open = c.size + 1 < c.capacity
  RETURNING c.id INTO cohort;
  RETURN cohort;
END
$$;

-- The first points of a week (the ledger trigger found no open row of the learner's for it):
-- the rules of joining, without the placing. Points dated in a week already rolled over count
-- for the following week. A week is joined with points above 0 by a learner the boards show.
-- When this call made the learner's row of the week and their start tier is known, returns
-- the week and that tier (lms.league_place gives the row its cohort); else NULLs: the points
-- went to a row that exists, nothing was joined, or the learner waits (no cohort yet) while
-- the week that decides their tier has not been rolled over (lms.league_place_waiting places
-- them after it).
CREATE FUNCTION lms.league_enter(uid bigint, wk date, pts bigint, at timestamptz,
                                 OUT join_week date, OUT join_tier int)
RETURNS record
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  inserted boolean;
  e record;
BEGIN
  IF EXISTS (SELECT FROM lms.league_weeks w WHERE w.week = wk) THEN
    wk := wk + 7;
    PERFORM lms.league_lock(wk, 'shared');
    UPDATE lms.league_members m SET points = m.points + pts, reached_at = greatest(m.reached_at, at)
     WHERE m.user_id = uid AND m.week = wk AND m.outcome IS NULL;
    IF FOUND OR EXISTS (SELECT FROM lms.league_weeks w WHERE w.week = wk) THEN
      RETURN;
    END IF;
  END IF;
  IF pts <= 0 OR NOT EXISTS (SELECT FROM lms.users u
                              WHERE u.id = uid AND u.status = 'active' AND u.leaderboard_visible) THEN
    RETURN;
  END IF;
  -- a concurrent first award of the same learner waits here and adds its points to this row
  INSERT INTO lms.league_members AS m (user_id, week, points, reached_at, joined_at)
  VALUES (uid, wk, pts, at, at)
  ON CONFLICT (user_id, week) DO UPDATE
    SET points = m.points + EXCLUDED.points, reached_at = greatest(m.reached_at, EXCLUDED.reached_at)
    WHERE m.outcome IS NULL
  RETURNING (m.xmax = 0) INTO inserted;
  IF NOT coalesce(inserted, false) THEN
    RETURN;
  END IF;

  SELECT * INTO e FROM lms.league_entry(uid, wk);
  IF e.tier IS NULL THEN
    -- the last week is not rolled over: hold its lock so its rollover sees this row and places
    -- it; while that rollover runs, the row waits for the next lms.league_place_waiting
    IF NOT lms.league_lock(e.last_week, 'try_shared') THEN
      RETURN;
    END IF;
    SELECT * INTO e FROM lms.league_entry(uid, wk);
  END IF;
  join_week := wk;
  join_tier := e.tier;
END
$$;

-- Give learners without a cohort a place in cohorts of their tier (arrays of user, week and
-- tier, in the order they joined). For each week and tier, in that order: whole cohorts of
-- cohort_size at once, formed full and closed, then the rest (fewer than a cohort) one by one
-- into the open cohorts of their slot (lms.league_cohort_for), as a single joiner is placed.
-- Many joiners in one transaction so write each cohort row once: placed one by one, each
-- would update the open cohort of their tier and slot and re-check every version of it this
-- transaction wrote (a cost in the square of their number). The callers own the rows they
-- place: rows their transaction inserted, or (lms.league_place_waiting) rows it alone places.
-- Returns the learners placed.
CREATE FUNCTION lms.league_place(uids bigint[], wks date[], tiers int[]) RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  cap int;
  n bigint := 0;
BEGIN
  IF cardinality(uids) >= 2 THEN
    cap := lms.league_setting('cohort_size');
  END IF;
  IF cardinality(uids) >= cap THEN
    -- each learner's row looked up by its key (OFFSET 0 keeps the lookup per learner): planned as
    -- a join from statistics that know none of this week's rows, the week's members were read
    -- for each learner (seen at 1M)
    WITH todo AS (
      SELECT x.user_id, x.week, x.tier, m.joined_at
        FROM unnest(uids, wks, tiers) AS x(user_id, week, tier)
        CROSS JOIN LATERAL (SELECT l.joined_at FROM lms.league_members l
                             WHERE l.user_id = x.user_id AND l.week = x.week AND l.tier IS NULL OFFSET 0) m),
    ordered AS (
      SELECT t.*, row_number() OVER w - 1 AS i, count(*) OVER (PARTITION BY t.week, t.tier) AS cnt
        FROM todo t WINDOW w AS (PARTITION BY t.week, t.tier ORDER BY t.joined_at, t.user_id)),
    whole AS (
      SELECT o.user_id, o.week, o.tier, o.i / cap AS chunk FROM ordered o WHERE o.i < o.cnt / cap * cap),
    chunks AS (
      SELECT w.week, w.tier, w.chunk, count(*)::int AS size, nextval('lms.league_cohorts_id_seq') AS id
        FROM whole w GROUP BY w.week, w.tier, w.chunk),
    made AS (
      INSERT INTO lms.league_cohorts (id, week, tier, tier_name, slot, capacity, size, is_open)
      SELECT c.id, c.week, c.tier, t.name, -1, cap, c.size, false
        FROM chunks c JOIN lms.league_tier_table() t ON t.tier = c.tier)
    UPDATE lms.league_members m SET cohort_id = c.id, tier = w.tier
      FROM whole w JOIN chunks c ON (c.week, c.tier, c.chunk) = (w.week, w.tier, w.chunk)
     WHERE m.user_id = w.user_id AND m.week = w.week;
    GET DIAGNOSTICS n = ROW_COUNT;
  END IF;

  -- the rest: those the statement above left without a cohort. "tier IS NULL" is "cohort_id IS
  -- NULL" (a CHECK of the table) in a form the partial index of waiting learners does not match:
  -- planned from statistics that do not know this transaction's joiners, a lookup by that index
  -- would read every one of them, for each of them (seen at 100,000 joiners in one statement)
  FOR i IN 1 .. coalesce(cardinality(uids), 0) LOOP
    UPDATE lms.league_members m SET cohort_id = lms.league_cohort_for(wks[i], tiers[i], uids[i]), tier = tiers[i]
     WHERE m.user_id = uids[i] AND m.week = wks[i] AND m.tier IS NULL;
    IF FOUND THEN
      n := n + 1;
    END IF;
  END LOOP;
  RETURN n;
END
$$;

-- The ledger trigger's count of a statement's rows (arrays of user, week, points and instant,
-- one element per ledger row counted; a statement of one row whose learner is in the week
-- already has its UPDATE done in extension/leagues.c): each learner's rows of a week count together, in the order
-- they earned: added to their open row of the week by its key, or else the rules of
-- lms.league_enter; the learners who join are placed together (lms.league_place). So one
-- statement giving a million learners their first points of a week costs in proportion to
-- their number. Row by row, by the key, on purpose: joined set-based with the members, the
-- plan depends on statistics that know none of this week's rows (seen at 1M: a nested loop
-- recomputing the statement's sums for every member of the week).
CREATE FUNCTION lms.league_count_many(uids bigint[], wks date[], pts bigint[], ats timestamptz[])
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r record;
  e record;
  pu bigint[] := '{}';
  pw date[] := '{}';
  pt int[] := '{}';
BEGIN
  FOR r IN SELECT x.user_id, x.week, sum(x.points)::bigint AS pts, max(x.at) AS at
             FROM unnest(uids, wks, pts, ats) AS x(user_id, week, points, at)
            GROUP BY x.user_id, x.week
            ORDER BY min(x.at), x.user_id
  LOOP
    UPDATE lms.league_members m SET points = m.points + r.pts, reached_at = greatest(m.reached_at, r.at)
     WHERE m.user_id = r.user_id AND m.week = r.week AND m.outcome IS NULL;
    CONTINUE WHEN FOUND;
    e := lms.league_enter(r.user_id, r.week, r.pts, r.at);
    IF e.join_tier IS NOT NULL THEN
      pu := array_append(pu, r.user_id);
      pw := array_append(pw, e.join_week);
      pt := array_append(pt, e.join_tier);
    END IF;
  END LOOP;
  PERFORM lms.league_place(pu, pw, pt);
END
$$;

-- Place every learner waiting for a rollover whose deciding week has been rolled over
-- (lms.league_place, in the order they joined). Few learners wait: those whose first points
-- of a week came between its start and the previous week's rollover. One session places them
-- at a time: a read finding another one at it returns 0 at once (that one places them); the
-- rollover (wait) waits for it, so that the week it ranks has its waiting learners placed.
-- Returns the learners placed.
CREATE FUNCTION lms.league_place_waiting(wait boolean DEFAULT false) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF wait THEN
    PERFORM pg_catalog.pg_advisory_xact_lock(1280136025);
  ELSIF NOT pg_catalog.pg_try_advisory_xact_lock(1280136025) THEN
    RETURN 0;
  END IF;
  RETURN (SELECT coalesce(lms.league_place(array_agg(m.user_id ORDER BY m.week, m.joined_at, m.user_id),
                                           array_agg(m.week ORDER BY m.week, m.joined_at, m.user_id),
                                           array_agg(e.tier ORDER BY m.week, m.joined_at, m.user_id)), 0)
            FROM lms.league_members m CROSS JOIN LATERAL lms.league_entry(m.user_id, m.week) e
           WHERE m.cohort_id IS NULL AND e.tier IS NOT NULL);
END
$$;

-- Form a week's league from the ledger at once (default: the current week): every learner the
-- boards show with league points in the week (a row above 0) and no league row yet gets one,
-- with the week's points, and, when their start tier is known, a place in cohorts of their
-- tier (lms.league_place: whole cohorts in the order they joined). For an update from 1.0 in the middle of a
-- week, and for rows written with the trigger off (a bulk load under
-- session_replication_role = replica). Returns the learners added.
CREATE FUNCTION lms.league_rebuild(week date DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  wk date := coalesce(league_rebuild.week, lms.league_week(lms.clock()));
  n bigint;
BEGIN
  PERFORM lms.league_lock(wk, 'exclusive');   -- no writer of the week meanwhile
  IF EXISTS (SELECT FROM lms.league_weeks w WHERE w.week = wk) THEN
    RAISE EXCEPTION 'league week % is already rolled over', wk
      USING ERRCODE = 'object_not_in_prerequisite_state', DETAIL = 'A week''s results never change after its rollover.';
  END IF;
  INSERT INTO lms.league_members (user_id, week, points, reached_at, joined_at)
  SELECT l.user_id, wk, sum(l.points), max(l.created_at), min(l.created_at) FILTER (WHERE l.points > 0)
    FROM lms.points_ledger l JOIN lms.users u ON u.id = l.user_id
   WHERE l.created_at >= wk::timestamp AT TIME ZONE 'UTC' AND l.created_at < (wk + 7)::timestamp AT TIME ZONE 'UTC'
     AND lms.reason_in_period(l.reason) AND u.status = 'active' AND u.leaderboard_visible
     AND NOT EXISTS (SELECT FROM lms.league_members m WHERE m.user_id = l.user_id AND m.week = wk)
   GROUP BY l.user_id
  HAVING bool_or(l.points > 0);
  GET DIAGNOSTICS n = ROW_COUNT;
  -- statistics that know these rows for the placing's statements (lms.league_place): planned
  -- from statistics taken before them (none, for a first week), the former placing here nested
  -- a loop over them inside a loop over them, hours at 100,000 learners
  IF n >= 1000 THEN
    ANALYZE lms.league_members;
  END IF;

  -- their places, for those whose start tier is known
  PERFORM lms.league_place(array_agg(w.user_id ORDER BY w.joined_at, w.user_id), array_agg(w.week ORDER BY w.joined_at, w.user_id),
                           array_agg(e.tier ORDER BY w.joined_at, w.user_id))
     FROM lms.league_members w CROSS JOIN LATERAL lms.league_entry(w.user_id, w.week) e
    WHERE w.week = wk AND w.cohort_id IS NULL AND e.tier IS NOT NULL;
  RETURN n;
END
$$;

-- The weeks that have cohorts, have ended and are not rolled over yet, oldest first: a walk
-- down the cohorts' week index from the current week that stops at the first week rolled
-- over (weeks are rolled over in order), so it reads a handful of index entries.
CREATE FUNCTION lms.league_weeks_due() RETURNS SETOF date
LANGUAGE sql STABLE
AS $$
  WITH RECURSIVE due AS (
    SELECT (SELECT c.week FROM lms.league_cohorts c WHERE c.week < lms.league_week(lms.clock())
             ORDER BY c.week DESC LIMIT 1) AS week
    UNION ALL
    SELECT (SELECT c.week FROM lms.league_cohorts c WHERE c.week < due.week ORDER BY c.week DESC LIMIT 1)
      FROM due WHERE due.week IS NOT NULL AND NOT EXISTS (SELECT FROM lms.league_weeks w WHERE w.week = due.week))
  SELECT d.week FROM due d
   WHERE d.week IS NOT NULL AND NOT EXISTS (SELECT FROM lms.league_weeks w WHERE w.week = d.week)
   ORDER BY d.week
$$;

-- The weekly rollover: every week that has ended and is not rolled over yet, oldest first, is
-- ranked once: each member the boards show gets a rank in their cohort, an outcome (promoted,
-- stayed, demoted, by the zones of the tier table) and the tier of their next week; hidden and
-- suspended members are 'excluded' and keep their tier. Exactly once per week, however many
-- start it at once (the worker, a read, an admin): the week's row is inserted first (a
-- concurrent rollover waits on that insert, then finds the week done), then the week's lock is
-- taken exclusively, so writers of the week still running finish first and later ones count
-- for the next week (extension/leagues.c). Then the learners who waited for it get their
-- cohorts. Returns one row per week rolled over.
CREATE FUNCTION lms.league_rollover()
RETURNS TABLE (week date, members bigint, promoted bigint, demoted bigint, took_ms bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  w date;
  t0 timestamptz;
  top int;
BEGIN
  FOR w IN SELECT d FROM lms.league_weeks_due() d LOOP
    INSERT INTO lms.league_weeks AS x (week, rolled_over_at) VALUES (w, lms.clock()) ON CONFLICT DO NOTHING;
    CONTINUE WHEN NOT FOUND;     -- a concurrent rollover did it
    PERFORM lms.league_lock(w, 'exclusive');
    t0 := clock_timestamp();
    PERFORM lms.league_place_waiting(true);
    -- statistics that know the week's rows (a week's members may all be newer than the last
    -- automatic ANALYZE): the ranking below joins them with themselves and must hash, not nest
    ANALYZE lms.league_members;
    SELECT max(t.tier) INTO top FROM lms.league_tier_table() t;

    WITH ranked AS (
      -- each cohort ranked once
      SELECT s.user_id, s.rank FROM lms.league_cohorts c
       CROSS JOIN LATERAL lms.league_cohort_standings(c.id) s WHERE c.week = w),
    decided AS (
      SELECT m.user_id, r.rank, least(m.tier, top) AS tier,
             CASE WHEN r.rank IS NULL THEN 'excluded' ELSE
               coalesce(CASE lms.league_zone(r.rank, m.points, least(m.tier, top), top, t.promote_top, t.demote_from)
                          WHEN 'promotion' THEN 'promoted' WHEN 'demotion' THEN 'demoted' END, 'stayed') END AS outcome
        FROM lms.league_members m
        LEFT JOIN ranked r ON r.user_id = m.user_id
        LEFT JOIN lms.league_tier_table() t ON t.tier = least(m.tier, top)
       WHERE m.week = w AND m.cohort_id IS NOT NULL),
    done AS (
      UPDATE lms.league_members m
         SET final_rank = d.rank, outcome = d.outcome,
             new_tier = d.tier + CASE d.outcome WHEN 'promoted' THEN 1 WHEN 'demoted' THEN -1 ELSE 0 END
        FROM decided d
       WHERE m.user_id = d.user_id AND m.week = w
      RETURNING m.outcome)
    UPDATE lms.league_weeks x
       SET members = (SELECT count(*) FROM done),
           promoted = (SELECT count(*) FROM done WHERE done.outcome = 'promoted'),
           demoted = (SELECT count(*) FROM done WHERE done.outcome = 'demoted'),
           took_ms = round(extract(epoch FROM clock_timestamp() - t0) * 1000)::bigint
     WHERE x.week = w
    RETURNING x.week, x.members, x.promoted, x.demoted, x.took_ms
      INTO week, members, promoted, demoted, took_ms;
    RETURN NEXT;
  END LOOP;
  PERFORM lms.league_place_waiting();
END
$$;

-- Whether a background worker serves this database (then reads leave the rollover to it).
CREATE FUNCTION lms.league_worker_serves() RETURNS boolean
LANGUAGE sql STABLE
RETURN pg_catalog.current_setting('shared_preload_libraries') ~ '(^|[ ,])lms($|[ ,])'
       AND pg_catalog.current_setting('lms.leaderboard_database', true) = pg_catalog.current_database();

-- What a read does on a server without the worker (and the worker each pass): the rollover
-- of a week that has ended, and the placing of learners who waited for one, when due. Never
-- on a standby or in a read-only transaction; never waits for a rollover already running.
CREATE FUNCTION lms.league_rollover_due() RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF pg_catalog.pg_is_in_recovery() OR pg_catalog.current_setting('transaction_read_only') = 'on' THEN
    RETURN;
  END IF;
  IF EXISTS (SELECT FROM lms.league_weeks_due()) THEN
    -- one rollover at a time; the others read the league as it is
    IF pg_catalog.pg_try_advisory_xact_lock(1280136024) THEN
      PERFORM lms.league_rollover();
    END IF;
  ELSIF EXISTS (SELECT FROM lms.league_members m WHERE m.cohort_id IS NULL) THEN
    PERFORM lms.league_place_waiting();
  END IF;
END
$$;

-- A tier as the routes show it.
CREATE FUNCTION lms.league_tier_json(t lms.league_tiers) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN pg_catalog.jsonb_build_object('tier', t.tier, 'name', t.name, 'promote_top', t.promote_top,
                                     'demote_from', t.demote_from);

-- The league configuration (GET and PUT /admin/leagues/tiers).
CREATE FUNCTION lms.league_config_json() RETURNS jsonb
LANGUAGE sql STABLE
RETURN pg_catalog.jsonb_build_object(
  'cohort_size', lms.league_setting('cohort_size'),
  'inactive_grace_weeks', lms.league_setting('inactive_grace_weeks'),
  'join_slots', lms.league_setting('join_slots'),
  'is_default', NOT EXISTS (SELECT FROM lms.league_tiers),
  'tiers', (SELECT pg_catalog.jsonb_agg(lms.league_tier_json(t) ORDER BY t.tier) FROM lms.league_tier_table() t));

-- Standings of every cohort of a week (default: the current one), optionally of one tier, for
-- analysts: live ranks and zones while the week runs, the rollover's ranks and outcomes after.
CREATE FUNCTION lms.league_standings(week date DEFAULT NULL, tier int DEFAULT NULL)
RETURNS TABLE (week date, tier int, tier_name text, cohort_id bigint, rank int, user_id bigint,
               display_name text, points bigint, zone text, outcome text, new_tier int)
LANGUAGE sql STABLE
AS $$
  WITH wk AS (SELECT coalesce(league_standings.week, lms.league_week(lms.clock())) AS week),
       top AS (SELECT max(t.tier) AS top FROM lms.league_tier_table() t),
       live AS (SELECT c.id AS cohort_id, s.user_id, s.rank
                  FROM wk JOIN lms.league_cohorts c ON c.week = wk.week
                 CROSS JOIN LATERAL lms.league_cohort_standings(c.id) s
                 WHERE league_standings.tier IS NULL OR c.tier = league_standings.tier)
  SELECT c.week, c.tier, c.tier_name, c.id,
         coalesce(m.final_rank, s.rank), m.user_id, u.display_name, m.points,
         CASE WHEN m.outcome IS NOT NULL
              THEN CASE m.outcome WHEN 'promoted' THEN 'promotion' WHEN 'demoted' THEN 'demotion' END
              ELSE lms.league_zone(s.rank, m.points, least(c.tier, top.top), top.top, t.promote_top, t.demote_from) END,
         m.outcome, m.new_tier
    FROM wk CROSS JOIN top
    JOIN lms.league_cohorts c ON c.week = wk.week
    JOIN lms.league_members m ON m.cohort_id = c.id
    JOIN lms.users u ON u.id = m.user_id
    LEFT JOIN lms.league_tier_table() t ON t.tier = least(c.tier, top.top)
    LEFT JOIN live s ON s.cohort_id = c.id AND s.user_id = m.user_id
   WHERE league_standings.tier IS NULL OR c.tier = league_standings.tier
   ORDER BY c.tier DESC, c.id, coalesce(m.final_rank, s.rank) NULLS LAST, m.user_id
$$;

-- GET /leagues/me: the caller's week, tier, cohort standings with ranks and zones, and ends_at
-- (C, api_leagues_me.c, reading the rules of this file). VOLATILE: on a server without the
-- worker a read first does the rollover that is due.
CREATE FUNCTION lms.api_leagues_me(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
  AS 'MODULE_PATHNAME', 'lms_api_leagues_me'
  LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- GET /leagues/me/history: the caller's league weeks, newest first.
CREATE FUNCTION lms.api_leagues_history(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true);
  me lms.caller := req.who;
  pg lms.paging;
  items jsonb;
  n bigint;
BEGIN
  IF (req.problem).status IS NOT NULL THEN
    RETURN req.problem;
  END IF;
  pg := lms.paging(coalesce(query, '{}'));
  IF (pg.problem).status IS NOT NULL THEN
    RETURN pg.problem;
  END IF;
  SELECT count(*) INTO n FROM lms.league_members m WHERE m.user_id = me.user_id;
  SELECT coalesce(jsonb_agg(jsonb_build_object(
           'week', m.week, 'tier', m.tier, 'tier_name', c.tier_name, 'cohort_id', m.cohort_id,
           'cohort_size', c.size, 'points', m.points, 'rank', m.final_rank, 'outcome', m.outcome,
           'new_tier', m.new_tier) ORDER BY m.week DESC), '[]')
    INTO items
    FROM (SELECT * FROM lms.league_members x WHERE x.user_id = me.user_id
           ORDER BY x.week DESC LIMIT pg.lim OFFSET (pg.page - 1)::bigint * pg.lim) m
    LEFT JOIN lms.league_cohorts c ON c.id = m.cohort_id;
  RETURN lms.ok(200, jsonb_build_object('items', items, 'page', pg.page, 'limit', pg.lim, 'total', n));
END
$$;

-- GET /admin/leagues/tiers
CREATE FUNCTION lms.api_admin_league_tiers_get(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true);
  me lms.caller := req.who;
BEGIN
  IF (req.problem).status IS NOT NULL THEN
    RETURN req.problem;
  END IF;
  IF me.role <> 'admin' THEN
    RETURN lms.forbidden();
  END IF;
  RETURN lms.ok(200, lms.league_config_json());
END
$$;

-- PUT /admin/leagues/tiers {tiers:[{name,promote_top,demote_from}], cohort_size?,
-- inactive_grace_weeks?, join_slots?}: the tier table (tier n = the n-th item) and settings;
-- a setting left out keeps its value. Applies to cohorts formed and weeks rolled over from now
-- on (a cohort keeps its capacity; members of a tier that no longer exists count in the top one).
CREATE FUNCTION lms.api_admin_league_tiers_put(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true, object => true);
  me lms.caller := req.who;
  b jsonb := req.body;
  errs jsonb := '[]';
  tiers jsonb;
  n int;
  i int;
  t jsonb;
  f text;
  pt bigint;
  df bigint;
  cap bigint;
  v bigint;
  lo int;
  hi int;
  names text[] := '{}';
  before jsonb;
  after jsonb;
BEGIN
  IF (req.problem).status IS NOT NULL THEN
    RETURN req.problem;
  END IF;
  IF me.role <> 'admin' THEN
    RETURN lms.forbidden();
  END IF;
  FOR f, lo, hi IN VALUES ('cohort_size', 2, 100), ('inactive_grace_weeks', 0, 52), ('join_slots', 1, 64) LOOP
    IF b ? f THEN
      v := lms.json_bigint(b->f);
      IF v IS NULL OR v < lo OR v > hi THEN
        errs := errs || jsonb_build_object('field', f, 'message', format('must be an integer between %s and %s', lo, hi));
      END IF;
    END IF;
  END LOOP;
  cap := CASE WHEN b ? 'cohort_size' THEN lms.json_bigint(b->'cohort_size') ELSE lms.league_setting('cohort_size') END;
  IF cap IS NULL OR cap NOT BETWEEN 2 AND 100 THEN
    cap := 100;   -- already reported: check the ranks against the largest cohort
  END IF;
  tiers := b->'tiers';
  IF jsonb_typeof(tiers) IS DISTINCT FROM 'array' OR jsonb_array_length(tiers) NOT BETWEEN 2 AND 50 THEN
    errs := errs || jsonb_build_object('field', 'tiers', 'message', 'must be an array of 2 to 50 tiers, lowest first');
  ELSE
    n := jsonb_array_length(tiers);
    FOR i IN 1..n LOOP
      t := tiers->(i - 1);
      f := 'tiers[' || (i - 1) || ']';
      IF jsonb_typeof(t) IS DISTINCT FROM 'object' THEN
        errs := errs || jsonb_build_object('field', f, 'message', 'must be an object {name, promote_top, demote_from}');
        CONTINUE;
      END IF;
      IF jsonb_typeof(t->'name') IS DISTINCT FROM 'string' OR length(btrim(t->>'name')) NOT BETWEEN 1 AND 40 THEN
        errs := errs || jsonb_build_object('field', f || '.name', 'message', 'must be a string of 1 to 40 characters');
      ELSIF lower(btrim(t->>'name')) = ANY (names) THEN
        errs := errs || jsonb_build_object('field', f || '.name', 'message', 'must differ from the other tiers'' names');
      ELSE
        names := names || lower(btrim(t->>'name'));
      END IF;
      pt := lms.json_bigint(t->'promote_top');
      IF pt IS NULL OR pt NOT BETWEEN 0 AND cap THEN
        errs := errs || jsonb_build_object('field', f || '.promote_top', 'message', 'must be an integer between 0 and cohort_size');
      ELSIF i = n AND pt <> 0 THEN
        errs := errs || jsonb_build_object('field', f || '.promote_top', 'message', 'must be 0 for the top tier');
      END IF;
      df := NULL;
      IF jsonb_typeof(t->'demote_from') IS DISTINCT FROM 'null' AND t ? 'demote_from' THEN
        df := lms.json_bigint(t->'demote_from');
        IF df IS NULL OR df NOT BETWEEN 2 AND cap THEN
          errs := errs || jsonb_build_object('field', f || '.demote_from', 'message', 'must be null or an integer between 2 and cohort_size');
        ELSIF i = 1 THEN
          errs := errs || jsonb_build_object('field', f || '.demote_from', 'message', 'must be null for the lowest tier');
        ELSIF pt IS NOT NULL AND pt >= df THEN
          errs := errs || jsonb_build_object('field', f || '.demote_from', 'message', 'must be above promote_top');
        END IF;
      END IF;
    END LOOP;
  END IF;
  IF jsonb_array_length(errs) > 0 THEN
    RETURN lms.validation_failed(errs);
  END IF;

  before := lms.league_config_json();
  LOCK TABLE lms.league_tiers IN EXCLUSIVE MODE;   -- two edits at once: one after the other
  DELETE FROM lms.league_tiers;
  INSERT INTO lms.league_tiers (tier, name, promote_top, demote_from)
  SELECT x.ord::int, btrim(x.t->>'name'), (x.t->>'promote_top')::int, lms.json_bigint(x.t->'demote_from')::int
    FROM jsonb_array_elements(tiers) WITH ORDINALITY AS x(t, ord);
  FOREACH f IN ARRAY ARRAY['cohort_size', 'inactive_grace_weeks', 'join_slots'] LOOP
    IF b ? f THEN
      INSERT INTO lms.league_settings (name, value) VALUES (f, lms.json_bigint(b->f))
      ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value;
    END IF;
  END LOOP;
  after := lms.league_config_json();
  PERFORM lms.audit(me.user_id, 'league.tiers.update', 'league', NULL,
                    jsonb_build_object('before', before, 'after', after));
  RETURN lms.ok(200, after);
END
$$;

-- POST /admin/leagues/rollover: every rollover due now (the worker does it otherwise).
CREATE FUNCTION lms.api_admin_league_rollover(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true);
  me lms.caller := req.who;
  t0 timestamptz := clock_timestamp();
  rolled jsonb;
BEGIN
  IF (req.problem).status IS NOT NULL THEN
    RETURN req.problem;
  END IF;
  IF me.role <> 'admin' THEN
    RETURN lms.forbidden();
  END IF;
  SELECT coalesce(jsonb_agg(jsonb_build_object('week', r.week, 'members', r.members, 'promoted', r.promoted,
                                               'demoted', r.demoted, 'took_ms', r.took_ms) ORDER BY r.week), '[]')
    INTO rolled FROM lms.league_rollover() r;
  PERFORM lms.audit(me.user_id, 'league.rollover', 'league', NULL, jsonb_build_object('rolled', rolled));
  RETURN lms.ok(200, jsonb_build_object(
    'rolled', rolled,
    'took_ms', round(extract(epoch FROM clock_timestamp() - t0) * 1000)::bigint));
END
$$;

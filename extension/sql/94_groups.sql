-- Groups and group ladders (docs/gamification.md#group-ladders): instructors and admins make
-- groups of learners; a ladder ranks the groups by the average points per member (default) or
-- by their total, in the windows of the boards. Tables: 94_group_schema.sql.
--
-- A group's points are its members' points on the global board of the window, kept in step by
-- a statement trigger on lms.board_entries: every refresh of the global board (incremental or
-- full, by the worker or by a read) adds the changes of the entries it wrote to the groups of
-- those learners in the same transaction. So a ladder is exactly as fresh as the global board
-- (a read refreshes that board on demand first, as a board read does), hidden and suspended
-- learners count for nothing (they are not on it), and a new week or month starts at zero
-- with the board's own rebuild. Membership changes add or take away the member's current
-- entries. The two never cross: a membership change holds the groups' lock shared, the
-- trigger exclusive, so it waits for membership changes still running and sees them.

-- The groups' lock ('LMSG'): shared by membership changes, exclusive for the board trigger.
CREATE FUNCTION lms.group_lock(exclusive boolean) RETURNS void
LANGUAGE sql VOLATILE
AS $$
  SELECT CASE WHEN exclusive THEN pg_catalog.pg_advisory_xact_lock(1280136007, 0)
              ELSE pg_catalog.pg_advisory_xact_lock_shared(1280136007, 0) END
$$;

-- The average a ladder ranks by: points per member, two decimals, 0 for an empty group.
CREATE FUNCTION lms.group_average(points bigint, members int) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN members > 0 THEN round(points::numeric / members, 2) ELSE 0 END;

-- Apply the changes of global board entries, (user, window, points delta, reached_at), to the
-- groups of those learners.
CREATE FUNCTION lms.group_scores_apply(changes jsonb) RETURNS void
LANGUAGE sql VOLATILE
AS $$
  UPDATE lms.group_scores s
     SET points = s.points + x.delta,
         average = lms.group_average(s.points + x.delta, s.members),
         reached_at = CASE WHEN x.delta > 0 THEN greatest(s.reached_at, x.reached) ELSE s.reached_at END
    FROM (SELECT gm.group_id, c.win, sum(c.delta)::bigint AS delta, max(c.reached_at) AS reached
            FROM pg_catalog.jsonb_to_recordset(changes) AS c(user_id bigint, win text, delta bigint, reached_at timestamptz)
            JOIN lms.group_members gm ON gm.user_id = c.user_id
           GROUP BY gm.group_id, c.win) x
   WHERE s.group_id = x.group_id AND s.win = x.win AND x.delta <> 0
$$;

-- AFTER INSERT / UPDATE / DELETE ... FOR EACH STATEMENT on lms.board_entries.
CREATE FUNCTION lms.group_scores_follow_board() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  changes jsonb;
BEGIN
  IF lms.loading() THEN
    RETURN NULL;     -- a restore: group_scores comes back as dumped
  END IF;
  IF TG_OP = 'INSERT' THEN
    SELECT jsonb_agg(jsonb_build_object('user_id', n.user_id, 'win', n.win, 'delta', n.points, 'reached_at', n.reached_at))
      INTO changes FROM new_entries n WHERE n.board = 'global';
  ELSIF TG_OP = 'DELETE' THEN
    SELECT jsonb_agg(jsonb_build_object('user_id', o.user_id, 'win', o.win, 'delta', -o.points, 'reached_at', o.reached_at))
      INTO changes FROM old_entries o WHERE o.board = 'global';
  ELSE
    -- each entry's new points less its old ones, summed per entry rather than joined: a joined
    -- form was planned once per session, on the first (small) statement, and a refresh that
    -- later updated a million entries ran that plan's nested loop for hours
    SELECT jsonb_agg(jsonb_build_object('user_id', d.user_id, 'win', d.win, 'delta', d.delta, 'reached_at', d.reached_at))
      INTO changes
      FROM (SELECT x.user_id, x.win, sum(x.points)::bigint AS delta, max(x.reached_at) AS reached_at
              FROM (SELECT n.user_id, n.win, n.points, n.reached_at FROM new_entries n WHERE n.board = 'global'
                    UNION ALL
                    SELECT o.user_id, o.win, -o.points, NULL FROM old_entries o WHERE o.board = 'global') x
             GROUP BY x.user_id, x.win HAVING sum(x.points) <> 0) d;
  END IF;
  IF changes IS NOT NULL THEN
    PERFORM lms.group_lock(true);
    PERFORM lms.group_scores_apply(changes);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER board_entries_groups_insert AFTER INSERT ON lms.board_entries
  REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION lms.group_scores_follow_board();
CREATE TRIGGER board_entries_groups_update AFTER UPDATE ON lms.board_entries
  REFERENCING OLD TABLE AS old_entries NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION lms.group_scores_follow_board();
CREATE TRIGGER board_entries_groups_delete AFTER DELETE ON lms.board_entries
  REFERENCING OLD TABLE AS old_entries FOR EACH STATEMENT EXECUTE FUNCTION lms.group_scores_follow_board();

-- Add (sign 1) or take away (sign -1) learners' current global entries to or from a group's
-- scores, with the member count. The caller holds the groups' lock shared.
CREATE FUNCTION lms.group_scores_members(gid bigint, uids bigint[], sign int) RETURNS void
LANGUAGE sql VOLATILE
AS $$
  UPDATE lms.group_scores s
     SET members = s.members + sign * cardinality(uids),
         points = s.points + sign * coalesce(x.pts, 0),
         average = lms.group_average(s.points + sign * coalesce(x.pts, 0), s.members + sign * cardinality(uids)),
         reached_at = CASE WHEN sign > 0 THEN greatest(s.reached_at, x.reached) ELSE s.reached_at END
    FROM (SELECT w.win, (SELECT sum(e.points) FROM lms.board_entries e
                          WHERE e.board = 'global' AND e.win = w.win AND e.user_id = ANY (uids))::bigint AS pts,
                        (SELECT max(e.reached_at) FROM lms.board_entries e
                          WHERE e.board = 'global' AND e.win = w.win AND e.user_id = ANY (uids)) AS reached
            FROM (VALUES ('all'), ('week'), ('month')) AS w(win)) x
   WHERE s.group_id = gid AND s.win = x.win
$$;

-- Rebuild every group's scores from the global boards and the memberships; returns the rows
-- that disagreed (0 is the healthy answer). recompute_gamification() runs it.
CREATE FUNCTION lms.group_scores_rebuild() RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  n bigint;
BEGIN
  PERFORM lms.group_lock(true);
  WITH want AS (
    SELECT g.id AS group_id, w.win,
           (SELECT count(*) FROM lms.group_members gm WHERE gm.group_id = g.id)::int AS members,
           coalesce((SELECT sum(e.points) FROM lms.group_members gm JOIN lms.board_entries e
                      ON e.board = 'global' AND e.win = w.win AND e.user_id = gm.user_id
                     WHERE gm.group_id = g.id), 0)::bigint AS points
      FROM lms.groups g CROSS JOIN (VALUES ('all'), ('week'), ('month')) AS w(win)),
  fixed AS (
    INSERT INTO lms.group_scores AS s (group_id, win, members, points, average)
    SELECT w.group_id, w.win, w.members, w.points, lms.group_average(w.points, w.members) FROM want w
    ON CONFLICT (group_id, win) DO UPDATE
      SET members = EXCLUDED.members, points = EXCLUDED.points, average = EXCLUDED.average
      WHERE (s.members, s.points, s.average) IS DISTINCT FROM (EXCLUDED.members, EXCLUDED.points, EXCLUDED.average)
    RETURNING 1)
  SELECT count(*) INTO n FROM fixed;
  RETURN n;
END
$$;

-- A group as the routes show it.
CREATE FUNCTION lms.group_json(g lms.groups) RETURNS jsonb
LANGUAGE sql STABLE
RETURN pg_catalog.jsonb_build_object(
  'id', g.id, 'name', g.name, 'description', g.description,
  'owner', (SELECT pg_catalog.jsonb_build_object('id', u.id, 'display_name', u.display_name)
              FROM lms.users u WHERE u.id = g.owner_id),
  'member_count', (SELECT s.members FROM lms.group_scores s WHERE s.group_id = g.id AND s.win = 'all'),
  'created_at', lms.iso(g.created_at), 'updated_at', lms.iso(g.updated_at));

-- The caller may manage the group (its owner, or an admin).
CREATE FUNCTION lms.group_manager(me lms.caller, g lms.groups) RETURNS boolean
LANGUAGE sql STABLE
RETURN me.role = 'admin' OR g.owner_id = me.user_id;

-- The caller sees the group: its manager, an admin, or a member.
CREATE FUNCTION lms.group_visible(me lms.caller, g lms.groups) RETURNS boolean
LANGUAGE sql STABLE
RETURN lms.group_manager(me, g)
       OR EXISTS (SELECT FROM lms.group_members gm WHERE gm.group_id = g.id AND gm.user_id = me.user_id);

-- One page of a group ladder: competition ranks (ties share a rank; within a tie the group
-- that reached its score first, then the lower id), by 'average' or 'total'. The board must be
-- fresh (lms.board_info) before.
CREATE FUNCTION lms.group_ladder(win text DEFAULT 'all', rank_by text DEFAULT 'average', lim int DEFAULT 50, off int DEFAULT 0)
RETURNS TABLE (rank int, group_id bigint, name text, members int, points bigint, average numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF win NOT IN ('all', 'week', 'month') OR rank_by NOT IN ('average', 'total') THEN
    RAISE EXCEPTION 'unknown group ladder "%" by "%"', win, rank_by
      USING ERRCODE = 'invalid_parameter_value', DETAIL = 'Windows are all, week and month; ladders rank by average or total.';
  END IF;
  -- the same query for either order, on the column it ranks by (each has its index)
  RETURN QUERY EXECUTE format($q$
    WITH page AS (
      SELECT s.group_id, s.members, s.points, s.average,
             $3 + row_number() OVER (ORDER BY s.%1$I DESC, s.reached_at, s.group_id) AS pos
        FROM (SELECT * FROM lms.group_scores x WHERE x.win = $1 AND x.members > 0
               ORDER BY x.%1$I DESC, x.reached_at, x.group_id LIMIT $2 OFFSET $3) s),
    first AS (
      SELECT p.%1$I AS key, 1 + (SELECT count(*) FROM lms.group_scores x
                                  WHERE x.win = $1 AND x.members > 0 AND x.%1$I > p.%1$I) AS r
        FROM page p WHERE p.pos = $3 + 1)
    SELECT (CASE WHEN p.%1$I = f.key THEN f.r ELSE min(p.pos) OVER (PARTITION BY p.%1$I) END)::int,
           p.group_id, g.name, p.members, p.points, p.average
      FROM page p CROSS JOIN first f JOIN lms.groups g ON g.id = p.group_id
     ORDER BY p.pos$q$, CASE rank_by WHEN 'total' THEN 'points' ELSE 'average' END)
  USING win, lim, off;
END
$$;

-- The rank of one group on a ladder (NULL when it has no members).
CREATE FUNCTION lms.group_rank(gid bigint, win text, rank_by text) RETURNS int
LANGUAGE sql STABLE
AS $$
  SELECT (1 + (SELECT count(*) FROM lms.group_scores x
                WHERE x.win = s.win AND x.members > 0
                  AND CASE WHEN rank_by = 'total' THEN x.points > s.points ELSE x.average > s.average END))::int
    FROM lms.group_scores s WHERE s.group_id = gid AND s.win = group_rank.win AND s.members > 0
$$;

-- GET /leaderboards/groups ?window, rank_by (average | total), limit, offset, around=me: the
-- ladder; with a token, `me` lists the caller's groups with their ranks, and around=me makes
-- those groups the items.
CREATE FUNCTION lms.api_leaderboard_groups(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  q jsonb := coalesce(query, '{}');
  bp record := lms.board_params(q);
  wnd text := bp.win;
  by_what text := coalesce(q->>'rank_by', 'average');
  lim int := bp.lim;
  off int := bp.off;
  around text := bp.around;
  errs jsonb := bp.errs;
  me lms.caller;
  info record;
  items jsonb;
  mine jsonb := NULL;
  total bigint;
BEGIN
  IF by_what NOT IN ('average', 'total') THEN
    errs := errs || jsonb_build_object('field', 'rank_by', 'message', 'must be average or total');
  END IF;
  IF jsonb_array_length(errs) > 0 THEN
    RETURN lms.validation_failed(errs);
  END IF;
  IF token IS NOT NULL OR around = 'me' THEN
    me := lms.caller(token);
    IF me.user_id IS NULL THEN
      RETURN lms.unauthenticated();
    END IF;
  END IF;

  -- the global board of the window, refreshed on demand when stale: the ladder follows it
  SELECT * INTO info FROM lms.board_info('global', wnd);
  SELECT count(*) INTO total FROM lms.group_scores s WHERE s.win = wnd AND s.members > 0;
  IF me.user_id IS NOT NULL THEN
    SELECT coalesce(jsonb_agg(x.doc ORDER BY x.rnk NULLS LAST, x.id), '[]') INTO mine
      FROM (SELECT g.id, lms.group_rank(g.id, wnd, by_what) AS rnk,
                   jsonb_build_object('rank', lms.group_rank(g.id, wnd, by_what), 'group_id', g.id, 'name', g.name,
                                      'members', s.members, 'points', s.points, 'average', s.average) AS doc
              FROM lms.group_members gm JOIN lms.groups g ON g.id = gm.group_id
              JOIN lms.group_scores s ON s.group_id = g.id AND s.win = wnd
             WHERE gm.user_id = me.user_id) x;
  END IF;
  IF around = 'me' THEN
    items := mine;
  ELSE
    SELECT coalesce(jsonb_agg(jsonb_build_object('rank', l.rank, 'group_id', l.group_id, 'name', l.name,
                                                 'members', l.members, 'points', l.points, 'average', l.average)
                              ORDER BY ord), '[]')
      INTO items
      FROM lms.group_ladder(wnd, by_what, lim, off) WITH ORDINALITY AS l(rank, group_id, name, members, points, average, ord);
  END IF;
  RETURN lms.ok(200, jsonb_build_object(
    'board', 'groups', 'window', wnd, 'rank_by', by_what, 'period_start', info.period_start,
    'generated_at', lms.iso(info.generated_at), 'total', total, 'limit', lim, 'offset', off,
    'items', items, 'me', mine));
END
$$;

-- A group's fields from a body; errors appended to errs.
CREATE FUNCTION lms.group_fields(b jsonb, partial boolean, INOUT errs jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
  IF (NOT partial OR b ? 'name') AND (jsonb_typeof(b->'name') IS DISTINCT FROM 'string'
                                      OR length(btrim(b->>'name')) NOT BETWEEN 1 AND 100) THEN
    errs := errs || jsonb_build_object('field', 'name', 'message', 'must be a string of 1 to 100 characters');
  END IF;
  IF b ? 'description' AND (jsonb_typeof(b->'description') IS DISTINCT FROM 'string' OR length(b->>'description') > 2000) THEN
    errs := errs || jsonb_build_object('field', 'description', 'message', 'must be a string of at most 2000 characters');
  END IF;
END
$$;

-- The user ids of a members body {user_ids:[...]} (1 to 1000 distinct existing users), or a
-- problem.
CREATE FUNCTION lms.group_member_ids(b jsonb, OUT ids bigint[], OUT problem lms.api_response)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  missing bigint[];
BEGIN
  IF b IS NULL THEN
    problem := lms.invalid_body(); RETURN;
  END IF;
  IF jsonb_typeof(b->'user_ids') IS DISTINCT FROM 'array' OR jsonb_array_length(b->'user_ids') > 1000
     OR EXISTS (SELECT FROM jsonb_array_elements(b->'user_ids') e WHERE lms.json_bigint(e) IS NULL OR lms.json_bigint(e) < 1) THEN
    problem := lms.invalid('user_ids', 'must be an array of at most 1000 user ids'); RETURN;
  END IF;
  SELECT coalesce(array_agg(DISTINCT lms.json_bigint(e) ORDER BY lms.json_bigint(e)), '{}') INTO ids
    FROM jsonb_array_elements(b->'user_ids') e;
  SELECT array_agg(x ORDER BY x) INTO missing FROM unnest(ids) x WHERE NOT EXISTS (SELECT FROM lms.users u WHERE u.id = x);
  IF missing IS NOT NULL THEN
    problem := lms.invalid('user_ids', 'unknown users: ' || array_to_string(missing, ', ')); RETURN;
  END IF;
END
$$;

-- GET /groups ?page,limit: the groups the caller sees (an admin: all; others: the groups they
-- manage or are in).
CREATE FUNCTION lms.api_groups_list(token text, path text, query jsonb, body jsonb)
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
  SELECT count(*) INTO n FROM lms.groups x WHERE lms.group_visible(me, x);
  SELECT coalesce(jsonb_agg(lms.group_json(x) ORDER BY x.id), '[]') INTO items
    FROM (SELECT x.* FROM lms.groups x WHERE lms.group_visible(me, x)
           ORDER BY x.id LIMIT pg.lim OFFSET (pg.page - 1)::bigint * pg.lim) x;
  RETURN lms.ok(200, jsonb_build_object('items', items, 'page', pg.page, 'limit', pg.lim, 'total', n));
END
$$;

-- POST /groups {name, description?}: instructors and admins.
CREATE FUNCTION lms.api_group_create(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true, object => true);
  me lms.caller := req.who;
  b jsonb := req.body;
  errs jsonb := '[]';
  g lms.groups;
BEGIN
  IF (req.problem).status IS NOT NULL THEN
    RETURN req.problem;
  END IF;
  IF me.role NOT IN ('instructor', 'admin') THEN
    RETURN lms.forbidden('Only instructors and admins make groups.');
  END IF;
  errs := lms.group_fields(b, false, errs);
  IF jsonb_array_length(errs) > 0 THEN
    RETURN lms.validation_failed(errs);
  END IF;
  INSERT INTO lms.groups (name, description, owner_id)
  VALUES (btrim(b->>'name'), coalesce(b->>'description', ''), me.user_id) RETURNING * INTO g;
  INSERT INTO lms.group_scores (group_id, win, members, points, average)
  SELECT g.id, w, 0, 0, 0 FROM unnest(ARRAY['all', 'week', 'month']) w;
  PERFORM lms.audit(me.user_id, 'group.create', 'group', g.id, lms.group_json(g));
  RETURN lms.ok(201, lms.group_json(g));
END
$$;

-- GET /groups/{id}: its manager, an admin or a member.
CREATE FUNCTION lms.api_group_get(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true, id => true);
  me lms.caller := req.who;
  g lms.groups;
BEGIN
  IF (req.problem).status IS NOT NULL THEN
    RETURN req.problem;
  END IF;
  SELECT * INTO g FROM lms.groups x WHERE x.id = req.id;
  IF g.id IS NULL THEN
    RETURN lms.not_found('Group');
  END IF;
  IF NOT lms.group_visible(me, g) THEN
    RETURN lms.forbidden();
  END IF;
  RETURN lms.ok(200, lms.group_json(g));
END
$$;

-- PATCH /groups/{id} {name?, description?}: its owner or an admin.
CREATE FUNCTION lms.api_group_patch(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true, id => true, object => true);
  me lms.caller := req.who;
  b jsonb := req.body;
  errs jsonb := '[]';
  g lms.groups;
BEGIN
  IF (req.problem).status IS NOT NULL THEN
    RETURN req.problem;
  END IF;
  SELECT * INTO g FROM lms.groups x WHERE x.id = req.id FOR UPDATE;
  IF g.id IS NULL THEN
    RETURN lms.not_found('Group');
  END IF;
  IF NOT lms.group_manager(me, g) THEN
    RETURN lms.forbidden();
  END IF;
  errs := lms.group_fields(b, true, errs);
  IF jsonb_array_length(errs) > 0 THEN
    RETURN lms.validation_failed(errs);
  END IF;
  UPDATE lms.groups x SET name = CASE WHEN b ? 'name' THEN btrim(b->>'name') ELSE x.name END,
                          description = coalesce(b->>'description', x.description),
                          updated_at = lms.clock()
   WHERE x.id = g.id RETURNING * INTO g;
  PERFORM lms.audit(me.user_id, 'group.update', 'group', g.id, b);
  RETURN lms.ok(200, lms.group_json(g));
END
$$;

-- DELETE /groups/{id}: its owner or an admin.
CREATE FUNCTION lms.api_group_delete(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true, id => true);
  me lms.caller := req.who;
  g lms.groups;
BEGIN
  IF (req.problem).status IS NOT NULL THEN
    RETURN req.problem;
  END IF;
  SELECT * INTO g FROM lms.groups x WHERE x.id = req.id FOR UPDATE;
  IF g.id IS NULL THEN
    RETURN lms.not_found('Group');
  END IF;
  IF NOT lms.group_manager(me, g) THEN
    RETURN lms.forbidden();
  END IF;
  PERFORM lms.audit(me.user_id, 'group.delete', 'group', g.id, lms.group_json(g));
  DELETE FROM lms.groups x WHERE x.id = g.id;
  RETURN ROW(204, NULL)::lms.api_response;
END
$$;

-- GET /groups/{id}/members ?page,limit: its owner or an admin.
CREATE FUNCTION lms.api_group_members(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true, id => true);
  me lms.caller := req.who;
  g lms.groups;
  pg lms.paging;
  items jsonb;
  n bigint;
BEGIN
  IF (req.problem).status IS NOT NULL THEN
    RETURN req.problem;
  END IF;
  SELECT * INTO g FROM lms.groups x WHERE x.id = req.id;
  IF g.id IS NULL THEN
    RETURN lms.not_found('Group');
  END IF;
  IF NOT lms.group_manager(me, g) THEN
    RETURN lms.forbidden();
  END IF;
  pg := lms.paging(coalesce(query, '{}'));
  IF (pg.problem).status IS NOT NULL THEN
    RETURN pg.problem;
  END IF;
  SELECT count(*) INTO n FROM lms.group_members gm WHERE gm.group_id = g.id;
  SELECT coalesce(jsonb_agg(jsonb_build_object('user_id', m.user_id, 'display_name', u.display_name,
                                               'added_at', lms.iso(m.added_at)) ORDER BY m.user_id), '[]')
    INTO items
    FROM (SELECT * FROM lms.group_members gm WHERE gm.group_id = g.id ORDER BY gm.user_id
           LIMIT pg.lim OFFSET (pg.page - 1)::bigint * pg.lim) m
    JOIN lms.users u ON u.id = m.user_id;
  RETURN lms.ok(200, jsonb_build_object('items', items, 'page', pg.page, 'limit', pg.lim, 'total', n));
END
$$;

-- POST /groups/{id}/members {user_ids} adds (members already in stay), PUT sets the members to
-- exactly user_ids: its owner or an admin. Answers {added, removed, member_count}.
CREATE FUNCTION lms.group_members_change(token text, path text, body jsonb, replace boolean)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true, id => true, object => true);
  me lms.caller := req.who;
  g lms.groups;
  m record;
  added bigint[];
  removed bigint[] := '{}';
  cnt int;
BEGIN
  IF (req.problem).status IS NOT NULL THEN
    RETURN req.problem;
  END IF;
  SELECT * INTO g FROM lms.groups x WHERE x.id = req.id FOR UPDATE;
  IF g.id IS NULL THEN
    RETURN lms.not_found('Group');
  END IF;
  IF NOT lms.group_manager(me, g) THEN
    RETURN lms.forbidden();
  END IF;
  m := lms.group_member_ids(req.body);
  IF (m.problem).status IS NOT NULL THEN
    RETURN m.problem;
  END IF;
  PERFORM lms.group_lock(false);
  IF replace THEN
    WITH gone AS (DELETE FROM lms.group_members gm WHERE gm.group_id = g.id AND gm.user_id <> ALL (m.ids)
                  RETURNING gm.user_id)
    SELECT coalesce(array_agg(gone.user_id ORDER BY gone.user_id), '{}') INTO removed FROM gone;
    IF cardinality(removed) > 0 THEN
      PERFORM lms.group_scores_members(g.id, removed, -1);
    END IF;
  END IF;
  WITH added_rows AS (INSERT INTO lms.group_members (group_id, user_id) SELECT g.id, x FROM unnest(m.ids) x
                      ON CONFLICT DO NOTHING RETURNING user_id)
  SELECT coalesce(array_agg(a.user_id ORDER BY a.user_id), '{}') INTO added FROM added_rows a;
  IF cardinality(added) > 0 THEN
    PERFORM lms.group_scores_members(g.id, added, 1);
  END IF;
  SELECT s.members INTO cnt FROM lms.group_scores s WHERE s.group_id = g.id AND s.win = 'all';
  PERFORM lms.audit(me.user_id, CASE WHEN replace THEN 'group.members.set' ELSE 'group.members.add' END, 'group', g.id,
                    jsonb_build_object('added', to_jsonb(added), 'removed', to_jsonb(removed)));
  RETURN lms.ok(200, jsonb_build_object('added', cardinality(added), 'removed', cardinality(removed), 'member_count', cnt));
END
$$;

CREATE FUNCTION lms.api_group_members_add(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
RETURN lms.group_members_change(token, path, body, false);

CREATE FUNCTION lms.api_group_members_set(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
RETURN lms.group_members_change(token, path, body, true);

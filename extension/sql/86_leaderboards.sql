-- Materialized leaderboards (leaderboard.c explains the design): one row per visible learner
-- and board with their score, in board order by an index, and a histogram of the board's
-- scores (learners per point value); a refresh applies only what changed since the last one;
-- reads are index lookups.

-- Board names and windows compare bytewise (COLLATE "C"): every read looks its rows up by them,
-- and under the database's locale each comparison of an index descent was a strcoll() call.
CREATE TABLE lms.board_entries (
  board text COLLATE "C" NOT NULL,  -- 'global' or 'course:<id>'
  win text COLLATE "C" NOT NULL CHECK (win IN ('all', 'week', 'month')),
  user_id bigint NOT NULL,
  points bigint NOT NULL,
  reached_at timestamptz NOT NULL,
  display_name text NOT NULL,       -- copies for the page (no joins on a read), kept by the refresh:
  level int NOT NULL,               -- the learner's overall level (lms.learner_scores)
  PRIMARY KEY (board, win, user_id)       -- "my score"
);
-- board order: a page is a range scan of it, a tie group a range of one points value
CREATE INDEX board_entries_in_order ON lms.board_entries (board, win, points DESC, reached_at, user_id);

-- How many learners of a board have each points value: "my rank" is 1 + the learners of the
-- buckets above mine, and a deep page finds its first score here (few distinct values).
CREATE TABLE lms.board_counts (
  board text COLLATE "C" NOT NULL,
  win text COLLATE "C" NOT NULL CHECK (win IN ('all', 'week', 'month')),
  points bigint NOT NULL,
  learners bigint NOT NULL,        -- (no CHECK: a refresh upserts signed deltas)
  above bigint NOT NULL DEFAULT 0, -- learners of the buckets with more points (recounted by a refresh)
  PRIMARY KEY (board, win, points)
);
-- a page's first score: the last non-empty bucket with at most `off` learners above it
CREATE INDEX board_counts_above ON lms.board_counts (board, win, above) WHERE learners > 0;

-- The few learners left out of every board (hidden or suspended): a refresh anti-joins this
-- small index instead of joining every user.
CREATE INDEX users_unlisted ON lms.users (id) WHERE NOT leaderboard_visible OR status <> 'active';

-- One row per board: the current period, when it was built and up to where it applied the
-- ledger and the visibility changes.
CREATE TABLE lms.boards (
  board text COLLATE "C" NOT NULL,
  win text COLLATE "C" NOT NULL CHECK (win IN ('all', 'week', 'month')),
  period_start date,                -- NULL for all-time
  generated_at timestamptz NOT NULL,
  total bigint NOT NULL,
  ledger_mark bigint NOT NULL,      -- highest ledger id visible to the last refresh
  ledger_low bigint NOT NULL,       -- every ledger row with id <= this is applied
  users_mark bigint NOT NULL,       -- the same for lms.board_user_changes
  users_low bigint NOT NULL,
  snap pg_snapshot NOT NULL,        -- the last refresh's snapshot: writers still running then
  PRIMARY KEY (board, win)
);

-- Each tie group split by the hour its learners reached the score: a learner's position in board
-- order (around=me, a deep page) is 1 + the learners above their score (board_counts) + those of
-- their score in earlier hours (summed here, at most an hour per row) + those before them in their
-- own hour (counted: an hour's worth, not a tie group of tens of thousands). Kept by every refresh
-- with the entries.
CREATE TABLE lms.board_slots (
  board text COLLATE "C" NOT NULL,
  win text COLLATE "C" NOT NULL CHECK (win IN ('all', 'week', 'month')),
  points bigint NOT NULL,
  slot bigint NOT NULL,             -- lms.hour_of(reached_at)
  learners bigint NOT NULL,         -- (no CHECK: a refresh upserts signed deltas)
  PRIMARY KEY (board, win, points, slot)
);

-- The big one-instant tie groups split by user id: a score's learners who reached it at the same
-- instant (a recalculation or a bulk grant stamps one instant on thousands of them) are ordered
-- by user id alone, and an hour slot would leave all of them to count. A group that a refresh
-- finds past a size gets a row per range of user ids, about the square root of its size ranges
-- (the size and the width's rule: SPLIT_MIN and SHIFT_FOR in leaderboard_refresh.c), and keeps
-- its rows until it empties; smaller groups have none and are counted.
CREATE TABLE lms.board_parts (
  board text COLLATE "C" NOT NULL,
  win text COLLATE "C" NOT NULL CHECK (win IN ('all', 'week', 'month')),
  points bigint NOT NULL,
  reached_at timestamptz NOT NULL,
  part bigint NOT NULL,             -- user_id >> shift: the learners with ids in [part << shift, (part + 1) << shift)
  shift int NOT NULL CHECK (shift BETWEEN 0 AND 62), -- one per group, chosen when it is split
  learners bigint NOT NULL,         -- (no CHECK: a refresh upserts signed deltas)
  PRIMARY KEY (board, win, points, reached_at, part)
);
-- parts emptied by a refresh, deleted after it
CREATE INDEX board_parts_empty ON lms.board_parts (board, win) WHERE learners = 0;

-- One row per change of a learner's visibility, status, display name or level (or deletion):
-- the next refresh of every board re-reads that learner. Rare (a settings change, a
-- suspension, a level-up).
CREATE TABLE lms.board_user_changes (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL
);
-- a board's full build asks, per entry, whether its learner changed since the board's mark
CREATE INDEX board_user_changes_by_user ON lms.board_user_changes (user_id, id);

CREATE FUNCTION lms.board_user_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  INSERT INTO lms.board_user_changes (user_id) VALUES (OLD.id);
  RETURN NULL;
END
$$;
CREATE TRIGGER users_board_visibility
  AFTER UPDATE OF leaderboard_visible, status, display_name ON lms.users
  FOR EACH ROW
  WHEN (OLD.leaderboard_visible IS DISTINCT FROM NEW.leaderboard_visible
        OR OLD.status IS DISTINCT FROM NEW.status
        OR OLD.display_name IS DISTINCT FROM NEW.display_name)
  EXECUTE FUNCTION lms.board_user_changed();
-- a level-up shows on every board the learner is on (a course board re-reads only its course's
-- ledger rows otherwise)
CREATE FUNCTION lms.board_level_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  INSERT INTO lms.board_user_changes (user_id) VALUES (NEW.user_id);
  RETURN NULL;
END
$$;
CREATE TRIGGER learner_scores_board_level
  AFTER UPDATE OF level ON lms.learner_scores
  FOR EACH ROW
  WHEN (OLD.level IS DISTINCT FROM NEW.level)
  EXECUTE FUNCTION lms.board_level_changed();
CREATE TRIGGER users_board_deleted
  AFTER DELETE ON lms.users
  FOR EACH ROW
  EXECUTE FUNCTION lms.board_user_changed();

-- Rebuild every board now (set-based, from the sources); returns the boards refreshed ('global:all', 'course:3:week', ...).
CREATE FUNCTION lms.refresh_leaderboards() RETURNS SETOF text
  AS 'MODULE_PATHNAME', 'lms_refresh_leaderboards' LANGUAGE C VOLATILE;
-- Bring the boards whose source changed up to date, applying only the change (what the worker runs).
CREATE FUNCTION lms.refresh_leaderboards(only_changed boolean) RETURNS SETOF text
  AS 'MODULE_PATHNAME', 'lms_refresh_leaderboards' LANGUAGE C VOLATILE STRICT;

-- One page of a board: rank, user, display name, points (in the board's window), level.
-- VOLATILE: a read may refresh a stale board on demand (never on a standby).
CREATE FUNCTION lms.leaderboard(board text, "window" text DEFAULT 'all', lim int DEFAULT 50, off int DEFAULT 0)
RETURNS TABLE (rank int, user_id bigint, display_name text, points bigint, level int)
  AS 'MODULE_PATHNAME', 'lms_leaderboard' LANGUAGE C VOLATILE;

-- A learner's rank and points on a board; no row when they are not on it.
CREATE FUNCTION lms.user_rank(board text, "window" text, user_id bigint)
RETURNS TABLE (rank int, points bigint)
  AS 'MODULE_PATHNAME', 'lms_user_rank' LANGUAGE C VOLATILE;

-- Internal building blocks of the board routes.
CREATE FUNCTION lms.board_info(board text, "window" text)
RETURNS TABLE (board text, period_start date, generated_at timestamptz, total bigint)
  AS 'MODULE_PATHNAME', 'lms_board_info' LANGUAGE C VOLATILE STRICT;
CREATE FUNCTION lms.board_page(board text, "window" text, lim int, off int)
RETURNS TABLE (rank int, user_id bigint, display_name text, points bigint, level int)
  AS 'MODULE_PATHNAME', 'lms_board_page' LANGUAGE C VOLATILE STRICT;
CREATE FUNCTION lms.board_me(board text, "window" text, user_id bigint)
RETURNS TABLE (pos int, rank int, points bigint)
  AS 'MODULE_PATHNAME', 'lms_board_me' LANGUAGE C VOLATILE STRICT;

-- The query of a board read (the boards and the group ladder; api_leaderboards.c): window all |
-- week | month (default all), limit 1..100 (default 50), offset >= 0, around = me; errs lists
-- what is invalid, in that order.
CREATE FUNCTION lms.board_params(query jsonb, OUT win text, OUT lim int, OUT off int, OUT around text, OUT errs jsonb)
  AS 'MODULE_PATHNAME', 'lms_board_params' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- GET /leaderboards/global and /leaderboards/courses/{id}: the board answer (api_leaderboards.c):
-- 400 validation_failed naming each bad parameter; with a token (or around=me) the caller must be
-- a live session (401) and gets `me` {rank, points}, null when not on the board; around=me centres
-- the page on the caller, shifted to stay a full page near the bottom. VOLATILE: a read may
-- refresh a stale board on demand (never on a standby).
CREATE FUNCTION lms.board_answer(token text, board text, query jsonb)
RETURNS lms.api_response
  AS 'MODULE_PATHNAME', 'lms_board_answer'
  LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION lms.api_leaderboard_global(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
  AS 'MODULE_PATHNAME', 'lms_api_leaderboard_global'
  LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION lms.api_leaderboard_course(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, id => true);
  cid bigint := req.id;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  IF NOT EXISTS (SELECT FROM lms.courses c WHERE c.id = cid AND c.is_published) THEN
    RETURN lms.not_found('Course');
  END IF;
  RETURN lms.board_answer(token, 'course:' || cid, query);
END
$$;

CREATE FUNCTION lms.api_admin_leaderboards_refresh(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true);
  me lms.caller := req.who;
  t0 timestamptz := clock_timestamp();
  names jsonb;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  IF me.role <> 'admin' THEN
    RETURN lms.forbidden();
  END IF;
  SELECT coalesce(jsonb_agg(r ORDER BY ord), '[]') INTO names
    FROM lms.refresh_leaderboards() WITH ORDINALITY AS x(r, ord);
  PERFORM lms.audit(me.user_id, 'leaderboards.refresh', 'leaderboard', NULL,
                    jsonb_build_object('boards', jsonb_array_length(names)));
  RETURN lms.ok(200, jsonb_build_object(
    'refreshed', names,
    'took_ms', round(extract(epoch FROM clock_timestamp() - t0) * 1000)::bigint));
END
$$;

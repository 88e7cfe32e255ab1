-- Weekly leagues: the tables (docs/gamification.md#weekly-leagues). This file is also the
-- upgrade step extension/upgrade/1.0--1.1/34_league_schema.sql (a link to it): everything
-- here is new in 1.1, so a fresh install and an update run the same text. The functions are
-- in 93_leagues.sql and extension/leagues.c.
--
-- A league week is a calendar week, Monday 00:00 UTC to the next Monday (the week of the
-- boards). A learner joins a cohort of their tier with the first points of a week; the
-- rollover after the week ranks every cohort once and decides each member's next tier.

-- The tier table an admin edits (PUT /admin/leagues/tiers). Empty means the default ten
-- tiers of lms.league_default_tiers(): nothing is seeded, so pg_dump/pg_restore round-trips
-- an edited table without clashing with rows CREATE EXTENSION would insert.
CREATE TABLE lms.league_tiers (
  tier int PRIMARY KEY CHECK (tier BETWEEN 1 AND 50),
  name text NOT NULL UNIQUE CHECK (length(btrim(name)) BETWEEN 1 AND 40),
  promote_top int NOT NULL CHECK (promote_top >= 0),   -- ranks 1..promote_top move up a tier
  demote_from int CHECK (demote_from >= 2)              -- ranks demote_from.. move down; NULL: none
);

-- League settings by name; a missing row means the default (lms.league_setting).
CREATE TABLE lms.league_settings (
  name text PRIMARY KEY CHECK (name IN ('cohort_size', 'inactive_grace_weeks', 'join_slots')),
  value int NOT NULL CHECK (value >= 0)
);

-- One row per week rolled over, inserted by its rollover: the row's primary key is what makes
-- the rollover of a week happen once (a second rollover waits for the first one's insert, then
-- finds the week done). Joiners never write here, so nothing makes them queue.
CREATE TABLE lms.league_weeks (
  week date PRIMARY KEY CHECK (extract(isodow FROM week) = 1),   -- its Monday (UTC)
  rolled_over_at timestamptz NOT NULL,
  members bigint,                   -- what the rollover found
  promoted bigint,
  demoted bigint,
  took_ms bigint
);

-- A cohort: at most `capacity` learners of one tier who joined the same week. Joiners of a
-- tier fill `join_slots` open cohorts at once (slot = user id modulo join_slots), so the first
-- points of many learners do not all wait for one row; a full cohort closes.
CREATE TABLE lms.league_cohorts (
  id bigserial PRIMARY KEY,
  week date NOT NULL,
  tier int NOT NULL CHECK (tier >= 1),
  tier_name text NOT NULL,          -- the tier's name that week (history keeps it)
  slot int NOT NULL,                -- -1: formed by the rollover for learners who waited
  capacity int NOT NULL CHECK (capacity >= 2),
  size int NOT NULL CHECK (size >= 0 AND size <= capacity),
  is_open boolean NOT NULL,
  created_at timestamptz NOT NULL DEFAULT lms.clock()
);
-- the one open cohort of a (week, tier, slot): joiners upsert into it
CREATE UNIQUE INDEX league_cohorts_open ON lms.league_cohorts (week, tier, slot) WHERE is_open;
CREATE INDEX league_cohorts_by_week ON lms.league_cohorts (week, tier);

-- A learner's week: the points counted for the league (every ledger row of the week but
-- recalculation corrections), when they reached them (ties: who reached the score first),
-- and after the rollover their rank, outcome and next tier.
CREATE TABLE lms.league_members (
  user_id bigint NOT NULL REFERENCES lms.users ON DELETE CASCADE,
  week date NOT NULL,
  cohort_id bigint REFERENCES lms.league_cohorts,   -- NULL: waiting for the previous week's rollover
  tier int,                         -- NULL while waiting
  points bigint NOT NULL,
  reached_at timestamptz NOT NULL,
  joined_at timestamptz NOT NULL,
  final_rank int,                   -- set by the rollover (NULL when excluded)
  outcome text CHECK (outcome IN ('promoted', 'stayed', 'demoted', 'excluded')),
  new_tier int,                     -- the tier the rollover gave
  PRIMARY KEY (user_id, week),      -- "my week", and "my last week" scanning backwards
  CHECK ((cohort_id IS NULL) = (tier IS NULL)),
  CHECK ((outcome IS NULL) = (new_tier IS NULL))
) WITH (fillfactor = 80);           -- points and the rollover's columns are not indexed: HOT updates
CREATE INDEX league_members_by_cohort ON lms.league_members (cohort_id);
-- the rollover's members of a week. With the learner too: early in a week the statistics know
-- none of its rows, the planner then rates an index on (week) as good as the primary key for
-- "this learner's row of this week" and scanned every member of the week for each award and
-- each GET /leagues/me; on (week, user_id) that row is one probe whichever index is chosen.
CREATE INDEX league_members_by_week ON lms.league_members (week, user_id);
-- the few learners waiting for a rollover before they get a cohort
CREATE INDEX league_members_waiting ON lms.league_members (week) WHERE cohort_id IS NULL;

COMMENT ON TABLE lms.league_members IS
  'One row per learner and league week: points of the week, cohort, and the rollover''s rank, outcome and next tier';

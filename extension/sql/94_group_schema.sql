-- Groups and group ladders: the tables (docs/gamification.md#group-ladders). This file is also
-- the upgrade step extension/upgrade/1.0--1.1/35_group_schema.sql (a link to it): everything
-- here is new in 1.1. The functions are in 94_groups.sql.

-- A group of learners (a class section, a team), made by an instructor or an admin.
CREATE TABLE lms.groups (
  id bigserial PRIMARY KEY,
  name text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
  description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
  owner_id bigint NOT NULL REFERENCES lms.users,
  created_at timestamptz NOT NULL DEFAULT lms.clock(),
  updated_at timestamptz NOT NULL DEFAULT lms.clock()
);
CREATE INDEX groups_by_owner ON lms.groups (owner_id);

-- A learner may be in several groups.
CREATE TABLE lms.group_members (
  group_id bigint NOT NULL REFERENCES lms.groups ON DELETE CASCADE,
  user_id bigint NOT NULL REFERENCES lms.users ON DELETE CASCADE,
  added_at timestamptz NOT NULL DEFAULT lms.clock(),
  PRIMARY KEY (group_id, user_id)
);
-- "my groups", and the groups a changed board entry counts for
CREATE INDEX group_members_by_user ON lms.group_members (user_id);

-- The group ladder, one row per group and window: the points of its members on the global
-- board of that window (hidden and suspended learners are not on it, so their points do not
-- count), its member count (every member), and the average per member. Kept in step with the
-- global board by a trigger on its entries, so a ladder is exactly as fresh as that board.
CREATE TABLE lms.group_scores (
  group_id bigint NOT NULL REFERENCES lms.groups ON DELETE CASCADE,
  win text NOT NULL CHECK (win IN ('all', 'week', 'month')),
  members int NOT NULL CHECK (members >= 0),
  points bigint NOT NULL,
  average numeric NOT NULL,         -- points / members, 2 decimals (0 without members)
  reached_at timestamptz,           -- when the points last rose (tie order)
  PRIMARY KEY (group_id, win)
);
-- ladder order, by average (the default) and by total; groups without members are not on it
CREATE INDEX group_scores_by_average ON lms.group_scores (win, average DESC, reached_at, group_id) WHERE members > 0;
CREATE INDEX group_scores_by_total ON lms.group_scores (win, points DESC, reached_at, group_id) WHERE members > 0;

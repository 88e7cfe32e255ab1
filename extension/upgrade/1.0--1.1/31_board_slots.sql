-- Tie groups split by hour (lms.board_slots, extension/sql/86_leaderboards.sql): around=me and
-- deep pages find a position without counting a whole tie group. Filled by 68_board_slots.sql.
CREATE TABLE lms.board_slots (
  board text COLLATE "C" NOT NULL,
  win text COLLATE "C" NOT NULL CHECK (win IN ('all', 'week', 'month')),
  points bigint NOT NULL,
  slot bigint NOT NULL,
  learners bigint NOT NULL,
  PRIMARY KEY (board, win, points, slot)
);
-- The big one-instant tie groups split by user id (lms.board_parts, 86_leaderboards.sql). Empty
-- here: a full build (lms.refresh_leaderboards()) splits every big group, and a refresh splits a
-- group when it reaches the size; until then a group is counted, as in 1.0.
CREATE TABLE lms.board_parts (
  board text COLLATE "C" NOT NULL,
  win text COLLATE "C" NOT NULL CHECK (win IN ('all', 'week', 'month')),
  points bigint NOT NULL,
  reached_at timestamptz NOT NULL,
  part bigint NOT NULL,
  shift int NOT NULL CHECK (shift BETWEEN 0 AND 62),
  learners bigint NOT NULL,
  PRIMARY KEY (board, win, points, reached_at, part)
);
CREATE INDEX board_parts_empty ON lms.board_parts (board, win) WHERE learners = 0;

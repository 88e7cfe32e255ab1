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

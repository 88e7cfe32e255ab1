-- The tie groups of the boards built in 1.0, split by hour (every refresh keeps them from now on).
INSERT INTO lms.board_slots (board, win, points, slot, learners)
SELECT e.board, e.win, e.points, lms.hour_of(e.reached_at), count(*)
  FROM lms.board_entries e GROUP BY 1, 2, 3, 4;

-- A board's full build asks, per entry, whether its learner changed since the board's mark
-- (extension/sql/86_leaderboards.sql), instead of hashing every change logged since.
CREATE INDEX board_user_changes_by_user ON lms.board_user_changes (user_id, id);

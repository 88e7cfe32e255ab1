-- Board names and windows compare bytewise (COLLATE "C", as extension/sql/86_leaderboards.sql
-- declares them): every board read looks its rows up by them, and under the database's locale
-- each comparison of an index descent was a strcoll() call. The indexes are rebuilt.
ALTER TABLE lms.board_entries ALTER COLUMN board TYPE text COLLATE "C", ALTER COLUMN win TYPE text COLLATE "C";
ALTER TABLE lms.board_counts ALTER COLUMN board TYPE text COLLATE "C", ALTER COLUMN win TYPE text COLLATE "C";
ALTER TABLE lms.boards ALTER COLUMN board TYPE text COLLATE "C", ALTER COLUMN win TYPE text COLLATE "C";

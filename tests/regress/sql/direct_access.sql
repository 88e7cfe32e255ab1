\i tests/regress/setup.psql
-- The C code reads some tables, and writes one, without SQL (extension/direct.c). What it
-- assumes of them is verified: an index or column that is not what it reads is an error naming
-- the assumption, and a constraint or trigger on a column it writes makes the write go through
-- the executor, so that nothing is skipped.
-- the error's message and detail
CREATE FUNCTION pg_temp.err_detail(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN EXECUTE q; RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
  RETURN SQLSTATE || ': ' || SQLERRM || ' / ' || d;
END $$;

SELECT lms.create_user('ivy@example.org', 'password-1', 'Ivy', 'instructor') AS ivy,
       lms.create_user('ann@example.org', 'password-1', 'Ann') AS ann \gset
INSERT INTO lms.courses (slug, title, instructor_id, is_published) VALUES ('direct', 'Direct', :ivy, true)
RETURNING id AS c \gset
INSERT INTO lms.modules (course_id, title, position) VALUES (:c, 'Only', 1) RETURNING id AS m \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, duration_seconds)
VALUES (:m, :c, 'Watch', 'video', 1, 600) RETURNING id AS l \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, duration_seconds)
VALUES (:m, :c, 'Watch more', 'video', 2, 600) RETURNING id AS l2 \gset
SELECT result FROM lms.enroll(:ann, :c);
-- Ann completes the course: points, and boards with an entry
SELECT lms.record_progress(:ann, :l2, 600, 10, 100)->'course'->>'status' AS status;
SELECT lms.record_progress(:ann, :l, 600, 10, 100)->'course'->>'status' AS status;
SELECT count(*) FROM lms.leaderboard('global');

-- An index that is not the one the reads assume: the board's page read names it
BEGIN;
DROP INDEX lms.board_counts_above;
CREATE INDEX board_counts_above ON lms.board_counts (board, above, win) WHERE learners > 0;
SELECT pg_temp.err_detail('SELECT * FROM lms.leaderboard(''global'')');
ROLLBACK;
-- the same without its predicate, and the board order index in another direction
BEGIN;
DROP INDEX lms.board_counts_above;
CREATE INDEX board_counts_above ON lms.board_counts (board, win, above);
SELECT pg_temp.err_detail('SELECT * FROM lms.leaderboard(''global'')');
ROLLBACK;
BEGIN;
DROP INDEX lms.board_entries_in_order;
CREATE INDEX board_entries_in_order ON lms.board_entries (board, win, points, reached_at, user_id);
SELECT pg_temp.err_detail('SELECT * FROM lms.leaderboard(''global'')');
ROLLBACK;
-- a missing index, a column of another type
BEGIN;
ALTER TABLE lms.lesson_progress DROP CONSTRAINT lesson_progress_pkey;
SELECT pg_temp.err_detail(format('SELECT lms.record_progress(%s, %s, 600, 600, 100)', :ann, :l));
ROLLBACK;
BEGIN;
ALTER TABLE lms.board_entries ALTER COLUMN level TYPE bigint;
SELECT pg_temp.err_detail('SELECT * FROM lms.leaderboard(''global'')');
ROLLBACK;
-- restored, all is well again
SELECT count(*) FROM lms.leaderboard('global');

-- The direct write of lms.enrollments (last activity, last lesson, last position): a CHECK
-- constraint on a column it writes is enforced, not skipped, and the server log says why the
-- write goes through SQL (shown here at client_min_messages = log)
BEGIN;
ALTER TABLE lms.enrollments ADD CONSTRAINT position_under_100 CHECK (last_position_seconds < 100);
SET LOCAL client_min_messages = log;
SELECT pg_temp.err(format('SELECT lms.record_progress(%s, %s, 150, 150, 2)', :ann, :l));
SELECT lms.record_progress(:ann, :l, 50, 50, 2)->'lesson'->'last_position_seconds' AS position;
ROLLBACK;
-- a foreign key on a column it writes: checked when the write changes it
BEGIN;
CREATE TABLE public.allowed_lessons (id bigint PRIMARY KEY);
ALTER TABLE lms.enrollments ADD CONSTRAINT last_lesson_allowed FOREIGN KEY (last_lesson_id)
  REFERENCES public.allowed_lessons NOT VALID;
SET LOCAL client_min_messages = log;
SELECT pg_temp.err(format('SELECT lms.record_progress(%s, %s, 20, 20, 3)', :ann, :l2));
INSERT INTO public.allowed_lessons VALUES (:l2);
SELECT lms.record_progress(:ann, :l2, 20, 20, 3)->'lesson'->'last_position_seconds' AS position;
ROLLBACK;
-- a trigger on UPDATE: it fires
BEGIN;
CREATE TABLE public.touched (enrollment_id bigint, at timestamptz);
CREATE FUNCTION public.remember_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.touched VALUES (NEW.id, NEW.last_activity_at); RETURN NEW; END $$;
CREATE TRIGGER remember_touch AFTER UPDATE ON lms.enrollments FOR EACH ROW EXECUTE FUNCTION public.remember_touch();
SELECT lms.record_progress(:ann, :l, 30, 30, 4)->'lesson'->'last_position_seconds' AS position;
SELECT count(*) AS trigger_fired FROM public.touched;
ROLLBACK;
-- a trigger on UPDATE OF a column it writes fires as well; one on UPDATE OF columns it never
-- writes would not fire for this write through SQL either: the direct write stays (no LOG line)
BEGIN;
CREATE TABLE public.touched (enrollment_id bigint, at timestamptz);
CREATE FUNCTION public.remember_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.touched VALUES (NEW.id, NEW.last_activity_at); RETURN NEW; END $$;
CREATE TRIGGER remember_touch AFTER UPDATE OF last_position_seconds ON lms.enrollments
  FOR EACH ROW EXECUTE FUNCTION public.remember_touch();
SELECT lms.record_progress(:ann, :l, 32, 32, 4)->'lesson'->'last_position_seconds' AS position;
SELECT count(*) AS trigger_fired FROM public.touched;
DROP TRIGGER remember_touch ON lms.enrollments;
CREATE TRIGGER remember_touch AFTER UPDATE OF status, dropped_at ON lms.enrollments
  FOR EACH ROW EXECUTE FUNCTION public.remember_touch();
SET LOCAL client_min_messages = log;
SELECT lms.record_progress(:ann, :l, 34, 34, 4)->'lesson'->'last_position_seconds' AS position;
SELECT count(*) AS trigger_fired FROM public.touched;
ROLLBACK;
-- a CHECK on a column it does not write, and the one it enforces itself
-- (last_position_seconds >= 0, from the install script): the direct write stays
BEGIN;
ALTER TABLE lms.enrollments ADD CONSTRAINT enrolled_recently CHECK (enrolled_at > '2000-01-01');
SET LOCAL client_min_messages = log;
SELECT lms.record_progress(:ann, :l, 40, 40, 5)->'lesson'->'last_position_seconds' AS position;
ROLLBACK;
SELECT e.last_position_seconds, e.last_lesson_id = :l AS last_lesson FROM lms.enrollments e WHERE e.user_id = :ann;

-- Schema: every table of the contract, its keys, and the CHECK constraints for every stated range.
BEGIN;
SELECT plan(42);

SELECT has_table('lms', t, 'table lms.' || t) FROM unnest(ARRAY[
  'users', 'sessions', 'courses', 'course_prerequisites', 'modules', 'lessons', 'quizzes',
  'quiz_questions', 'quiz_attempts', 'enrollments', 'lesson_progress', 'module_progress',
  'points_ledger', 'certificates', 'audit_log']) AS t;

SELECT col_is_pk('lms', 'users', 'id', 'users keyed by id');
SELECT col_is_pk('lms', 'sessions', 'token_hash', 'sessions keyed by the token hash only');
SELECT col_is_pk('lms', 'lesson_progress', ARRAY['user_id', 'lesson_id'], 'one progress row per learner and lesson');
SELECT col_is_pk('lms', 'module_progress', ARRAY['user_id', 'module_id'], 'one module counter per learner and module');
SELECT col_is_unique('lms', 'enrollments', ARRAY['user_id', 'course_id'], 'one enrollment per learner and course');
SELECT col_is_unique('lms', 'points_ledger', 'source_key', 'a ledger source key is awarded once');
SELECT col_is_unique('lms', 'certificates', ARRAY['user_id', 'course_id'], 'one certificate per learner and course');
SELECT fk_ok('lms', 'lessons', 'module_id', 'lms', 'modules', 'id');
SELECT fk_ok('lms', 'enrollments', 'course_id', 'lms', 'courses', 'id');
SELECT fk_ok('lms', 'lesson_progress', 'lesson_id', 'lms', 'lessons', 'id');
SELECT hasnt_column('lms', 'users', 'password', 'no clear-text password column');
SELECT hasnt_column('lms', 'sessions', 'token', 'no clear-text token column');

-- fixtures for the constraint checks
INSERT INTO lms.users (id, email, password_hash, display_name, role)
VALUES (900001, 'teacher@example.com', 'x', 'Teacher', 'instructor'),
       (900002, 'learner@example.com', 'x', 'Learner', 'student');
INSERT INTO lms.courses (id, slug, title, instructor_id, capacity) VALUES (900001, 'c-one', 'Course', 900001, 1);
INSERT INTO lms.modules (id, course_id, title, position) VALUES (900001, 900001, 'M', 1);
INSERT INTO lms.lessons (id, module_id, course_id, title, kind, position, duration_seconds)
VALUES (900001, 900001, 900001, 'L', 'video', 1, 100);

SELECT throws_ok($$INSERT INTO lms.users (email, password_hash, display_name) VALUES ('Upper@Example.com', 'x', 'U')$$,
                 '23514', NULL, 'emails are stored lowercase');
SELECT throws_ok($$INSERT INTO lms.users (email, password_hash, display_name, role) VALUES ('r@example.com', 'x', 'R', 'root')$$,
                 '23514', NULL, 'role is student, instructor or admin');
SELECT throws_ok($$INSERT INTO lms.users (email, password_hash, display_name, timezone) VALUES ('t@example.com', 'x', 'T', 'Mars/Base')$$,
                 '23514', NULL, 'time zone must be known');
SELECT throws_ok($$UPDATE lms.courses SET seats_taken = 2 WHERE id = 900001$$,
                 '23514', NULL, 'seats taken never exceed capacity');
SELECT throws_ok($$UPDATE lms.courses SET capacity = 0 WHERE id = 900001$$, '23514', NULL, 'capacity is positive');
SELECT throws_ok($$UPDATE lms.courses SET slug = 'Not A Slug' WHERE id = 900001$$, '23514', NULL, 'slugs are url-safe');
SELECT throws_ok($$UPDATE lms.lessons SET kind = 'podcast' WHERE id = 900001$$, '23514', NULL, 'lesson kind is video, text or quiz');
SELECT throws_ok($$UPDATE lms.lessons SET duration_seconds = -1 WHERE id = 900001$$, '23514', NULL, 'durations are not negative');
SELECT throws_ok($$INSERT INTO lms.lesson_progress (user_id, lesson_id, course_id, module_id, completion_percentage)
                   VALUES (900002, 900001, 900001, 900001, 100.5)$$, '23514', NULL, 'completion percentage is at most 100');
SELECT throws_ok($$INSERT INTO lms.lesson_progress (user_id, lesson_id, course_id, module_id, watched_seconds)
                   VALUES (900002, 900001, 900001, 900001, -5)$$, '23514', NULL, 'watched seconds are not negative');
SELECT throws_ok($$INSERT INTO lms.lesson_progress (user_id, lesson_id, course_id, module_id, is_completed)
                   VALUES (900002, 900001, 900001, 900001, true)$$, '23514', NULL, 'a completed lesson has a completion time');
SELECT throws_ok($$INSERT INTO lms.quizzes (lesson_id, title, pass_score) VALUES (900001, 'Q', 101)$$,
                 '23514', NULL, 'pass score is a percentage');
SELECT throws_ok($$INSERT INTO lms.enrollments (user_id, course_id, status) VALUES (900002, 900001, 'paused')$$,
                 '23514', NULL, 'enrollment status is one of the contract''s');
SELECT throws_ok($$INSERT INTO lms.sessions (token_hash, user_id, expires_at) VALUES ('\x00', 900002, now() + interval '1 day')$$,
                 '23514', NULL, 'a session stores a 32-byte SHA-256');
SELECT throws_ok($$INSERT INTO lms.course_prerequisites VALUES (900001, 900001)$$, '23514', NULL,
                 'a course is not its own prerequisite');

SELECT * FROM finish();
ROLLBACK;

-- Data for bench/xapi_emit.sh: :learners learners enrolled in one course of :lessons video
-- lessons of 10 minutes, no progress yet (each run plays lessons from the start). Set-based;
-- the counters are what the write paths would have produced. Password: bench-password.
SET client_min_messages = warning;
SET lms.bcrypt_cost = 4;
SELECT lms.create_user('emit-instructor@example.com', 'bench-password', 'Emit Instructor', 'instructor') AS instructor \gset
INSERT INTO lms.users (email, password_hash, display_name)
SELECT format('emit%s@example.com', g), (SELECT password_hash FROM lms.users WHERE id = :instructor), format('Emit %s', g)
  FROM generate_series(1, :learners) g;
INSERT INTO lms.courses (slug, title, instructor_id, is_published) VALUES ('emit-course', 'Heartbeats', :instructor, true);
INSERT INTO lms.modules (course_id, title, position) SELECT id, 'Module', 1 FROM lms.courses WHERE slug = 'emit-course';
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, duration_seconds)
SELECT m.id, m.course_id, format('Video %s', l), 'video', l, 600
  FROM lms.modules m JOIN lms.courses c ON c.id = m.course_id AND c.slug = 'emit-course', generate_series(1, :lessons) l;
UPDATE lms.modules m SET lesson_count = :lessons FROM lms.courses c WHERE c.id = m.course_id AND c.slug = 'emit-course';
UPDATE lms.courses SET lesson_count = :lessons, total_duration_seconds = :lessons * 600 WHERE slug = 'emit-course';
INSERT INTO lms.enrollments (user_id, course_id)
SELECT u.id, c.id FROM lms.users u, lms.courses c WHERE u.role = 'student' AND c.slug = 'emit-course';
UPDATE lms.courses c SET active_enrollments = x.n, seats_taken = x.n
  FROM (SELECT course_id, count(*) n FROM lms.enrollments GROUP BY 1) x WHERE x.course_id = c.id;
ANALYZE;

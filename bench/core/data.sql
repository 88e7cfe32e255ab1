-- Benchmark data for bench/core.sh: a 10-lesson course and a 1,000-lesson course (10 modules
-- of 100), :learners learners enrolled in both, progress on about half of the lessons of each.
-- Set-based, deterministic; counters are set to what the write paths would have produced and
-- checked afterwards with tests/backup/invariants.sql.
SET client_min_messages = warning;
SET lms.bcrypt_cost = 4;
SELECT setseed(0.7);
SELECT lms.create_user('bench-instructor@example.com', 'password123', 'Bench Instructor', 'instructor') AS instructor \gset
INSERT INTO lms.users (email, password_hash, display_name)
SELECT format('bench%s@example.com', g), (SELECT password_hash FROM lms.users WHERE id = :instructor), format('Bench %s', g)
  FROM generate_series(1, :learners) g;

INSERT INTO lms.courses (slug, title, instructor_id, is_published)
VALUES ('small-course', 'Ten lessons', :instructor, true), ('large-course', 'A thousand lessons', :instructor, true);
INSERT INTO lms.modules (course_id, title, position)
SELECT c.id, format('Module %s', m), m
  FROM lms.courses c, generate_series(1, CASE WHEN c.slug = 'small-course' THEN 1 ELSE 10 END) m;
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, duration_seconds)
SELECT mo.id, mo.course_id, format('Lesson %s', l), 'video', l, 600
  FROM lms.modules mo JOIN lms.courses c ON c.id = mo.course_id,
       generate_series(1, CASE WHEN c.slug = 'small-course' THEN 10 ELSE 100 END) l;
UPDATE lms.modules mo SET lesson_count = (SELECT count(*) FROM lms.lessons l WHERE l.module_id = mo.id);
UPDATE lms.courses c SET lesson_count = x.n, total_duration_seconds = x.d
  FROM (SELECT course_id, count(*) n, sum(duration_seconds) d FROM lms.lessons GROUP BY 1) x WHERE x.course_id = c.id;

INSERT INTO lms.enrollments (user_id, course_id)
SELECT u.id, c.id FROM lms.users u, lms.courses c WHERE u.role = 'student';
UPDATE lms.courses c SET active_enrollments = x.n, seats_taken = x.n
  FROM (SELECT course_id, count(*) n FROM lms.enrollments GROUP BY 1) x WHERE x.course_id = c.id;

-- progress: about half of the lessons watched, most of those completed (not all: the
-- enrollments stay active so the write benchmark never completes a course)
INSERT INTO lms.lesson_progress (user_id, lesson_id, course_id, module_id, watched_seconds,
                                 last_position_seconds, completion_percentage, is_completed, completed_at)
SELECT e.user_id, l.id, l.course_id, l.module_id, 600, 600, 100, true, lms.clock()
  FROM lms.enrollments e JOIN lms.lessons l ON l.course_id = e.course_id
 WHERE random() < 0.5 AND l.position > 1;
UPDATE lms.enrollments e SET completed_lessons = x.n, last_activity_at = lms.clock(), last_active_hour = lms.hour_of(lms.clock())
  FROM (SELECT user_id, course_id, count(*) n FROM lms.lesson_progress GROUP BY 1, 2) x
 WHERE x.user_id = e.user_id AND x.course_id = e.course_id;
INSERT INTO lms.module_progress (user_id, module_id, completed_lessons)
SELECT user_id, module_id, count(*) FROM lms.lesson_progress GROUP BY 1, 2;
-- the summaries of the analytics, from the rows (as bench/data/generate.sh does)
SELECT lms.recount_analytics();
VACUUM ANALYZE;

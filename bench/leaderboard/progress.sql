-- The write benchmark's course: 1 video lesson and 200 text lessons (10 points each), every
-- learner of the 10k data set enrolled through lms.enroll.
SET client_min_messages = warning;
INSERT INTO lms.courses (slug, title, instructor_id, is_published) VALUES ('bench-progress', 'Progress', 1, true);
INSERT INTO lms.modules (course_id, title, position)
SELECT id, 'Module', 1 FROM lms.courses WHERE slug = 'bench-progress';
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, duration_seconds)
SELECT m.id, m.course_id, 'Video', 'video', 1, 600 FROM lms.modules m JOIN lms.courses c ON c.id = m.course_id
 WHERE c.slug = 'bench-progress';
INSERT INTO lms.lessons (module_id, course_id, title, kind, position)
SELECT m.id, m.course_id, 'Text ' || i, 'text', 1 + i
  FROM lms.modules m JOIN lms.courses c ON c.id = m.course_id, generate_series(1, 200) i
 WHERE c.slug = 'bench-progress';
SELECT count(lms.enroll(u.id, c.id)) FROM lms.users u, lms.courses c WHERE c.slug = 'bench-progress';
VACUUM ANALYZE;

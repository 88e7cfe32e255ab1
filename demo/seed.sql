-- Demo data for `make demo` and the backup round-trip test: an admin, three instructors, a dozen
-- published courses (modules with video, text and quiz lessons), 300 learners with enrollments
-- and progress. Everything goes through the extension's own API and SQL interface, so every
-- counter, point and streak is what real traffic would have produced. Deterministic.
-- Accounts: admin@example.com, instructor<n>@example.com, learner<n>@example.com; password
-- "password123" for all (generated accounts share one hash, at a low bcrypt cost: demo only).
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET lms.bcrypt_cost = 4;

DO $seed$
DECLARE
  shared_hash text;
  admin_token text;
  tokens text[] := '{}';
  instructor_ids bigint[] := '{}';
  course_ids bigint[] := '{}';
  lesson_ids bigint[];
  r lms.api_response;
  doc jsonb;
  course_id bigint;
  module_id bigint;
  lesson_id bigint;
  kind text;
  titles text[] := ARRAY['SQL from zero', 'PostgreSQL internals', 'C for systems programmers',
    'HTTP in depth', 'Data modelling', 'Query performance', 'Concurrency control', 'Backups and recovery',
    'Indexing strategies', 'JSON in the database', 'Security basics', 'Observability'];
  categories text[] := ARRAY['databases', 'programming', 'operations'];
  n int;
  c int;
  m int;
  l int;
  learner_token text;
  learner_id bigint;
BEGIN
  PERFORM setseed(0.42);
  PERFORM lms.create_user('admin@example.com', 'password123', 'Ada Admin', 'admin');
  FOR n IN 1..3 LOOP
    instructor_ids := instructor_ids || lms.create_user(format('instructor%s@example.com', n), 'password123',
                                                        format('Instructor %s', n), 'instructor');
  END LOOP;
  shared_hash := (SELECT password_hash FROM lms.users WHERE email = 'admin@example.com');
  INSERT INTO lms.users (email, password_hash, display_name, timezone)
  SELECT format('learner%s@example.com', g), shared_hash, format('Learner %s', g),
         (ARRAY['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Tokyo', 'Pacific/Auckland'])[1 + g % 5]
    FROM generate_series(1, 300) g;

  -- courses, authored by the instructors through the API
  FOR c IN 1..12 LOOP
    r := lms.api_auth_login(NULL, NULL, '{}', jsonb_build_object('email', format('instructor%s@example.com', 1 + c % 3),
                                                               'password', 'password123'));
    learner_token := (r.body::jsonb)->>'access_token';
    r := lms.api_course_create(learner_token, NULL, '{}', jsonb_strip_nulls(jsonb_build_object(
           'title', titles[c], 'summary', 'A demo course about ' || lower(titles[c]) || '.',
           'category', categories[1 + c % 3],
           'capacity', CASE WHEN c = 3 THEN 50 END,
           'access_days', CASE WHEN c = 4 THEN 30 END,
           'prerequisite_course_ids', CASE WHEN c = 2 THEN jsonb_build_array(course_ids[1]) END)));
    IF r.status <> 201 THEN RAISE EXCEPTION 'course create: %', r.body; END IF;
    course_id := ((r.body::jsonb)->>'id')::bigint;
    course_ids := course_ids || course_id;
    FOR m IN 1..3 LOOP
      r := lms.api_module_create(learner_token, course_id::text, '{}', jsonb_build_object('title', format('Part %s', m)));
      IF r.status <> 201 THEN RAISE EXCEPTION 'module create: %', r.body; END IF;
      module_id := ((r.body::jsonb)->>'id')::bigint;
      FOR l IN 1..4 LOOP
        kind := CASE WHEN l = 4 THEN 'quiz' WHEN l = 3 THEN 'text' ELSE 'video' END;
        r := lms.api_lesson_create(learner_token, module_id::text, '{}', jsonb_strip_nulls(jsonb_build_object(
               'title', format('Lesson %s.%s', m, l), 'kind', kind,
               'duration_seconds', CASE kind WHEN 'video' THEN 300 + 60 * l WHEN 'text' THEN 240 ELSE 120 END,
               'video_playback_id', CASE WHEN kind = 'video' THEN format('demo-%s-%s-%s', c, m, l) END,
               'content', CASE WHEN kind = 'text' THEN 'Reading for part ' || m || '.' END,
               'is_preview', (m = 1 AND l = 1))));
        IF r.status <> 201 THEN RAISE EXCEPTION 'lesson create: %', r.body; END IF;
        lesson_id := ((r.body::jsonb)->>'id')::bigint;
        IF kind = 'quiz' THEN
          r := lms.api_quiz_create(learner_token, lesson_id::text, '{}', jsonb_build_object(
                 'title', format('Check part %s', m), 'pass_score', 60, 'max_attempts', 3,
                 'questions', jsonb_build_array(
                   jsonb_build_object('prompt', 'Which is a PostgreSQL index type?', 'choices', jsonb_build_array('btree', 'hashmap', 'list'), 'answer', 0),
                   jsonb_build_object('prompt', 'What does MVCC stand for?', 'choices', jsonb_build_array('Many versions', 'Multi-version concurrency control'), 'answer', 1),
                   jsonb_build_object('prompt', 'Default port?', 'choices', jsonb_build_array('3306', '5432', '6379'), 'answer', 1))));
          IF r.status <> 201 THEN RAISE EXCEPTION 'quiz create: %', r.body; END IF;
        END IF;
      END LOOP;
    END LOOP;
    r := lms.api_course_publish(learner_token, course_id::text, '{}', NULL);
    IF r.status <> 200 THEN RAISE EXCEPTION 'publish: %', r.body; END IF;
  END LOOP;

  -- learners: three enrollments each and progress on about a third of the lessons
  FOR n IN 1..300 LOOP
    r := lms.api_auth_login(NULL, NULL, '{}', jsonb_build_object('email', format('learner%s@example.com', n), 'password', 'password123'));
    learner_token := (r.body::jsonb)->>'access_token';
    learner_id := ((r.body::jsonb)->'user'->>'id')::bigint;
    FOREACH c IN ARRAY ARRAY[1 + n % 12, 1 + (n * 5 + 3) % 12, 1 + (n * 7 + 6) % 12] LOOP
      course_id := course_ids[c];
      r := lms.api_enroll(learner_token, course_id::text, '{}', NULL);
      CONTINUE WHEN r.status NOT IN (200, 201);   -- full course, unmet prerequisite: like real life
      SELECT array_agg(les.id ORDER BY mo.position, les.position) INTO lesson_ids
        FROM lms.lessons les JOIN lms.modules mo ON mo.id = les.module_id WHERE les.course_id = course_ids[c];
      FOR l IN 1..array_length(lesson_ids, 1) LOOP
        CONTINUE WHEN random() > 0.34 AND NOT (n % 10 = 0);   -- every 10th learner finishes everything
        SELECT les.kind INTO kind FROM lms.lessons les WHERE les.id = lesson_ids[l];
        IF kind = 'quiz' THEN
          SELECT jsonb_object_agg(q.id::text, q.answer) INTO doc
            FROM lms.quiz_questions q JOIN lms.quizzes z ON z.id = q.quiz_id WHERE z.lesson_id = lesson_ids[l];
          r := lms.api_quiz_attempt(learner_token, (SELECT z.id FROM lms.quizzes z WHERE z.lesson_id = lesson_ids[l])::text,
                                    '{}', jsonb_build_object('answers', doc));
        ELSE
          r := lms.api_progress_record(learner_token, lesson_ids[l]::text, '{}', jsonb_strip_nulls(jsonb_build_object(
                 'watched_seconds', 400, 'last_position_seconds', 400, 'completion_percentage', 100,
                 'completed', CASE WHEN kind = 'text' THEN true END)));
        END IF;
        IF r.status NOT IN (200, 201) THEN RAISE EXCEPTION 'progress: %', r.body; END IF;
      END LOOP;
    END LOOP;
  END LOOP;
END
$seed$;
SELECT count(*) AS boards_refreshed FROM lms.refresh_leaderboards();
RESET client_min_messages;
SELECT (SELECT count(*) FROM lms.users) AS users, (SELECT count(*) FROM lms.courses) AS courses,
       (SELECT count(*) FROM lms.lessons) AS lessons, (SELECT count(*) FROM lms.enrollments) AS enrollments,
       (SELECT count(*) FROM lms.lesson_progress) AS progress_rows;

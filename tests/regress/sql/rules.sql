\i tests/regress/setup.psql
-- The rules C and SQL share (extension/rules.c, their SQL face in 12_rules.sql), compared at
-- their boundaries: what the C hot paths answer and what the SQL routes and functions answer
-- must be the same decision.

SELECT lms.create_user('ivy@example.org', 'password-1', 'Ivy', 'instructor') AS ivy \gset
SET lms.token_ttl = '100d';
INSERT INTO lms.courses (slug, title, instructor_id, is_published) VALUES ('rules', 'Rules', :ivy, true)
RETURNING id AS c \gset
INSERT INTO lms.modules (course_id, title, position) VALUES (:c, 'Only', 1) RETURNING id AS m \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, duration_seconds)
SELECT :m, :c, 'Lesson ' || g, 'text', g, 60 FROM generate_series(1, 3) g;
SELECT min(id) AS l1, max(id) AS l3 FROM lms.lessons WHERE course_id = :c \gset

-- Liveness and the status an enrollment reads as: one learner per case, expires_at exactly at
-- the clock, a microsecond on either side, never; the C paths (lms.is_enrolled, the progress
-- write, GET /lessons/{id}) and the SQL ones (lms.enrollment_live, lms.effective_status,
-- lms.course_progress, the enrollment object, the students list) must agree.
CREATE TEMP TABLE cases (name text, status text, expires_at timestamptz, uid bigint, tok text);
INSERT INTO cases (name, status, expires_at) VALUES
  ('active, no expiry', 'active', NULL),
  ('active, expires 1 us later', 'active', '2026-03-02 10:00:00.000001+00'),
  ('active, expires now', 'active', '2026-03-02 10:00:00+00'),
  ('active, expired 1 us ago', 'active', '2026-03-02 09:59:59.999999+00'),
  ('completed, expired long ago', 'completed', '2026-01-01 00:00:00+00'),
  ('dropped', 'dropped', NULL),
  ('expired', 'expired', '2026-02-01 00:00:00+00');
UPDATE cases SET uid = lms.create_user(replace(replace(replace(name, ' ', '-'), ',', ''), '1-us', 'us') || '@example.org',
                                       'password-1', initcap(name));
UPDATE cases SET tok = pg_temp.login((SELECT email FROM lms.users WHERE id = uid));
INSERT INTO lms.enrollments (user_id, course_id, status, expires_at, completed_at, dropped_at, completed_lessons)
SELECT uid, :c, status, expires_at, CASE WHEN status = 'completed' THEN '2026-02-01 00:00:00+00'::timestamptz END,
       CASE WHEN status = 'dropped' THEN '2026-02-01 00:00:00+00'::timestamptz END,
       CASE WHEN status = 'completed' THEN 3 ELSE 1 END
  FROM cases;
SELECT k.name,
       lms.is_enrolled(k.uid, :c) AS c_live,
       lms.enrollment_live(e.status, e.expires_at, lms.clock()) AS sql_live,
       (lms.api_lesson_get(k.tok, :'l1', '{}', NULL)).status AS c_lesson_read,
       (lms.api_progress_record(k.tok, :'l1', '{}', '{"watched_seconds":1}')).status AS c_write,
       lms.effective_status(e.status, e.expires_at) AS sql_shown,
       (SELECT p.status FROM lms.course_progress(k.uid, :c) p) AS course_progress,
       lms.enrollment_json(e)->>'status' AS enrollment_object,
       (SELECT s->>'status' FROM jsonb_array_elements((SELECT (lms.api_course_students(pg_temp.login('ivy@example.org'),
                 :'c', '{"limit":"100"}', NULL)).body::jsonb->'items')) s WHERE (s->>'user_id')::bigint = k.uid) AS students_list
  FROM cases k JOIN lms.enrollments e ON e.user_id = k.uid AND e.course_id = :c
 ORDER BY k.name;
-- the instant given explicitly
SELECT lms.enrollment_live('active', '2026-03-02 10:00:00+00', '2026-03-02 09:59:59+00') AS before_expiry,
       lms.enrollment_live('active', '2026-03-02 10:00:00+00', '2026-03-02 10:00:00+00') AS at_expiry,
       lms.enrollment_live(NULL, NULL, NULL) AS no_enrollment,
       lms.effective_status(NULL, NULL) AS no_status;

-- Percentages: the C answer of a progress write, lms.course_progress, the enrollment object and
-- lms.progress_percentage, after 0, 1, 2 and 3 of 3 lessons, and for 1/8, 2/3, 1/16000, 7/3, 0/0
SELECT lms.create_user('pat@example.org', 'password-1', 'Pat') AS pat \gset
SELECT pg_temp.login('pat@example.org') AS t_pat \gset
SELECT (lms.api_enroll(:'t_pat', :'c', '{}', NULL)).status;
-- (each step writes, then reads what the write left)
CREATE FUNCTION pg_temp.percent_step(n int, OUT c_answer text, OUT course_progress text,
                                     OUT enrollment_object text, OUT sql_rule text)
LANGUAGE plpgsql AS $$
BEGIN
  IF n > 0 THEN
    SELECT p.body::jsonb->'course'->>'progress_percentage' INTO c_answer
      FROM lms.api_progress_record(current_setting('rules.t_pat'), current_setting('rules.l' || n), '{}', '{"completed":true}') p;
  END IF;
  SELECT p.progress_percentage::text INTO course_progress
    FROM lms.course_progress(current_setting('rules.pat')::bigint, current_setting('rules.c')::bigint) p;
  SELECT lms.enrollment_json(e)->>'progress_percentage' INTO enrollment_object
    FROM lms.enrollments e WHERE e.user_id = current_setting('rules.pat')::bigint;
  sql_rule := lms.progress_percentage(n, 3)::text;
END $$;
SELECT set_config('rules.t_pat', :'t_pat', false), set_config('rules.pat', :'pat', false),
       set_config('rules.c', :'c', false), set_config('rules.l1', :'l1', false),
       set_config('rules.l2', (:l1 + 1)::text, false), set_config('rules.l3', :'l3', false) \gset
SELECT 0 AS completed, * FROM pg_temp.percent_step(0);
SELECT 1 AS completed, * FROM pg_temp.percent_step(1);
SELECT 2 AS completed, * FROM pg_temp.percent_step(2);
SELECT 3 AS completed, * FROM pg_temp.percent_step(3);
SELECT a, b, lms.progress_percentage(a, b) AS sql_rule, lms.analytics_progress(a, b) AS analytics,
       round(least(a, b) * 100.0 / nullif(b, 0), 2) AS plain_sql
  FROM (VALUES (1, 8), (2, 3), (1, 16000), (7, 3), (0, 0), (5, 0)) v(a, b);

-- Levels at their boundaries: lms.level_for (the C rule, also what SQL writes into
-- lms.learner_scores.level) and GET /gamification/me's level and level_progress
SELECT p, lms.level_for(p) FROM unnest(ARRAY[0, 99, 100, 299, 300, 599, 600, 4499, 4500, 5499, 5500,
                                             9223372036854775807]::bigint[]) p;
SELECT lms.create_user('lev@example.org', 'password-1', 'Lev') AS lev \gset
SELECT pg_temp.login('lev@example.org') AS t_lev \gset
-- (each step awards, then reads what the award left)
CREATE FUNCTION pg_temp.level_step(uid bigint, tok text, pts int, key text, OUT total bigint,
                                   OUT stored_level int, OUT rule int, OUT me_level int, OUT me_progress jsonb)
LANGUAGE plpgsql AS $$
DECLARE me jsonb;
BEGIN
  PERFORM lms.award_points(uid, pts, 'admin_correction', key);
  SELECT s.total_points, s.level, lms.level_for(s.total_points) INTO total, stored_level, rule
    FROM lms.learner_scores s WHERE s.user_id = uid;
  me := (lms.api_gamification_me(tok, NULL, '{}', NULL)).body::jsonb;
  me_level := (me->>'level')::int;
  me_progress := me->'level_progress';
END $$;
SELECT * FROM pg_temp.level_step(:lev, :'t_lev', 99, 'rules:1');
SELECT * FROM pg_temp.level_step(:lev, :'t_lev', 1, 'rules:2');
SELECT * FROM pg_temp.level_step(:lev, :'t_lev', 199, 'rules:3');
SELECT * FROM pg_temp.level_step(:lev, :'t_lev', 1, 'rules:4');
SELECT * FROM pg_temp.level_step(:lev, :'t_lev', 4199, 'rules:5');
SELECT * FROM pg_temp.level_step(:lev, :'t_lev', 1, 'rules:6');

-- Source keys: what the C write path and the SQL grant path store are lms.source_key's
SELECT lms.source_key('lesson', 7, '42'), lms.source_key('achievement', 7, 'first_lesson');
SELECT l.reason, l.source_key = lms.source_key(CASE l.reason WHEN 'lesson_completed' THEN 'lesson'
                                                      WHEN 'course_completed' THEN 'course'
                                                      ELSE l.reason END,
                                              l.user_id, CASE l.reason WHEN 'achievement' THEN a.code
                                                                       ELSE l.source_id::text END) AS same_key
  FROM lms.points_ledger l LEFT JOIN lms.achievements a ON l.reason = 'achievement' AND a.id = l.source_id
 WHERE l.user_id = :pat ORDER BY l.id;
-- a new achievement granted by SQL (grant_qualifying_achievements), then one by C (a write)
SELECT lms.create_user('root@example.org', 'password-1', 'Root', 'admin') AS root \gset
SELECT (lms.api_admin_achievement_create(pg_temp.login('root@example.org'), NULL, '{}',
        '{"code":"three_lessons","title":"Three","description":"Three lessons.","points":5,
          "criteria":{"kind":"lessons_completed","threshold":3}}')).status AS created;
SELECT l.user_id = :pat AS pat, l.source_key = lms.source_key('achievement', l.user_id, 'three_lessons') AS same_key
  FROM lms.points_ledger l JOIN lms.achievements a ON a.id = l.source_id
 WHERE l.reason = 'achievement' AND a.code = 'three_lessons';

-- Input ranges of the progress write: the route (validation_failed) and the SQL interface
-- (22023) accept and refuse the same values
SELECT v AS percentage,
       (SELECT p.status FROM lms.api_progress_record(:'t_pat', :'l1', '{}', jsonb_build_object('completion_percentage', v::numeric)) p) AS route,
       pg_temp.err(format('SELECT lms.record_progress(%s, %s, 0, 0, %s)', :pat, :l1, v)) AS sql_interface
  FROM unnest(ARRAY['-0.001', '0', '100', '100.001']) v;
SELECT v AS seconds,
       (SELECT p.status FROM lms.api_progress_record(:'t_pat', :'l1', '{}', jsonb_build_object('watched_seconds', v::numeric)) p) AS route,
       pg_temp.err(format('SELECT lms.record_progress(%s, %s, %s, 0, 0)', :pat, :l1, v)) AS sql_interface
  FROM unnest(ARRAY['-1', '0', '2147483647', '2147483648']) v;

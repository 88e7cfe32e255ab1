\i tests/regress/setup.psql
-- Gamification scoring: the ledger awards once, totals and levels follow, streaks count the
-- learner's own calendar days, achievements are granted once (also retroactively), and
-- recompute finds nothing to fix after all of it.
-- the scoring part of a progress answer
CREATE FUNCTION pg_temp.s(doc jsonb) RETURNS text LANGUAGE sql AS $$
  SELECT format('awarded=%s total=%s level=%s streak=%s/%s new=%s', doc->'points_awarded', doc->'total_points',
                doc->'level', doc#>'{streak,current}', doc#>'{streak,longest}', doc->'new_achievements')
$$;
CREATE FUNCTION pg_temp.score(uid bigint) RETURNS text LANGUAGE sql AS $$
  SELECT format('total=%s level=%s lessons=%s courses=%s perfects=%s streak=%s/%s last=%s',
                total_points, level, lessons_completed, courses_completed, quiz_perfects,
                current_streak, longest_streak, last_activity_date)
  FROM lms.learner_scores WHERE user_id = uid
$$;

SELECT lms.create_user('ivy@example.org', 'password-1', 'Ivy', 'instructor') AS ivy \gset
SELECT lms.create_user('ann@example.org', 'password-1', 'Ann') AS ann \gset
SELECT lms.create_user('bob@example.org', 'password-1', 'Bob') AS bob \gset
SELECT lms.create_user('tom@example.org', 'password-1', 'Tom') AS tom \gset
SELECT lms.create_user('hal@example.org', 'password-1', 'Hal') AS hal \gset
SELECT lms.create_user('dee@example.org', 'password-1', 'Dee') AS dee \gset
-- Tom lives in Tonga (UTC+13 in March 2026), Hal in Honolulu (UTC-10)
UPDATE lms.users SET timezone = 'Pacific/Tongatapu' WHERE id = :tom;
UPDATE lms.users SET timezone = 'Pacific/Honolulu' WHERE id = :hal;
SELECT timezone, (lms.clock() AT TIME ZONE timezone) AS local_now FROM lms.users WHERE id IN (:tom, :hal) ORDER BY id;

-- the level formula: level n starts at 100*n*(n-1)/2
SELECT p, lms.level_for(p) FROM unnest(ARRAY[-50, 0, 99, 100, 299, 300, 599, 600, 999, 1000, 4500, 4999999, 5000000]::bigint[]) p;

-- awards through the SQL interface: the ledger id, then NULL for a key already awarded
SELECT lms.award_points(:bob, 99, 'quiz_passed', 'test:bob:1') IS NOT NULL AS awarded;
SELECT pg_temp.score(:bob);
SELECT lms.award_points(:bob, 99, 'quiz_passed', 'test:bob:1') AS again;
SELECT pg_temp.score(:bob);
SELECT lms.award_points(:bob, 1, 'quiz_passed', 'test:bob:2') IS NOT NULL AS awarded;
SELECT pg_temp.score(:bob);   -- 100 points: level 2
SELECT lms.award_points(:bob, 199, 'quiz_passed', 'test:bob:3') IS NOT NULL AS awarded;
SELECT pg_temp.score(:bob);   -- 299: still level 2
SELECT lms.award_points(:bob, 1, 'quiz_passed', 'test:bob:4') IS NOT NULL AS awarded;
SELECT pg_temp.score(:bob);   -- 300: level 3
-- a negative correction is a new row: back to 250 and level 2
SELECT lms.award_points(:bob, -50, 'admin_correction', 'test:bob:fix') IS NOT NULL AS awarded;
SELECT pg_temp.score(:bob);
SELECT points, reason, source_key FROM lms.points_ledger WHERE user_id = :bob ORDER BY id;
-- bad awards
SELECT pg_temp.err(format('SELECT lms.award_points(%s, 0, %L, %L)', :bob, 'quiz_passed', 'zero'));
SELECT pg_temp.err(format('SELECT lms.award_points(%s, 5, %L, %L)', :bob, 'Bribe!', 'k'));
SELECT pg_temp.err(format('SELECT lms.award_points(%s, 5, %L, %L)', :bob, 'recalculation', 'k'));
SELECT pg_temp.err(format('SELECT lms.award_points(%s, 5, %L, %L)', :bob, 'quiz_passed', ''));
SELECT pg_temp.err(format('SELECT lms.award_points(%s, 5, %L, %L)', 999999, 'quiz_passed', 'k'));
SELECT pg_temp.err(format('SELECT lms.award_points(%s, 5, %L, %L, -3)', :bob, 'quiz_passed', 'k'));
SELECT pg_temp.err(format('SELECT lms.award_points(NULL, 5, %L, %L)', 'quiz_passed', 'k'));
SELECT pg_temp.err('INSERT INTO lms.points_ledger (user_id, points, reason, source_key) VALUES (1, 0, ''achievement'', ''x'')');

-- a course: two text lessons (10 and 25 points) and a video
INSERT INTO lms.courses (slug, title, instructor_id, is_published) VALUES ('pg', 'PostgreSQL', :ivy, true)
RETURNING id AS c \gset
INSERT INTO lms.modules (course_id, title, position) VALUES (:c, 'Basics', 1) RETURNING id AS m \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position) VALUES (:m, :c, 'Read', 'text', 1)
RETURNING id AS l1 \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, points) VALUES (:m, :c, 'Read more', 'text', 2, 25)
RETURNING id AS l2 \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, duration_seconds) VALUES (:m, :c, 'Watch', 'video', 3, 100)
RETURNING id AS l3 \gset
SELECT (lms.enroll(:ann, :c)).result, (lms.enroll(:tom, :c)).result, (lms.enroll(:hal, :c)).result,
       (lms.enroll(:dee, :c)).result;

-- Ann: a progress write without completion counts the day and awards nothing
SELECT pg_temp.s(lms.record_progress(:ann, :l3, 10, 10, 10));
-- completing a lesson: its points and the first-lesson achievement (10) in the same answer
SELECT pg_temp.s(lms.record_progress(:ann, :l1, 0, 0, 0, true));
-- the retry awards nothing
SELECT pg_temp.s(lms.record_progress(:ann, :l1, 0, 0, 0, true));
SELECT pg_temp.s(lms.record_progress(:ann, :l2, 0, 0, 0, true));
-- the last lesson completes the course: lesson 10 + course 100 + first_course 50
SELECT pg_temp.s(lms.record_progress(:ann, :l3, 95, 95, 95));
SELECT pg_temp.score(:ann);
SELECT points, reason, source_key ~ ('^(lesson|course|achievement):' || :ann || ':') AS keyed, course_id = :c AS in_course
  FROM lms.points_ledger WHERE user_id = :ann ORDER BY id;
SELECT course_id = :c AS c, points FROM lms.course_scores WHERE user_id = :ann;
SELECT a.code, ua.awarded_at FROM lms.user_achievements ua JOIN lms.achievements a ON a.id = ua.achievement_id
 WHERE ua.user_id = :ann ORDER BY a.id;

-- quizzes: pass 20, perfect 10 more, once per quiz; a fail awards nothing
SELECT lms.award_quiz(:bob, 7001, :c, 60, false) AS failed;
SELECT lms.award_quiz(:bob, 7001, :c, 80, true) AS passed;
SELECT lms.award_quiz(:bob, 7001, :c, 100, true) AS perfect_later;
SELECT lms.award_quiz(:bob, 7001, :c, 100, true) AS again;
SELECT pg_temp.err(format('SELECT lms.award_quiz(%s, 7002, %s, 101, true)', :bob, :c));
-- a perfect quiz: 20 + 10 + the quiz_perfect achievement (20) -- and those points reach 1000,
-- so points_1000 follows in the same call (the fixed point)
SELECT lms.award_points(:bob, 680, 'quiz_passed', 'test:bob:5') IS NOT NULL AS awarded;
SELECT pg_temp.score(:bob);
SELECT lms.award_quiz(:bob, 7002, :c, 100, true) AS perfect;
SELECT pg_temp.score(:bob);
SELECT a.code FROM lms.user_achievements ua JOIN lms.achievements a ON a.id = ua.achievement_id
 WHERE ua.user_id = :bob ORDER BY a.id;

-- streaks in the learner's own time zone: at 10:00 UTC it is 23:00 on March 2 in Tonga and
-- 00:00 on March 2 in Honolulu; both write at the same instant
SELECT pg_temp.s(lms.record_progress(:tom, :l3, 1, 1, 1)) AS tom, pg_temp.s(lms.record_progress(:hal, :l3, 1, 1, 1)) AS hal;
-- 11:30 UTC: March 3 has begun in Tonga (day 2), Honolulu is still on March 2
SET lms.clock_override = '2026-03-02 11:30:00+00';
SELECT pg_temp.s(lms.record_progress(:tom, :l3, 2, 2, 2)) AS tom, pg_temp.s(lms.record_progress(:hal, :l3, 2, 2, 2)) AS hal;
-- the next UTC day at 09:59: still March 3 in Tonga (same day), March 2 23:59 in Honolulu
SET lms.clock_override = '2026-03-03 09:59:00+00';
SELECT pg_temp.s(lms.record_progress(:tom, :l3, 3, 3, 3)) AS tom, pg_temp.s(lms.record_progress(:hal, :l3, 3, 3, 3)) AS hal;
-- 11:00 UTC: March 4 in Tonga, March 3 in Honolulu: both move on
SET lms.clock_override = '2026-03-03 11:00:00+00';
SELECT pg_temp.s(lms.record_progress(:tom, :l3, 4, 4, 4)) AS tom, pg_temp.s(lms.record_progress(:hal, :l3, 4, 4, 4)) AS hal;
SELECT u.display_name, d.day FROM lms.streak_days d JOIN lms.users u ON u.id = d.user_id
 WHERE d.user_id IN (:tom, :hal) ORDER BY u.id, d.day;

-- Dee (UTC) learns 7 days in a row: the 7th day brings the streak bonus (50) and the
-- streak_7 achievement (50), once
SET lms.clock_override = '2026-03-02 08:00:00+00';
SELECT pg_temp.s(lms.record_progress(:dee, :l3, 1, 1, 1)) AS day1;
SET lms.clock_override = '2026-03-03 23:59:00+00';
SELECT pg_temp.s(lms.record_progress(:dee, :l3, 1, 1, 1)) AS day2;
SET lms.clock_override = '2026-03-04 00:00:00+00';
SELECT pg_temp.s(lms.record_progress(:dee, :l3, 1, 1, 1)) AS day3;
SET lms.clock_override = '2026-03-05 12:00:00+00';
SELECT pg_temp.s(lms.record_progress(:dee, :l3, 1, 1, 1)) AS day4;
SET lms.clock_override = '2026-03-06 12:00:00+00';
SELECT pg_temp.s(lms.record_progress(:dee, :l3, 1, 1, 1)) AS day5;
SET lms.clock_override = '2026-03-07 12:00:00+00';
SELECT pg_temp.s(lms.record_progress(:dee, :l3, 1, 1, 1)) AS day6;
SET lms.clock_override = '2026-03-08 12:00:00+00';
SELECT pg_temp.s(lms.record_progress(:dee, :l3, 1, 1, 1)) AS day7;
SELECT pg_temp.s(lms.record_progress(:dee, :l3, 1, 1, 1)) AS day7_again;
SET lms.clock_override = '2026-03-09 12:00:00+00';
SELECT pg_temp.s(lms.record_progress(:dee, :l3, 1, 1, 1)) AS day8;
-- a clock moved back changes nothing
SET lms.clock_override = '2026-03-05 12:00:00+00';
SELECT pg_temp.s(lms.record_progress(:dee, :l3, 1, 1, 1)) AS back_in_time;
-- a missed day: current back to 1, longest kept
SET lms.clock_override = '2026-03-11 12:00:00+00';
SELECT pg_temp.s(lms.record_progress(:dee, :l3, 1, 1, 1)) AS after_gap;
SELECT points, reason, source_key = 'streak:' || :dee || ':2026-03-08' AS key_ok FROM lms.points_ledger
 WHERE user_id = :dee ORDER BY id;

-- an achievement created later is granted at once to everyone who already qualifies
-- (with its points); lms.grant_qualifying_achievements is what the admin route calls
INSERT INTO lms.achievements (code, title, points, kind, threshold)
VALUES ('two_lessons', 'Two down', 5, 'lessons_completed', 2) RETURNING id AS two \gset
SELECT lms.grant_qualifying_achievements(:two) AS granted;
SELECT lms.grant_qualifying_achievements(:two) AS granted_again;
SELECT u.display_name FROM lms.user_achievements ua JOIN lms.users u ON u.id = ua.user_id
 WHERE ua.achievement_id = :two ORDER BY u.id;
SELECT pg_temp.score(:ann);

-- recompute from the ledger, progress and active days: nothing disagrees
SELECT * FROM lms.recompute_gamification();
-- damage a learner's totals, a course total and an achievement: found (2 learners) and fixed
UPDATE lms.learner_scores SET total_points = 5, current_streak = 0 WHERE user_id = :ann;
UPDATE lms.course_scores SET points = 1 WHERE user_id = :bob;
DELETE FROM lms.user_achievements WHERE user_id = :bob
   AND achievement_id = (SELECT id FROM lms.achievements WHERE code = 'points_1000');
SELECT * FROM lms.recompute_gamification();
SELECT pg_temp.score(:ann);
SELECT * FROM lms.recompute_gamification();

-- the analyst view
SELECT user_id = :ann AS is_ann, display_name, enrollments_active, enrollments_completed, lessons_completed,
       total_points, level, current_streak, last_activity_at
  FROM lms.learner_activity ORDER BY user_id;

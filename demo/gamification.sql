-- 1.1 demo data for `make demo` (loaded after demo/seed.sql and demo/activity.sql, which keep to
-- the 1.0 contract): class sections and a study club for the group ladder, made through the
-- 1.1 API by the instructors. The weekly league needs nothing here: the seed's points were
-- earned this week, so its learners are already in their Bronze cohorts. Deterministic.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
DO $demo$
DECLARE
  r lms.api_response;
  tok text;
  gid bigint;
  section int;
BEGIN
  FOR n IN 1..3 LOOP
    r := lms.api_auth_login(NULL, NULL, '{}', jsonb_build_object('email', format('instructor%s@example.com', n), 'password', 'password123'));
    tok := (r.body::jsonb)->>'access_token';
    FOR s IN 1..2 LOOP
      section := (n - 1) * 2 + s;          -- sections 1..6, 50 learners each
      r := lms.api_group_create(tok, NULL, '{}', jsonb_build_object(
             'name', format('Section %s', chr(64 + section)),
             'description', format('Instructor %s''s %s class', n, CASE s WHEN 1 THEN 'morning' ELSE 'evening' END)));
      IF r.status <> 201 THEN RAISE EXCEPTION 'group: %', r.body; END IF;
      gid := ((r.body::jsonb)->>'id')::bigint;
      r := lms.api_group_members_add(tok, gid::text, '{}', jsonb_build_object('user_ids',
             (SELECT jsonb_agg(u.id ORDER BY u.id) FROM lms.users u
               WHERE u.email ~ '^learner[0-9]+@' AND (substring(u.email FROM '[0-9]+')::int - 1) % 6 = section - 1)));
      IF r.status <> 200 THEN RAISE EXCEPTION 'members: %', r.body; END IF;
    END LOOP;
  END LOOP;
  -- a club across the sections: every 10th learner is in two groups
  r := lms.api_auth_login(NULL, NULL, '{}', jsonb_build_object('email', 'admin@example.com', 'password', 'password123'));
  tok := (r.body::jsonb)->>'access_token';
  r := lms.api_group_create(tok, NULL, '{}', '{"name": "Study club", "description": "Open to every section"}');
  gid := ((r.body::jsonb)->>'id')::bigint;
  r := lms.api_group_members_add(tok, gid::text, '{}', jsonb_build_object('user_ids',
         (SELECT jsonb_agg(u.id ORDER BY u.id) FROM lms.users u
           WHERE u.email ~ '^learner[0-9]+@' AND substring(u.email FROM '[0-9]+')::int % 10 = 0)));
  IF r.status <> 200 THEN RAISE EXCEPTION 'club: %', r.body; END IF;
END
$demo$;
RESET client_min_messages;
SELECT (SELECT count(*) FROM lms.groups) AS groups, (SELECT count(*) FROM lms.group_members) AS memberships,
       (SELECT count(*) FROM lms.league_members WHERE week = lms.league_week(lms.clock())) AS league_learners_this_week,
       (SELECT count(*) FROM lms.league_cohorts WHERE week = lms.league_week(lms.clock())) AS cohorts_this_week;

\i tests/regress/setup.psql
-- Time zones that cannot be gamed (issue 10): only IANA names are accepted, an active day never
-- leaves [UTC date - 1, UTC date + 1], and a learner who moves their zone ahead before every
-- progress write cannot farm a streak. And logins bring old cheap password hashes up to the
-- current cost.

-- IANA names are valid, exactly as pg_timezone_names spells them; POSIX strings are not
SELECT z, lms.is_valid_timezone(z) FROM unnest(ARRAY['UTC', 'Europe/Paris', 'Pacific/Kiritimati',
  'Etc/GMT+12', 'America/Argentina/Buenos_Aires', 'AAA-24', 'GMT+99', 'EST5', '<+14>-14',
  'europe/paris', 'Europe/../Europe/Paris', '', 'Mars/Olympus']) z;
-- every name pg_timezone_names lists is accepted
SELECT count(*) > 300 AS many, count(*) FILTER (WHERE NOT lms.is_valid_timezone(name)) AS refused
  FROM pg_catalog.pg_timezone_names;
-- and the table refuses anything else
SELECT lms.create_user('zed@example.org', 'password-1', 'Zed') AS zed \gset
SELECT pg_temp.err(format('UPDATE lms.users SET timezone = %L WHERE id = %s', 'GMT+99', :zed));

-- the active day: the local date, never outside [UTC date - 1, UTC date + 1]
SELECT z, lms.active_day(z, '2026-03-02 10:00+00') AS at_10_utc, lms.active_day(z, '2026-03-02 23:30+00') AS at_2330_utc
  FROM unnest(ARRAY['UTC', 'Pacific/Kiritimati', 'Etc/GMT+12', 'AAA-24', 'AAA-72', 'AAA+96']) z;

-- the farming story: Zed asks to move the zone 24 h ahead before each progress write
SELECT lms.create_user('ivy@example.org', 'password-1', 'Ivy', 'instructor') AS ivy \gset
INSERT INTO lms.courses (slug, title, instructor_id, is_published) VALUES ('tz', 'Zones', :ivy, true)
RETURNING id AS c \gset
INSERT INTO lms.modules (course_id, title, position) VALUES (:c, 'Basics', 1) RETURNING id AS m \gset
INSERT INTO lms.lessons (module_id, course_id, title, kind, position, duration_seconds) VALUES (:m, :c, 'Watch', 'video', 1, 100)
RETURNING id AS l \gset
SELECT (lms.enroll(:zed, :c)).result;
SELECT body::jsonb->>'access_token' AS zed_token
  FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"zed@example.org","password":"password-1"}') \gset
-- POSIX zones are refused with validation_failed naming timezone
SELECT status, body::jsonb->>'code' AS code, body::jsonb->'errors' AS errors
  FROM lms.api_users_me_patch(:'zed_token', NULL, '{}', '{"timezone":"AAA-24"}');
SELECT status, body::jsonb->>'code' AS code, body::jsonb->'errors' AS errors
  FROM lms.api_auth_register(NULL, NULL, '{}', '{"email":"gmt@example.org","password":"password-1","display_name":"G","timezone":"GMT+99"}');
-- twelve rounds of "move the zone, write progress" inside ten seconds, through the real
-- zones furthest apart (+14 and -12) and the POSIX ones: the streak stays at 1 or 2
CREATE TEMP TABLE farm (round int, zone text, status int, streak int);
SELECT set_config('my.tok', :'zed_token', false) IS NOT NULL AS ok, set_config('my.zed', :'zed', false) IS NOT NULL AS ok,
       set_config('my.l', :'l', false) IS NOT NULL AS ok;
DO $$
DECLARE
  zones text[] := ARRAY['Pacific/Kiritimati', 'AAA-24', 'Etc/GMT+12', 'AAA-48', 'Pacific/Kiritimati', 'GMT+99',
                        'Etc/GMT-14', 'AAA-72', 'Pacific/Kiritimati', 'AAA-96', 'Etc/GMT+12', 'Pacific/Kiritimati'];
  tok text := current_setting('my.tok');
  r record;
BEGIN
  FOR i IN 1..12 LOOP
    PERFORM set_config('lms.clock_override', (timestamptz '2026-03-02 10:00:00+00' + i * interval '800 ms')::text, true);
    SELECT * INTO r FROM lms.api_users_me_patch(tok, NULL, '{}', jsonb_build_object('timezone', zones[i]));
    INSERT INTO farm SELECT i, zones[i], r.status,
      ((lms.record_progress(current_setting('my.zed')::bigint, current_setting('my.l')::bigint, 10 + i, 10 + i, 10 + i))#>>'{streak,current}')::int;
  END LOOP;
END $$;
SELECT * FROM farm ORDER BY round;
SELECT timezone FROM lms.users WHERE id = :zed;
SELECT day FROM lms.streak_days WHERE user_id = :zed ORDER BY day;
SELECT current_streak, longest_streak, last_activity_date FROM lms.learner_scores WHERE user_id = :zed;
-- no streak bonus, no streak achievement, and recompute agrees
SELECT count(*) AS streak_awards FROM lms.points_ledger WHERE user_id = :zed AND reason IN ('streak_bonus', 'achievement');
SELECT * FROM lms.recompute_gamification();

-- a zone change takes effect at once, within the clamp: moving east brings the next active day
-- forward by one at most; moving back west counts nothing until the local date passes the last
-- active day, and does not break the streak by itself
SET lms.clock_override = '2026-03-03 11:00:00+00';
UPDATE lms.users SET timezone = 'Etc/GMT+12' WHERE id = :zed;  -- local 2026-03-02 23:00
SELECT (lms.record_progress(:zed, :l, 30, 30, 30))#>'{streak}' AS west_same_day;
SET lms.clock_override = '2026-03-03 13:00:00+00';            -- local 2026-03-03 01:00, the last active day
SELECT (lms.record_progress(:zed, :l, 31, 31, 31))#>'{streak}' AS west_last_day_again;
SET lms.clock_override = '2026-03-04 13:00:00+00';            -- local 2026-03-04 01:00, the next day
SELECT (lms.record_progress(:zed, :l, 32, 32, 32))#>'{streak}' AS west_next_day;

-- Hashes: in a fresh session, before anything loaded the library, both login paths work
-- (they read lms.bcrypt_cost, a setting defined when the library loads)
\c -
SELECT status FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"nobody@example.org","password":"wrong-pass"}');
\c -
SELECT status FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"zed@example.org","password":"password-1"}');
-- a login re-hashes a password whose stored cost is below lms.bcrypt_cost
SET lms.bcrypt_cost = 4;
SELECT lms.create_user('old@example.org', 'password-1', 'Old') AS old \gset
SELECT split_part(password_hash, '$', 3) AS cost FROM lms.users WHERE id = :old;
SET lms.bcrypt_cost = 6;
SELECT lms.hash_is_outdated(password_hash, 6) AS outdated FROM lms.users WHERE id = :old;
-- a wrong password leaves the hash alone
SELECT status, body::jsonb->>'code' AS code FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"old@example.org","password":"wrong-pass"}');
SELECT split_part(password_hash, '$', 3) AS cost FROM lms.users WHERE id = :old;
-- the right one replaces it by a hash at the current cost, which still checks
SELECT status FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"old@example.org","password":"password-1"}');
SELECT split_part(password_hash, '$', 3) AS cost, lms.check_password('password-1', password_hash) AS checks,
       lms.hash_is_outdated(password_hash, 6) AS outdated FROM lms.users WHERE id = :old;
SELECT status FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"old@example.org","password":"password-1"}');
SELECT lms.hash_is_outdated(h, 6) AS outdated FROM unnest(ARRAY['$2a$06$abc', '$2a$05$abc', '$1$md5salt$x', 'plain']) h;

-- the unknown-email path costs what a known one does at the current cost, also for a known
-- email whose stored hash is cheap: at cost 12 (about 0.25 s a hash here) against a cost-4 hash
-- (about 0.001 s), a wrong password for the known email takes at least half the unknown's time
SET lms.bcrypt_cost = 4;
SELECT lms.create_user('cheap@example.org', 'password-1', 'Cheap') IS NOT NULL AS created;
SET lms.bcrypt_cost = 12;
CREATE TEMP TABLE login_ms (who text, ms float8);
DO $$
DECLARE t0 timestamptz;
BEGIN
  FOR i IN 1..2 LOOP
    t0 := clock_timestamp();
    PERFORM lms.api_auth_login(NULL, NULL, '{}', '{"email":"cheap@example.org","password":"wrong-pass"}');
    INSERT INTO login_ms VALUES ('known', extract(epoch FROM clock_timestamp() - t0) * 1000);
    t0 := clock_timestamp();
    PERFORM lms.api_auth_login(NULL, NULL, '{}', '{"email":"nobody@example.org","password":"wrong-pass"}');
    INSERT INTO login_ms VALUES ('unknown', extract(epoch FROM clock_timestamp() - t0) * 1000);
  END LOOP;
END $$;
SELECT (SELECT min(ms) FROM login_ms WHERE who = 'known') >= 0.5 * (SELECT min(ms) FROM login_ms WHERE who = 'unknown')
       AS same_cost;

\i tests/regress/setup.psql
-- Identity: users, passwords, login sessions and the token-to-user resolution.

-- lms.create_user: how a DBA makes the first admin; the email is stored lowercased
SELECT lms.create_user('Admin@Example.org', 'admin-password', 'Ada Admin', 'admin') AS admin_id \gset
SELECT lms.create_user('ivy@example.org', 'instructor-pw', 'Ivy Instructor', 'instructor') AS ivy \gset
SELECT lms.create_user('sam@example.org', 'student-pw', '  Sam Student  ') AS sam \gset
SELECT :admin_id AS admin_id, :ivy AS ivy, :sam AS sam;
SELECT lms.user_json(u) FROM lms.users u ORDER BY id;
-- bcrypt with the configured cost; never the password itself
SELECT email, password_hash LIKE '$2a$04$%' AS bcrypt_cost_4, length(password_hash) AS len,
       password_hash <> 'student-pw' AS not_plain
FROM lms.users ORDER BY id;
-- invalid input: SQLSTATE 22023; a duplicate email (any case): 23505
SELECT pg_temp.err($$SELECT lms.create_user('not-an-email', 'long-enough', 'X')$$);
SELECT pg_temp.err($$SELECT lms.create_user(NULL, 'long-enough', 'X')$$);
SELECT pg_temp.err($$SELECT lms.create_user('x@example.org', 'short', 'X')$$);
SELECT pg_temp.err($$SELECT lms.create_user('x@example.org', 'long-enough', '   ')$$);
SELECT pg_temp.err($$SELECT lms.create_user('x@example.org', 'long-enough', 'X', 'superuser')$$);
SELECT pg_temp.err($$SELECT lms.create_user('SAM@example.org', 'long-enough', 'X')$$);
-- only DBAs create users directly; the gateway runs API functions only
SELECT has_function_privilege('lms_gateway', 'lms.create_user(text,text,text,text)', 'EXECUTE') AS gateway_create_user,
       has_function_privilege('lms_gateway', 'lms.caller(text)', 'EXECUTE') AS gateway_caller,
       has_function_privilege('lms_gateway', 'lms.api_auth_login(text,text,jsonb,jsonb)', 'EXECUTE') AS gateway_login,
       has_function_privilege('public', 'lms.create_user(text,text,text,text)', 'EXECUTE') AS public_create_user;

-- POST /auth/register
SELECT * FROM lms.api_auth_register(NULL, NULL, '{}',
  '{"email":"  Reg@Example.org ","password":"register-pw","display_name":"Reggie","timezone":"Pacific/Auckland"}');
SELECT * FROM lms.api_auth_register(NULL, NULL, '{}',
  '{"email":"plain@example.org","password":"register-pw","display_name":"Plain"}');
-- 409 email_taken, whatever the case
SELECT * FROM lms.api_auth_register(NULL, NULL, '{}',
  '{"email":"REG@example.org","password":"register-pw","display_name":"Again"}');
-- 400 validation_failed, every bad field listed
SELECT * FROM lms.api_auth_register(NULL, NULL, '{}',
  '{"email":"nope","password":"short","display_name":"","timezone":"Mars/Olympus"}');
SELECT * FROM lms.api_auth_register(NULL, NULL, '{}', '{"email":"x@example.org","password":"1234567"}');
SELECT * FROM lms.api_auth_register(NULL, NULL, '{}', '{"email":42,"password":12345678,"display_name":["x"]}');
-- exactly 8 characters is enough
SELECT status FROM lms.api_auth_register(NULL, NULL, '{}', '{"email":"eight@example.org","password":"12345678","display_name":"Eight"}');
-- not an object
SELECT * FROM lms.api_auth_register(NULL, NULL, '{}', '[1,2]');
SELECT * FROM lms.api_auth_register(NULL, NULL, '{}', NULL);

-- POST /auth/login: a 43-character token, stored only as its SHA-256, valid 24 h
SELECT status, body::jsonb - 'access_token' AS body, length(body::jsonb->>'access_token') AS token_length
FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"Sam@Example.org","password":"student-pw"}');
SELECT body::jsonb->>'access_token' AS sam_token
FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"sam@example.org","password":"student-pw"}') \gset
SELECT count(*) AS sessions, count(*) FILTER (WHERE token_hash = sha256(convert_to(:'sam_token', 'UTF8'))) AS hashed_match,
       count(*) FILTER (WHERE encode(token_hash, 'escape') LIKE '%' || :'sam_token' || '%') AS plain_token_stored
FROM lms.sessions WHERE user_id = :sam;
SELECT :'sam_token' ~ '^[A-Za-z0-9_-]{43}$' AS base64url;
-- two logins never share a token
SELECT count(DISTINCT token_hash) AS distinct_tokens FROM lms.sessions;
-- 401 invalid_credentials: the same answer for a wrong password and an unknown email
SELECT * FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"sam@example.org","password":"wrong-password"}');
SELECT (SELECT body FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"sam@example.org","password":"wrong-password"}'))
     = (SELECT body FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"ghost@example.org","password":"wrong-password"}'))
       AS same_answer;
-- 400 for a body without the fields, invalid_json for a non-object
SELECT * FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"sam@example.org"}');
SELECT * FROM lms.api_auth_login(NULL, NULL, '{}', '{"password":"student-pw"}');
SELECT * FROM lms.api_auth_login(NULL, NULL, '{}', '"sam"');
-- the token lifetime follows lms.token_ttl
SET lms.token_ttl = '1h';
SELECT body::jsonb->>'expires_at' AS expires_at
FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"ivy@example.org","password":"instructor-pw"}');
RESET lms.token_ttl;

-- lms.caller: (user_id, role) of a live session, NULLs otherwise
SELECT * FROM lms.caller(:'sam_token');
SELECT * FROM lms.caller(NULL);
SELECT * FROM lms.caller('');
SELECT * FROM lms.caller('not-a-token');
SELECT * FROM lms.caller(repeat('x', 10000));
-- expired: 24 h later the token is dead
SET lms.clock_override = '2026-03-03 10:00:00+00';
SELECT * FROM lms.caller(:'sam_token');
SET lms.clock_override = '2026-03-03 09:59:59+00';
SELECT * FROM lms.caller(:'sam_token');
SET lms.clock_override = '2026-03-02 10:00:00+00';

-- GET /users/me
SELECT * FROM lms.api_users_me_get(:'sam_token', NULL, '{}', NULL);
SELECT * FROM lms.api_users_me_get(NULL, NULL, '{}', NULL);
SELECT * FROM lms.api_users_me_get('bogus', NULL, '{}', NULL);

-- PATCH /users/me
SELECT * FROM lms.api_users_me_patch(:'sam_token', NULL, '{}',
  '{"display_name":" Samuel ","timezone":"Europe/Paris","leaderboard_visible":false}');
SELECT * FROM lms.api_users_me_patch(:'sam_token', NULL, '{}', '{}');
SELECT * FROM lms.api_users_me_patch(:'sam_token', NULL, '{}', '{"timezone":"Mars/Olympus"}');
SELECT * FROM lms.api_users_me_patch(:'sam_token', NULL, '{}',
  '{"display_name":"","timezone":null,"leaderboard_visible":"yes"}');
SELECT * FROM lms.api_users_me_patch(:'sam_token', NULL, '{}', '[]');
SELECT * FROM lms.api_users_me_patch(NULL, NULL, '{}', '{"display_name":"X"}');
-- the role and email cannot be changed here
SELECT status, body::jsonb->>'role' AS role, body::jsonb->>'email' AS email
FROM lms.api_users_me_patch(:'sam_token', NULL, '{}', '{"role":"admin","email":"x@example.org"}');

-- suspended users: no login (403 only with the right password), no live token
UPDATE lms.users SET status = 'suspended' WHERE id = :sam;
SELECT * FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"sam@example.org","password":"student-pw"}');
SELECT status FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"sam@example.org","password":"wrong-password"}');
SELECT * FROM lms.caller(:'sam_token');
SELECT status FROM lms.api_users_me_get(:'sam_token', NULL, '{}', NULL);
UPDATE lms.users SET status = 'active' WHERE id = :sam;
SELECT * FROM lms.caller(:'sam_token');

-- POST /auth/logout: 204, that token is revoked, other sessions live on
SELECT body::jsonb->>'access_token' AS sam_token2
FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"sam@example.org","password":"student-pw"}') \gset
SELECT * FROM lms.api_auth_logout(:'sam_token', NULL, '{}', NULL);
SELECT * FROM lms.caller(:'sam_token');
SELECT * FROM lms.caller(:'sam_token2');
SELECT * FROM lms.api_auth_logout(:'sam_token', NULL, '{}', NULL);
SELECT * FROM lms.api_auth_logout(NULL, NULL, '{}', NULL);
SELECT count(*) FILTER (WHERE revoked_at IS NOT NULL) AS revoked, count(*) AS sessions FROM lms.sessions WHERE user_id = :sam;

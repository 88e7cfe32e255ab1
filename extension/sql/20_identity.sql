-- Identity: users, password hashes (bcrypt via pgcrypto), login sessions (only the SHA-256 of a
-- token is stored) and the token-to-user resolution every API function starts with (C,
-- identity.c).

-- pgcrypto may live in any schema (CASCADE puts it in the current one); our SECURITY DEFINER
-- functions pin search_path, so they reach it through these two wrappers, bound at install time.
-- lms.bcrypt_cost, read in C (a fresh backend knows the setting only once the library is loaded)
CREATE FUNCTION lms.bcrypt_cost() RETURNS int
  AS 'MODULE_PATHNAME', 'lms_bcrypt_cost_sql' LANGUAGE C STABLE PARALLEL SAFE;

DO $$
DECLARE
  s text := (SELECT e.extnamespace::regnamespace::text FROM pg_catalog.pg_extension e
             WHERE e.extname = 'pgcrypto');
BEGIN
  EXECUTE pg_catalog.format($f$
    CREATE FUNCTION lms.hash_password(password text) RETURNS text
    LANGUAGE sql VOLATILE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
    RETURN %1$s.crypt(password, %1$s.gen_salt('bf', pg_catalog.current_setting('lms.bcrypt_cost')::int))$f$, s);
  EXECUTE pg_catalog.format($f$
    CREATE FUNCTION lms.check_password(password text, hash text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
    RETURN %1$s.crypt(password, hash) = hash$f$, s);
END
$$;
COMMENT ON FUNCTION lms.hash_password(text) IS 'bcrypt hash with cost lms.bcrypt_cost';

-- True when a stored bcrypt hash ('$2a$NN$...') was made with a cost below `cost` (or is not a
-- bcrypt hash at all): login re-hashes it.
CREATE FUNCTION lms.hash_is_outdated(hash text, cost int) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN CASE WHEN hash ~ '^\$2[abxy]?\$[0-9]{2}\$'
            THEN pg_catalog.split_part(hash, '$', 3)::int < cost
            ELSE true END;

-- (user_id, role) of a live session, both NULL otherwise (missing, unknown, expired, revoked
-- token, or suspended user). One index lookup, plan prepared once per backend.
CREATE FUNCTION lms.caller(token text) RETURNS lms.caller
  AS 'MODULE_PATHNAME', 'lms_caller' LANGUAGE C STABLE PARALLEL SAFE;

-- 256 random bits, base64url (43 characters).
CREATE FUNCTION lms.new_token() RETURNS text
  AS 'MODULE_PATHNAME', 'lms_new_token' LANGUAGE C VOLATILE PARALLEL SAFE;

-- The stored form of a token.
CREATE FUNCTION lms.token_hash(token text) RETURNS bytea
  AS 'MODULE_PATHNAME', 'lms_token_hash_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The contract's `user` object.
CREATE FUNCTION lms.user_json(u lms.users) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.jsonb_build_object(
  'id', u.id, 'email', u.email, 'display_name', u.display_name, 'role', u.role,
  'timezone', u.timezone, 'status', u.status, 'leaderboard_visible', u.leaderboard_visible,
  'created_at', lms.iso(u.created_at));

-- How a DBA creates the first admin and instructors (and how registration creates students).
-- Raises 22023 for invalid input and 23505 (unique_violation) for an email already used.
CREATE FUNCTION lms.create_user(email text, password text, display_name text, role text DEFAULT 'student')
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  e text := pg_catalog.lower(pg_catalog.btrim(email));
  new_id bigint;
BEGIN
  IF e IS NULL OR pg_catalog.length(e) > 254 OR e !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' THEN
    RAISE EXCEPTION 'invalid email address'
      USING ERRCODE = 'invalid_parameter_value', DETAIL = 'An email address looks like name@example.org.';
  END IF;
  IF password IS NULL OR pg_catalog.length(password) < 8 THEN
    RAISE EXCEPTION 'password too short'
      USING ERRCODE = 'invalid_parameter_value', DETAIL = 'A password has at least 8 characters.';
  END IF;
  IF display_name IS NULL OR pg_catalog.length(pg_catalog.btrim(display_name)) NOT BETWEEN 1 AND 100 THEN
    RAISE EXCEPTION 'invalid display name'
      USING ERRCODE = 'invalid_parameter_value', DETAIL = 'A display name has 1 to 100 characters.';
  END IF;
  IF role IS NULL OR role NOT IN ('student', 'instructor', 'admin') THEN
    RAISE EXCEPTION 'invalid role "%"', role
      USING ERRCODE = 'invalid_parameter_value', DETAIL = 'A role is student, instructor or admin.';
  END IF;
  BEGIN
    INSERT INTO lms.users (email, password_hash, display_name, role)
    VALUES (e, lms.hash_password(password), pg_catalog.btrim(display_name), role)
    RETURNING id INTO new_id;
  EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'email address already registered'
      USING ERRCODE = 'unique_violation', DETAIL = pg_catalog.format('A user with email %s exists.', e);
  END;
  RETURN new_id;
END
$$;

-- POST /auth/register {email,password,display_name,timezone?} -> 201 user.
CREATE FUNCTION lms.api_auth_register(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, object => true);
  b jsonb := req.body;
  errs jsonb := '[]';
  email text; pw text; dn text; tz text;
  uid bigint;
  u lms.users;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  IF pg_catalog.jsonb_typeof(b->'email') IS DISTINCT FROM 'string'
     OR pg_catalog.lower(pg_catalog.btrim(b->>'email')) !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'
     OR pg_catalog.length(pg_catalog.btrim(b->>'email')) > 254 THEN
    errs := errs || pg_catalog.jsonb_build_object('field', 'email', 'message', 'must be a valid email address');
  ELSE
    email := pg_catalog.lower(pg_catalog.btrim(b->>'email'));
  END IF;
  IF pg_catalog.jsonb_typeof(b->'password') IS DISTINCT FROM 'string' OR pg_catalog.length(b->>'password') < 8 THEN
    errs := errs || pg_catalog.jsonb_build_object('field', 'password', 'message', 'must be a string of at least 8 characters');
  ELSE
    pw := b->>'password';
  END IF;
  IF pg_catalog.jsonb_typeof(b->'display_name') IS DISTINCT FROM 'string'
     OR pg_catalog.length(pg_catalog.btrim(b->>'display_name')) NOT BETWEEN 1 AND 100 THEN
    errs := errs || pg_catalog.jsonb_build_object('field', 'display_name', 'message', 'must be a string of 1 to 100 characters');
  ELSE
    dn := pg_catalog.btrim(b->>'display_name');
  END IF;
  IF b ? 'timezone' AND pg_catalog.jsonb_typeof(b->'timezone') IS DISTINCT FROM 'null' THEN
    IF pg_catalog.jsonb_typeof(b->'timezone') <> 'string' OR NOT lms.is_valid_timezone(b->>'timezone') THEN
      errs := errs || pg_catalog.jsonb_build_object('field', 'timezone', 'message', 'must be a known time zone such as Europe/Paris');
    ELSE
      tz := b->>'timezone';
    END IF;
  END IF;
  IF pg_catalog.jsonb_array_length(errs) > 0 THEN
    RETURN lms.validation_failed(errs);
  END IF;
  BEGIN
    uid := lms.create_user(email, pw, dn, 'student');
  EXCEPTION WHEN unique_violation THEN
    RETURN lms.problem(409, 'email_taken', 'An account with this email address already exists.');
  END;
  UPDATE lms.users SET timezone = coalesce(tz, timezone) WHERE id = uid RETURNING * INTO u;
  RETURN lms.ok(201, lms.user_json(u));
END
$$;

-- POST /auth/login {email,password} -> 200 {access_token,token_type,expires_at,user}.
-- Unknown email and wrong password give the same answer after the same bcrypt work: at least
-- one hash at the current lms.bcrypt_cost on every path. A stored hash made with a lower cost
-- is checked at its own cost, then replaced by a hash at the current cost (right password) or
-- matched by the same work on a throw-away hash (wrong one).
CREATE FUNCTION lms.api_auth_login(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, object => true);
  b jsonb := req.body;
  u lms.users;
  ok boolean;
  tok text;
  exp timestamptz;
  -- read in C: in a fresh backend this also loads the library, which defines the setting
  -- lms.hash_password reads
  cost int := lms.bcrypt_cost();
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  IF pg_catalog.jsonb_typeof(b->'email') IS DISTINCT FROM 'string' THEN
    RETURN lms.invalid('email', 'is required');
  END IF;
  IF pg_catalog.jsonb_typeof(b->'password') IS DISTINCT FROM 'string' THEN
    RETURN lms.invalid('password', 'is required');
  END IF;
  SELECT * INTO u FROM lms.users WHERE email = pg_catalog.lower(pg_catalog.btrim(b->>'email'));
  IF u.id IS NULL THEN
    -- the same bcrypt work as a real check, so timing does not reveal unknown emails
    PERFORM lms.hash_password(b->>'password');
    ok := false;
  ELSE
    ok := lms.check_password(b->>'password', u.password_hash);
    IF lms.hash_is_outdated(u.password_hash, cost) THEN
      IF ok THEN
        UPDATE lms.users SET password_hash = lms.hash_password(b->>'password') WHERE id = u.id;
      ELSE
        PERFORM lms.hash_password(b->>'password');
      END IF;
    END IF;
  END IF;
  IF NOT ok THEN
    RETURN lms.problem(401, 'invalid_credentials', 'The email or password is wrong.');
  END IF;
  IF u.status = 'suspended' THEN
    RETURN lms.problem(403, 'account_suspended', 'This account is suspended.');
  END IF;
  tok := lms.new_token();
  exp := lms.clock() + pg_catalog.current_setting('lms.token_ttl')::interval;
  INSERT INTO lms.sessions (token_hash, user_id, created_at, expires_at)
  VALUES (lms.token_hash(tok), u.id, lms.clock(), exp);
  RETURN lms.ok(200, pg_catalog.jsonb_build_object(
    'access_token', tok, 'token_type', 'bearer', 'expires_at', lms.iso(exp), 'user', lms.user_json(u)));
END
$$;

-- POST /auth/logout -> 204; the token used is revoked.
CREATE FUNCTION lms.api_auth_logout(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF (lms.caller(token)).user_id IS NULL THEN RETURN lms.unauthenticated(); END IF;
  UPDATE lms.sessions SET revoked_at = lms.clock()
  WHERE token_hash = lms.token_hash(token) AND revoked_at IS NULL;
  RETURN ROW(204, NULL)::lms.api_response;
END
$$;

-- GET /users/me -> 200 user.
CREATE FUNCTION lms.api_users_me_get(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true);
  uid bigint := (req.who).user_id;
  u lms.users;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  SELECT * INTO u FROM lms.users WHERE id = uid;
  RETURN lms.ok(200, lms.user_json(u));
END
$$;

-- PATCH /users/me {display_name?,timezone?,leaderboard_visible?} -> 200 user.
CREATE FUNCTION lms.api_users_me_patch(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true, object => true);
  uid bigint := (req.who).user_id;
  b jsonb := req.body;
  errs jsonb := '[]';
  u lms.users;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  IF b ? 'display_name' AND (pg_catalog.jsonb_typeof(b->'display_name') IS DISTINCT FROM 'string'
     OR pg_catalog.length(pg_catalog.btrim(b->>'display_name')) NOT BETWEEN 1 AND 100) THEN
    errs := errs || pg_catalog.jsonb_build_object('field', 'display_name', 'message', 'must be a string of 1 to 100 characters');
  END IF;
  IF b ? 'timezone' AND (pg_catalog.jsonb_typeof(b->'timezone') IS DISTINCT FROM 'string'
     OR NOT lms.is_valid_timezone(b->>'timezone')) THEN
    errs := errs || pg_catalog.jsonb_build_object('field', 'timezone', 'message', 'must be a known time zone such as Europe/Paris');
  END IF;
  IF b ? 'leaderboard_visible' AND pg_catalog.jsonb_typeof(b->'leaderboard_visible') IS DISTINCT FROM 'boolean' THEN
    errs := errs || pg_catalog.jsonb_build_object('field', 'leaderboard_visible', 'message', 'must be true or false');
  END IF;
  IF pg_catalog.jsonb_array_length(errs) > 0 THEN
    RETURN lms.validation_failed(errs);
  END IF;
  UPDATE lms.users SET
    display_name = CASE WHEN b ? 'display_name' THEN pg_catalog.btrim(b->>'display_name') ELSE display_name END,
    timezone = CASE WHEN b ? 'timezone' THEN b->>'timezone' ELSE timezone END,
    leaderboard_visible = CASE WHEN b ? 'leaderboard_visible' THEN (b->>'leaderboard_visible')::boolean
                               ELSE leaderboard_visible END,
    updated_at = lms.clock()
  WHERE id = uid
  RETURNING * INTO u;
  RETURN lms.ok(200, lms.user_json(u));
END
$$;

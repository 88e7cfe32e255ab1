-- lms 1.0 install script, assembled by the Makefile from extension/sql/NN_*.sql (one concept each).
\echo Use "CREATE EXTENSION lms CASCADE" to load this file. \quit

-- Roles are cluster-wide, so they may outlive a DROP EXTENSION: create them only once.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'lms_gateway') THEN
    CREATE ROLE lms_gateway NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'lms_analyst') THEN
    CREATE ROLE lms_analyst NOLOGIN;
  END IF;
END
$$;

-- What every API function returns: the HTTP status and the JSON body to send as is.
CREATE TYPE lms.api_response AS (status int, body text);

-- The one notion of "now" in the extension: the transaction's start time, or the instant in
-- lms.clock_override (superuser only) so tests can travel in time. Defined in C (lms.c).
CREATE FUNCTION lms.clock() RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'lms_clock' LANGUAGE C STABLE PARALLEL SAFE;

-- True when the name is a time zone PostgreSQL knows ('Europe/Paris', 'UTC', ...).
CREATE FUNCTION lms.is_valid_timezone(name text) RETURNS boolean
  AS 'MODULE_PATHNAME', 'lms_is_valid_timezone' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ISO 8601 UTC with milliseconds and a Z, the contract's timestamp format.
CREATE FUNCTION lms.iso(ts timestamptz) RETURNS text
  LANGUAGE sql STABLE STRICT PARALLEL SAFE
  RETURN pg_catalog.to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
-- The data model. Ranges the contract states are CHECK constraints; counters that reads need
-- are columns kept up to date by the write paths (never recomputed by scanning on a read).

CREATE TABLE lms.users (
  id bigserial PRIMARY KEY,
  email text NOT NULL UNIQUE
    CHECK (email = lower(email) AND length(email) <= 254 AND email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
  password_hash text NOT NULL,
  display_name text NOT NULL CHECK (length(btrim(display_name)) BETWEEN 1 AND 100),
  role text NOT NULL DEFAULT 'student' CHECK (role IN ('student', 'instructor', 'admin')),
  timezone text NOT NULL DEFAULT 'UTC' CHECK (lms.is_valid_timezone(timezone)),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  leaderboard_visible boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT lms.clock(),
  updated_at timestamptz NOT NULL DEFAULT lms.clock()
);

-- A login session: only the SHA-256 of the bearer token is stored.
CREATE TABLE lms.sessions (
  token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
  user_id bigint NOT NULL REFERENCES lms.users ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT lms.clock(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  CHECK (expires_at > created_at)
);
-- suspending a user revokes every live token
CREATE INDEX sessions_live_by_user ON lms.sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE lms.courses (
  id bigserial PRIMARY KEY,
  slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 120),
  title text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
  summary text NOT NULL DEFAULT '' CHECK (length(summary) <= 5000),
  category text CHECK (length(category) BETWEEN 1 AND 60),
  instructor_id bigint NOT NULL REFERENCES lms.users,
  is_published boolean NOT NULL DEFAULT false,
  capacity int CHECK (capacity > 0),
  enroll_opens_at timestamptz,
  enroll_closes_at timestamptz,
  access_days int CHECK (access_days > 0),
  -- counters maintained by the authoring and enrollment write paths
  lesson_count int NOT NULL DEFAULT 0 CHECK (lesson_count >= 0),               -- published lessons
  total_duration_seconds bigint NOT NULL DEFAULT 0 CHECK (total_duration_seconds >= 0),
  active_enrollments int NOT NULL DEFAULT 0 CHECK (active_enrollments >= 0),
  seats_taken int NOT NULL DEFAULT 0 CHECK (seats_taken >= 0),                 -- active + completed
  created_at timestamptz NOT NULL DEFAULT lms.clock(),
  updated_at timestamptz NOT NULL DEFAULT lms.clock(),
  CHECK (enroll_closes_at IS NULL OR enroll_opens_at IS NULL OR enroll_closes_at > enroll_opens_at),
  -- the last line of defence for capacity: the enroll path takes seats with a guarded UPDATE
  CHECK (capacity IS NULL OR seats_taken <= capacity)
);
CREATE INDEX courses_by_instructor ON lms.courses (instructor_id);

CREATE TABLE lms.course_prerequisites (
  course_id bigint NOT NULL REFERENCES lms.courses ON DELETE CASCADE,
  prerequisite_id bigint NOT NULL REFERENCES lms.courses ON DELETE CASCADE,
  PRIMARY KEY (course_id, prerequisite_id),
  CHECK (course_id <> prerequisite_id)
);

CREATE TABLE lms.modules (
  id bigserial PRIMARY KEY,
  course_id bigint NOT NULL REFERENCES lms.courses ON DELETE CASCADE,
  title text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
  position int NOT NULL CHECK (position >= 1),
  lesson_count int NOT NULL DEFAULT 0 CHECK (lesson_count >= 0),               -- published lessons
  created_at timestamptz NOT NULL DEFAULT lms.clock()
);
CREATE INDEX modules_by_course ON lms.modules (course_id, position);

CREATE TABLE lms.lessons (
  id bigserial PRIMARY KEY,
  module_id bigint NOT NULL REFERENCES lms.modules ON DELETE CASCADE,
  course_id bigint NOT NULL REFERENCES lms.courses ON DELETE CASCADE,          -- denormalized for O(1) checks
  title text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
  kind text NOT NULL CHECK (kind IN ('video', 'text', 'quiz')),
  position int NOT NULL CHECK (position >= 1),
  duration_seconds int NOT NULL DEFAULT 0 CHECK (duration_seconds >= 0),
  points int NOT NULL DEFAULT 10 CHECK (points BETWEEN 0 AND 100000),
  is_preview boolean NOT NULL DEFAULT false,
  is_published boolean NOT NULL DEFAULT true,
  available_from timestamptz,
  content text,
  video_playback_id text CHECK (length(video_playback_id) <= 200),
  created_at timestamptz NOT NULL DEFAULT lms.clock(),
  updated_at timestamptz NOT NULL DEFAULT lms.clock()
);
CREATE INDEX lessons_by_module ON lms.lessons (module_id, position);
CREATE INDEX lessons_by_course ON lms.lessons (course_id);

CREATE TABLE lms.quizzes (
  id bigserial PRIMARY KEY,
  lesson_id bigint NOT NULL UNIQUE REFERENCES lms.lessons ON DELETE CASCADE,
  title text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
  pass_score int NOT NULL CHECK (pass_score BETWEEN 0 AND 100),
  max_attempts int CHECK (max_attempts >= 1),                                  -- NULL: unlimited
  created_at timestamptz NOT NULL DEFAULT lms.clock()
);

CREATE TABLE lms.quiz_questions (
  id bigserial PRIMARY KEY,
  quiz_id bigint NOT NULL REFERENCES lms.quizzes ON DELETE CASCADE,
  position int NOT NULL CHECK (position >= 1),
  prompt text NOT NULL CHECK (length(btrim(prompt)) >= 1),
  choices jsonb NOT NULL CHECK (jsonb_typeof(choices) = 'array' AND jsonb_array_length(choices) >= 2),
  answer int NOT NULL CHECK (answer >= 0 AND answer < jsonb_array_length(choices)),
  UNIQUE (quiz_id, position)
);

CREATE TABLE lms.enrollments (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES lms.users ON DELETE CASCADE,
  course_id bigint NOT NULL REFERENCES lms.courses ON DELETE CASCADE,
  -- 'active' past expires_at reads as 'expired' until the enroll path or a sweep stores it
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'dropped', 'expired')),
  completed_lessons int NOT NULL DEFAULT 0 CHECK (completed_lessons >= 0),     -- published lessons completed
  enrolled_at timestamptz NOT NULL DEFAULT lms.clock(),
  completed_at timestamptz,
  dropped_at timestamptz,
  expires_at timestamptz,
  last_activity_at timestamptz,
  last_lesson_id bigint,
  last_position_seconds int CHECK (last_position_seconds >= 0),
  UNIQUE (user_id, course_id),
  CHECK ((status = 'completed') = (completed_at IS NOT NULL) OR status = 'dropped' OR status = 'expired')
);
CREATE INDEX enrollments_by_course ON lms.enrollments (course_id, status);
-- the seats held by enrollments past their access window, counted on reads and released on enroll
CREATE INDEX enrollments_overdue ON lms.enrollments (course_id, expires_at)
  WHERE status = 'active' AND expires_at IS NOT NULL;

CREATE TABLE lms.lesson_progress (
  user_id bigint NOT NULL REFERENCES lms.users ON DELETE CASCADE,
  lesson_id bigint NOT NULL REFERENCES lms.lessons ON DELETE CASCADE,
  course_id bigint NOT NULL,
  module_id bigint NOT NULL,
  watched_seconds int NOT NULL DEFAULT 0 CHECK (watched_seconds >= 0),
  last_position_seconds int NOT NULL DEFAULT 0 CHECK (last_position_seconds >= 0),
  completion_percentage numeric(5,2) NOT NULL DEFAULT 0 CHECK (completion_percentage BETWEEN 0 AND 100),
  is_completed boolean NOT NULL DEFAULT false,
  completed_at timestamptz,
  started_at timestamptz NOT NULL DEFAULT lms.clock(),
  updated_at timestamptz NOT NULL DEFAULT lms.clock(),
  PRIMARY KEY (user_id, lesson_id),
  CHECK (is_completed = (completed_at IS NOT NULL))
);
-- per-lesson analytics and the counter fix-up when a lesson is (un)published
CREATE INDEX lesson_progress_by_lesson ON lms.lesson_progress (lesson_id);

-- Completed published lessons per learner and module: what the module breakdown reads.
CREATE TABLE lms.module_progress (
  user_id bigint NOT NULL REFERENCES lms.users ON DELETE CASCADE,
  module_id bigint NOT NULL REFERENCES lms.modules ON DELETE CASCADE,
  completed_lessons int NOT NULL DEFAULT 0 CHECK (completed_lessons >= 0),
  PRIMARY KEY (user_id, module_id)
);

CREATE TABLE lms.quiz_attempts (
  id bigserial PRIMARY KEY,
  quiz_id bigint NOT NULL REFERENCES lms.quizzes ON DELETE CASCADE,
  user_id bigint NOT NULL REFERENCES lms.users ON DELETE CASCADE,
  attempt_no int NOT NULL CHECK (attempt_no >= 1),
  answers jsonb NOT NULL,
  score numeric(5,2) NOT NULL CHECK (score BETWEEN 0 AND 100),
  passed boolean NOT NULL,
  created_at timestamptz NOT NULL DEFAULT lms.clock(),
  UNIQUE (quiz_id, user_id, attempt_no)
);

CREATE TABLE lms.certificates (
  id bigserial PRIMARY KEY,
  code text NOT NULL UNIQUE CHECK (length(code) >= 20),
  user_id bigint NOT NULL REFERENCES lms.users ON DELETE CASCADE,
  course_id bigint NOT NULL REFERENCES lms.courses ON DELETE CASCADE,
  issued_at timestamptz NOT NULL DEFAULT lms.clock(),
  UNIQUE (user_id, course_id)
);

CREATE TABLE lms.audit_log (
  id bigserial PRIMARY KEY,
  actor_id bigint REFERENCES lms.users ON DELETE SET NULL,
  action text NOT NULL,
  entity text NOT NULL,
  entity_id bigint,
  data jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT lms.clock()
);
-- Building blocks shared by the API functions written in SQL/PL/pgSQL (the cold routes).
-- C API functions use the equivalents in api.c / json_out.c.

-- The caller behind a token: (user_id, role), both NULL when the token is missing, unknown,
-- expired, revoked or belongs to a suspended user. Implemented in C (identity.c).
CREATE TYPE lms.caller AS (user_id bigint, role text);

-- A problem document (RFC 7807) with the contract's stable code.
CREATE FUNCTION lms.problem(status int, code text, detail text, errors jsonb DEFAULT NULL)
RETURNS lms.api_response
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ROW(status,
           pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
             'type', 'https://lms.example/problems/' || pg_catalog.replace(code, '_', '-'),
             'title', CASE status
                        WHEN 400 THEN 'Bad Request' WHEN 401 THEN 'Unauthorized'
                        WHEN 403 THEN 'Forbidden' WHEN 404 THEN 'Not Found'
                        WHEN 409 THEN 'Conflict' WHEN 422 THEN 'Unprocessable Entity'
                        ELSE 'Error' END,
             'status', status, 'detail', detail, 'code', code, 'errors', errors))::text
          )::lms.api_response;

-- One field-level validation failure: 400 validation_failed with errors[{field,message}].
CREATE FUNCTION lms.invalid(field text, message text)
RETURNS lms.api_response
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN lms.problem(400, 'validation_failed', 'The request has invalid fields.',
                   pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object('field', field, 'message', message)));

CREATE FUNCTION lms.unauthenticated() RETURNS lms.api_response
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN lms.problem(401, 'unauthenticated', 'A valid access token is required.');

CREATE FUNCTION lms.forbidden(detail text DEFAULT 'You may not do this.') RETURNS lms.api_response
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN lms.problem(403, 'forbidden', detail);

CREATE FUNCTION lms.not_found(what text) RETURNS lms.api_response
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN lms.problem(404, 'not_found', what || ' not found.');

-- A success answer from a jsonb document.
CREATE FUNCTION lms.ok(status int, doc jsonb) RETURNS lms.api_response
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ROW(status, doc::text)::lms.api_response;

-- The path argument as an id, NULL when it is not a positive 64-bit integer
-- (the gateway already answers 400 invalid_id; this guards direct SQL callers).
CREATE FUNCTION lms.path_id(path text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN path ~ '^[0-9]{1,19}$' AND (length(path) < 19 OR path <= '9223372036854775807')
            THEN nullif(path::bigint, 0) END;

-- Paging arguments of ?page=&limit= (limit 1..100, default 20; page >= 1).
-- Returns (page, lim, problem); problem is set when the arguments are invalid.
CREATE TYPE lms.paging AS (page int, lim int, problem lms.api_response);

CREATE FUNCTION lms.paging(query jsonb) RETURNS lms.paging
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  p text := query->>'page';
  l text := query->>'limit';
  r lms.paging;
BEGIN
  r.page := 1; r.lim := 20;
  IF p IS NOT NULL THEN
    IF p !~ '^[0-9]{1,9}$' OR p::int < 1 THEN
      r.problem := lms.invalid('page', 'must be an integer >= 1'); RETURN r;
    END IF;
    r.page := p::int;
  END IF;
  IF l IS NOT NULL THEN
    IF l !~ '^[0-9]{1,9}$' OR l::int NOT BETWEEN 1 AND 100 THEN
      r.problem := lms.invalid('limit', 'must be an integer between 1 and 100'); RETURN r;
    END IF;
    r.lim := l::int;
  END IF;
  RETURN r;
END
$$;

-- The body as an object, or NULL when it is absent or not an object.
CREATE FUNCTION lms.body_object(body jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN pg_catalog.jsonb_typeof(body) = 'object' THEN body END;

CREATE FUNCTION lms.invalid_body() RETURNS lms.api_response
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN lms.problem(400, 'invalid_json', 'The request body must be a JSON object.');

-- One audit row, written in the same transaction as the mutation it records.
CREATE FUNCTION lms.audit(actor_id bigint, action text, entity text, entity_id bigint, data jsonb DEFAULT '{}')
RETURNS void
LANGUAGE sql VOLATILE
BEGIN ATOMIC
  INSERT INTO lms.audit_log (actor_id, action, entity, entity_id, data)
  VALUES (actor_id, action, entity, entity_id, coalesce(data, '{}'));
END;
-- Identity: users, password hashes (bcrypt via pgcrypto), login sessions (only the SHA-256 of a
-- token is stored) and the token-to-user resolution every API function starts with (C,
-- identity.c).

-- pgcrypto may live in any schema (CASCADE puts it in the current one); our SECURITY DEFINER
-- functions pin search_path, so they reach it through these two wrappers, bound at install time.
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
  b jsonb := lms.body_object(body);
  errs jsonb := '[]';
  email text; pw text; dn text; tz text;
  uid bigint;
  u lms.users;
BEGIN
  IF b IS NULL THEN RETURN lms.invalid_body(); END IF;
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
    RETURN lms.problem(400, 'validation_failed', 'The request has invalid fields.', errs);
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
-- Unknown email and wrong password give the same answer after the same bcrypt work.
CREATE FUNCTION lms.api_auth_login(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  b jsonb := lms.body_object(body);
  u lms.users;
  ok boolean;
  tok text;
  exp timestamptz;
BEGIN
  IF b IS NULL THEN RETURN lms.invalid_body(); END IF;
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
  uid bigint := (lms.caller(token)).user_id;
  u lms.users;
BEGIN
  IF uid IS NULL THEN RETURN lms.unauthenticated(); END IF;
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
  uid bigint := (lms.caller(token)).user_id;
  b jsonb := lms.body_object(body);
  errs jsonb := '[]';
  u lms.users;
BEGIN
  IF uid IS NULL THEN RETURN lms.unauthenticated(); END IF;
  IF b IS NULL THEN RETURN lms.invalid_body(); END IF;
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
    RETURN lms.problem(400, 'validation_failed', 'The request has invalid fields.', errs);
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
-- The catalog: JSON renderers for courses, modules and lessons, the published-lesson counters,
-- and the read routes GET /courses, GET /courses/{id}, GET /lessons/{id}.
--
-- Functions here are PL/pgSQL or SQL without references to functions defined in later files
-- (lms.caller, lms.seats_left and lms.lesson_access live in the C core), so PL/pgSQL is used
-- wherever those are called: it binds names when it runs, not when it is created.

-- ---------------------------------------------------------------------------------------------
-- Renderers, reused by every route that answers a course, module or lesson.
-- ---------------------------------------------------------------------------------------------

-- The contract's `course` object. Every figure is a stored counter (lesson_count,
-- total_duration_seconds, active_enrollments) or an index probe (seats_left, prerequisites).
CREATE FUNCTION lms.course_json(c lms.courses) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
  RETURN pg_catalog.jsonb_build_object(
    'id', c.id,
    'slug', c.slug,
    'title', c.title,
    'summary', c.summary,
    'category', c.category,
    'instructor', (SELECT pg_catalog.jsonb_build_object('id', u.id, 'display_name', u.display_name)
                   FROM lms.users u WHERE u.id = c.instructor_id),
    'is_published', c.is_published,
    'lesson_count', c.lesson_count,
    'total_duration_seconds', c.total_duration_seconds,
    'enrollment_count', c.active_enrollments,
    'capacity', c.capacity,
    'seats_left', CASE WHEN c.capacity IS NOT NULL THEN lms.seats_left(c.id) END,
    'enroll_opens_at', lms.iso(c.enroll_opens_at),
    'enroll_closes_at', lms.iso(c.enroll_closes_at),
    'access_days', c.access_days,
    'prerequisite_course_ids',
      coalesce((SELECT pg_catalog.jsonb_agg(p.prerequisite_id ORDER BY p.prerequisite_id)
                FROM lms.course_prerequisites p WHERE p.course_id = c.id), '[]'::jsonb),
    'created_at', lms.iso(c.created_at),
    'updated_at', lms.iso(c.updated_at));
END
$$;

-- The contract's `module` object.
CREATE FUNCTION lms.module_json(m lms.modules) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN pg_catalog.jsonb_build_object('id', m.id, 'course_id', m.course_id, 'title', m.title,
                                     'position', m.position);

-- The contract's `lesson` object (without content, video_playback_id and progress, which only
-- GET /lessons/{id} and the authoring answers add).
CREATE FUNCTION lms.lesson_json(l lms.lessons) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN pg_catalog.jsonb_build_object(
  'id', l.id, 'module_id', l.module_id, 'course_id', l.course_id, 'title', l.title,
  'kind', l.kind, 'position', l.position, 'duration_seconds', l.duration_seconds,
  'points', l.points, 'is_preview', l.is_preview, 'is_published', l.is_published,
  'available_from', lms.iso(l.available_from));

-- GET /courses lists published courses newest first: this index serves the filter and the order.
CREATE INDEX courses_published_newest ON lms.courses (created_at DESC, id DESC) WHERE is_published;

-- ---------------------------------------------------------------------------------------------
-- Published-lesson counters.
--
-- courses.lesson_count / total_duration_seconds and modules.lesson_count count published lessons;
-- enrollments.completed_lessons and module_progress.completed_lessons count the completed ones.
-- A trigger on lms.lessons keeps them right for every writer (the authoring API, demo loaders,
-- a DBA's UPDATE, pg_restore): an insert recounts its course and module, an update that does
-- not change publication costs O(1); publishing or
-- unpublishing a lesson also visits the learners who completed it (lesson_progress_by_lesson),
-- since each of their completed_lessons changes. Learners' lesson_progress rows are kept, so
-- republishing gives their completions back. Writers must not adjust these counters themselves.
--
-- Lock order: the lesson row, the course row, the module row, enrollments, module_progress.
-- PATCH /lessons/{id} locks the lesson FOR UPDATE before anything else. For a completion and an
-- unpublish of the same lesson to serialize (so the fix-up below sees every completion, and no
-- completion is counted for a lesson already unpublished), the progress write path must read
-- the lesson with FOR KEY SHARE, which conflicts with FOR UPDATE only. A DBA's plain UPDATE of
-- is_published takes no such lock: do it while no learner is writing progress on that lesson.
-- ---------------------------------------------------------------------------------------------

-- Adds (sign = 1) or removes (sign = -1) one published lesson's share of every counter.
CREATE FUNCTION lms.lesson_counters_apply(l lms.lessons, sign int) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
  UPDATE lms.courses
     SET lesson_count = lesson_count + sign,
         total_duration_seconds = total_duration_seconds + sign * l.duration_seconds
   WHERE id = l.course_id;
  UPDATE lms.modules SET lesson_count = lesson_count + sign WHERE id = l.module_id;

  -- the learners who completed this lesson gain or lose it in their course and module counts
  UPDATE lms.enrollments e
     SET completed_lessons = e.completed_lessons + sign
    FROM lms.lesson_progress lp
   WHERE lp.lesson_id = l.id AND lp.is_completed
     AND e.user_id = lp.user_id AND e.course_id = l.course_id;
  IF sign > 0 THEN
    INSERT INTO lms.module_progress AS mp (user_id, module_id, completed_lessons)
    SELECT lp.user_id, l.module_id, 1
      FROM lms.lesson_progress lp
     WHERE lp.lesson_id = l.id AND lp.is_completed
    ON CONFLICT (user_id, module_id) DO UPDATE SET completed_lessons = mp.completed_lessons + 1;
  ELSE
    UPDATE lms.module_progress mp
       SET completed_lessons = mp.completed_lessons - 1
      FROM lms.lesson_progress lp
     WHERE lp.lesson_id = l.id AND lp.is_completed
       AND mp.user_id = lp.user_id AND mp.module_id = l.module_id;
  END IF;
END
$$;

-- Trigger on lms.lessons: keeps the counters above in step with every insert, update and delete.
CREATE FUNCTION lms.lessons_maintain_counters() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.is_published THEN
      -- A new lesson has no completions yet: only the course and module counts move. They are
      -- recounted rather than incremented, so that pg_restore (which COPYs lessons into courses
      -- whose counters were restored already) ends with the right figures. Recounting is an
      -- index range over one course's lessons: fine for an authoring write. The row locks come
      -- first so that the recount, a statement of its own, sees concurrent inserts.
      PERFORM 1 FROM lms.courses WHERE id = NEW.course_id FOR UPDATE;
      UPDATE lms.courses c
         SET lesson_count = x.n, total_duration_seconds = x.d
        FROM (SELECT count(*) AS n, coalesce(sum(l.duration_seconds), 0) AS d
                FROM lms.lessons l WHERE l.course_id = NEW.course_id AND l.is_published) x
       WHERE c.id = NEW.course_id;
      PERFORM 1 FROM lms.modules WHERE id = NEW.module_id FOR UPDATE;
      UPDATE lms.modules m
         SET lesson_count = (SELECT count(*) FROM lms.lessons l WHERE l.module_id = NEW.module_id AND l.is_published)
       WHERE m.id = NEW.module_id;
    END IF;
    RETURN NULL;
  ELSIF TG_OP = 'DELETE' THEN
    -- BEFORE DELETE: the learners' completions are still there to be subtracted
    IF OLD.is_published THEN
      PERFORM lms.lesson_counters_apply(OLD, -1);
    END IF;
    RETURN OLD;
  END IF;

  -- UPDATE
  IF NEW.module_id <> OLD.module_id OR NEW.course_id <> OLD.course_id THEN
    RAISE EXCEPTION 'a lesson cannot move to another module or course'
      USING ERRCODE = 'feature_not_supported',
            DETAIL = 'Create a new lesson in the other module and unpublish this one.';
  END IF;
  IF OLD.is_published AND NEW.is_published THEN
    IF NEW.duration_seconds <> OLD.duration_seconds THEN
      UPDATE lms.courses
         SET total_duration_seconds = total_duration_seconds + NEW.duration_seconds - OLD.duration_seconds
       WHERE id = NEW.course_id;
    END IF;
  ELSIF OLD.is_published THEN
    PERFORM lms.lesson_counters_apply(OLD, -1);
  ELSIF NEW.is_published THEN
    PERFORM lms.lesson_counters_apply(NEW, 1);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER lessons_counters_write
  AFTER INSERT OR UPDATE OF is_published, duration_seconds, module_id, course_id ON lms.lessons
  FOR EACH ROW EXECUTE FUNCTION lms.lessons_maintain_counters();
CREATE TRIGGER lessons_counters_delete
  BEFORE DELETE ON lms.lessons
  FOR EACH ROW EXECUTE FUNCTION lms.lessons_maintain_counters();

-- ---------------------------------------------------------------------------------------------
-- Read routes.
-- ---------------------------------------------------------------------------------------------

-- GET /courses ?page,limit,category,q,mine
-- Published courses, newest first (created_at desc, then id desc). category is an exact match;
-- q matches title or summary, case-insensitively, as a substring. mine=true lists the courses the
-- caller teaches, drafts included (a valid token is required; a student gets an empty page).
-- An invalid token is ignored unless mine=true (the route is public).
CREATE FUNCTION lms.api_courses_list(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  pg lms.paging := lms.paging(coalesce(query, '{}'));
  mine text := query->>'mine';
  cat text := query->>'category';
  q text := query->>'q';
  pattern text;
  who lms.caller;
  total bigint;
  items jsonb;
  doc jsonb;
BEGIN
  IF pg.problem IS NOT NULL THEN RETURN pg.problem; END IF;
  IF mine IS NOT NULL AND mine NOT IN ('true', 'false') THEN
    RETURN lms.invalid('mine', 'must be true or false');
  END IF;
  IF q IS NOT NULL AND pg_catalog.length(q) > 200 THEN
    RETURN lms.invalid('q', 'must be at most 200 characters');
  END IF;
  IF mine = 'true' THEN
    who := lms.caller(token);
    IF who.user_id IS NULL THEN RETURN lms.unauthenticated(); END IF;
  END IF;
  IF q IS NOT NULL AND q <> '' THEN
    pattern := '%' || pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(q, '\', '\\'), '%', '\%'), '_', '\_') || '%';
  END IF;

  -- Two shapes, so that each is planned for its own index: published courses newest first
  -- (courses_published_newest, the total from the same partial index) or the caller's own.
  IF mine = 'true' THEN
    SELECT count(*) INTO total FROM lms.courses c
     WHERE c.instructor_id = who.user_id
       AND (cat IS NULL OR c.category = cat)
       AND (pattern IS NULL OR c.title ILIKE pattern OR c.summary ILIKE pattern);
    SELECT pg_catalog.jsonb_agg(lms.course_json(p.c) ORDER BY (p.c).created_at DESC, (p.c).id DESC) INTO items
      FROM (SELECT c FROM lms.courses c
             WHERE c.instructor_id = who.user_id
               AND (cat IS NULL OR c.category = cat)
               AND (pattern IS NULL OR c.title ILIKE pattern OR c.summary ILIKE pattern)
             ORDER BY c.created_at DESC, c.id DESC
             LIMIT pg.lim OFFSET (pg.page - 1)::bigint * pg.lim) p;
  ELSE
    SELECT count(*) INTO total FROM lms.courses c
     WHERE c.is_published
       AND (cat IS NULL OR c.category = cat)
       AND (pattern IS NULL OR c.title ILIKE pattern OR c.summary ILIKE pattern);
    SELECT pg_catalog.jsonb_agg(lms.course_json(p.c) ORDER BY (p.c).created_at DESC, (p.c).id DESC) INTO items
      FROM (SELECT c FROM lms.courses c
             WHERE c.is_published
               AND (cat IS NULL OR c.category = cat)
               AND (pattern IS NULL OR c.title ILIKE pattern OR c.summary ILIKE pattern)
             ORDER BY c.created_at DESC, c.id DESC
             LIMIT pg.lim OFFSET (pg.page - 1)::bigint * pg.lim) p;
  END IF;
  doc := pg_catalog.jsonb_build_object('items', coalesce(items, '[]'::jsonb), 'page', pg.page,
                                       'limit', pg.lim, 'total', total);
  RETURN lms.ok(200, doc);
END
$$;

-- GET /courses/{id}: the course with its modules and their lessons in position order.
-- Drafts and unpublished lessons are visible to the owner and admins only (404 / left out for
-- everyone else); an invalid token reads as anonymous. Lesson items carry is_published too.
CREATE FUNCTION lms.api_course_get(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  cid bigint := lms.path_id(path);
  who lms.caller;
  c lms.courses;
  see_all boolean := false;
  doc jsonb;
BEGIN
  IF cid IS NULL THEN RETURN lms.problem(400, 'invalid_id', 'The id must be a positive integer.'); END IF;
  SELECT * INTO c FROM lms.courses WHERE id = cid;
  IF NOT FOUND THEN RETURN lms.not_found('Course'); END IF;
  IF token IS NOT NULL THEN
    who := lms.caller(token);
    see_all := who.role = 'admin' OR who.user_id = c.instructor_id;
    see_all := coalesce(see_all, false);
  END IF;
  IF NOT c.is_published AND NOT see_all THEN RETURN lms.not_found('Course'); END IF;

  SELECT lms.course_json(c) || pg_catalog.jsonb_build_object('modules', coalesce(pg_catalog.jsonb_agg(
           pg_catalog.jsonb_build_object(
             'id', m.id, 'title', m.title, 'position', m.position,
             'lessons', coalesce((
                SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                         'id', l.id, 'title', l.title, 'position', l.position, 'kind', l.kind,
                         'duration_seconds', l.duration_seconds, 'points', l.points,
                         'is_preview', l.is_preview, 'is_published', l.is_published,
                         'available_from', lms.iso(l.available_from))
                       ORDER BY l.position, l.id)
                  FROM lms.lessons l
                 WHERE l.module_id = m.id AND (l.is_published OR see_all)), '[]'::jsonb))
           ORDER BY m.position, m.id), '[]'::jsonb))
    INTO doc
    FROM lms.modules m WHERE m.course_id = c.id;
  RETURN lms.ok(200, doc);
END
$$;

-- The caller's progress on one lesson, as GET /lessons/{id} shows it (NULL when none).
CREATE FUNCTION lms.lesson_progress_json(user_id bigint, lesson_id bigint) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN (SELECT pg_catalog.jsonb_build_object(
                 'watched_seconds', lp.watched_seconds,
                 'last_position_seconds', lp.last_position_seconds,
                 'completion_percentage', lp.completion_percentage,
                 'is_completed', lp.is_completed,
                 'completed_at', lms.iso(lp.completed_at))
          FROM lms.lesson_progress lp
         WHERE lp.user_id = lesson_progress_json.user_id AND lp.lesson_id = lesson_progress_json.lesson_id);

-- GET /lessons/{id}: the lesson with content, video_playback_id and the caller's progress.
-- Who may read it is lms.lesson_access's answer (enrolled, owner, admin, preview; available_from;
-- unpublished course or lesson). An invalid token reads as anonymous, so preview lessons stay
-- readable and every other lesson answers 401.
CREATE FUNCTION lms.api_lesson_get(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  lid bigint := lms.path_id(path);
  who lms.caller;
  l lms.lessons;
BEGIN
  IF lid IS NULL THEN RETURN lms.problem(400, 'invalid_id', 'The id must be a positive integer.'); END IF;
  IF token IS NOT NULL THEN who := lms.caller(token); END IF;
  CASE lms.lesson_access(who.user_id, lid)
    WHEN 'ok' THEN NULL;
    WHEN 'unauthenticated' THEN RETURN lms.unauthenticated();
    WHEN 'not_enrolled' THEN
      RETURN lms.problem(403, 'not_enrolled', 'Enroll in the course to read this lesson.');
    WHEN 'lesson_locked' THEN
      RETURN lms.problem(403, 'lesson_locked', 'This lesson is not available yet.');
    ELSE RETURN lms.not_found('Lesson');
  END CASE;
  SELECT * INTO l FROM lms.lessons WHERE id = lid;
  IF NOT FOUND THEN RETURN lms.not_found('Lesson'); END IF;
  RETURN lms.ok(200, lms.lesson_json(l) || pg_catalog.jsonb_build_object(
    'content', l.content,
    'video_playback_id', l.video_playback_id,
    'progress', CASE WHEN who.user_id IS NOT NULL THEN lms.lesson_progress_json(who.user_id, lid) END));
END
$$;
-- Authoring: POST/PATCH of courses, publishing, modules and lessons (owner or admin).
-- Cold paths in PL/pgSQL. Each route: 401 without a valid token, 400 invalid_id, 404 unknown
-- id, 403 when the caller is neither the owner nor an admin (or, to create a course, neither an
-- instructor nor an admin), 400 invalid_json for a missing or non-object body, 400
-- validation_failed listing every bad field, then the write, one audit row, and the object.
-- The course row is locked (FOR UPDATE) before any of its modules or lessons is written, which
-- serializes authoring on one course; PATCH /lessons/{id} locks the lesson row just before it.
-- Unknown body fields are ignored.

-- ---------------------------------------------------------------------------------------------
-- Input helpers.
-- ---------------------------------------------------------------------------------------------

-- A JSON number that is a whole number between lo and hi, else NULL.
CREATE FUNCTION lms.authoring_int(v jsonb, lo numeric, hi numeric) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN pg_catalog.jsonb_typeof(v) IS DISTINCT FROM 'number' THEN NULL
            WHEN v::numeric <> pg_catalog.trunc(v::numeric) THEN NULL
            WHEN v::numeric < lo OR v::numeric > hi THEN NULL
            ELSE v::numeric::bigint END;

-- A JSON string holding an ISO 8601 date or timestamp, else NULL. Without a zone it is UTC
-- (never the session's time zone).
CREATE FUNCTION lms.authoring_ts(v jsonb) RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
  s text;
BEGIN
  IF pg_catalog.jsonb_typeof(v) IS DISTINCT FROM 'string' THEN RETURN NULL; END IF;
  s := v #>> '{}';
  IF s !~ '^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}(:?\d{2})?)?)?$' THEN
    RETURN NULL;
  END IF;
  IF s ~ '[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}(:?\d{2})?)$' THEN
    RETURN s::timestamptz;
  END IF;
  RETURN s::timestamp AT TIME ZONE 'UTC';
EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format OR data_exception THEN
  RETURN NULL;
END
$$;

-- A slug from a title: lowercase, common Latin accents dropped, every run of other characters
-- than a-z and 0-9 becomes one hyphen, at most 100 characters (room for a -N suffix), 'course'
-- when nothing is left.
CREATE FUNCTION lms.slugify(title text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN coalesce(nullif(pg_catalog.rtrim(pg_catalog.left(pg_catalog.btrim(
         pg_catalog.regexp_replace(
           pg_catalog.translate(pg_catalog.lower(title),
                                'àáâãäåāăąçćčďèéêëēėęěìíîïīįłñńňòóôõöøōőŕřśšşťţùúûüūůűųýÿźżž',
                                'aaaaaaaaacccdeeeeeeeeiiiiiilnnnoooooooorrsssttuuuuuuuuyyzzz'),
           '[^a-z0-9]+', '-', 'g'), '-'), 100), '-'), ''),
       'course');

-- The caller may author this course: its instructor, or an admin.
CREATE FUNCTION lms.may_author(who lms.caller, instructor_id bigint) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(who.role = 'admin' OR who.user_id = instructor_id, false);

-- The body's known fields, for the audit row (lesson content is recorded by length only).
CREATE FUNCTION lms.audit_fields(body jsonb, known text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce((SELECT pg_catalog.jsonb_object_agg(e.key,
                          CASE WHEN e.key = 'content' AND pg_catalog.jsonb_typeof(e.value) = 'string'
                               THEN pg_catalog.to_jsonb(pg_catalog.length(e.value #>> '{}')) ELSE e.value END)
                   FROM pg_catalog.jsonb_each(body) e WHERE e.key = ANY (known)), '{}'::jsonb);

-- Validates a course body against the current row (cur.id NULL: a new course) and returns the
-- row with the changes applied, the prerequisite ids (NULL when not given) and every error.
CREATE FUNCTION lms.course_input(body jsonb, cur lms.courses,
                                 OUT c lms.courses, OUT prereqs bigint[], OUT errors jsonb)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  creating boolean := cur.id IS NULL;
  v jsonb;
  e jsonb;
  n bigint;
  ts timestamptz;
  bad_window boolean := false;
  unknown bigint[];
BEGIN
  c := cur;
  errors := '[]';

  IF body ? 'title' THEN
    v := body->'title';
    IF pg_catalog.jsonb_typeof(v) IS DISTINCT FROM 'string'
       OR pg_catalog.length(pg_catalog.btrim(v #>> '{}')) NOT BETWEEN 1 AND 200 THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'title', 'message', 'must be a non-empty string of at most 200 characters');
    ELSE
      c.title := pg_catalog.btrim(v #>> '{}');
    END IF;
  ELSIF creating THEN
    errors := errors || pg_catalog.jsonb_build_object('field', 'title', 'message', 'is required');
  END IF;

  IF body ? 'slug' AND (NOT creating OR body->'slug' <> 'null') THEN
    v := body->'slug';
    IF pg_catalog.jsonb_typeof(v) IS DISTINCT FROM 'string'
       OR (v #>> '{}') !~ '^[a-z0-9]+(-[a-z0-9]+)*$' OR pg_catalog.length(v #>> '{}') > 120 THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'slug', 'message', 'must be lowercase letters and digits in words joined by single hyphens, at most 120 characters');
    ELSE
      c.slug := v #>> '{}';
    END IF;
  END IF;

  IF body ? 'summary' THEN
    v := body->'summary';
    IF v = 'null' THEN
      c.summary := '';
    ELSIF pg_catalog.jsonb_typeof(v) <> 'string' OR pg_catalog.length(v #>> '{}') > 5000 THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'summary', 'message', 'must be a string of at most 5000 characters');
    ELSE
      c.summary := v #>> '{}';
    END IF;
  END IF;

  IF body ? 'category' THEN
    v := body->'category';
    IF v = 'null' THEN
      c.category := NULL;
    ELSIF pg_catalog.jsonb_typeof(v) <> 'string' OR pg_catalog.length(v #>> '{}') NOT BETWEEN 1 AND 60 THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'category', 'message', 'must be a string of 1 to 60 characters or null');
    ELSE
      c.category := v #>> '{}';
    END IF;
  END IF;

  IF body ? 'capacity' THEN
    v := body->'capacity';
    n := lms.authoring_int(v, 1, 2147483647);
    IF v <> 'null' AND n IS NULL THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'capacity', 'message', 'must be an integer between 1 and 2147483647 or null');
    ELSE
      c.capacity := n;
    END IF;
  END IF;

  IF body ? 'enroll_opens_at' THEN
    v := body->'enroll_opens_at';
    ts := lms.authoring_ts(v);
    IF v <> 'null' AND ts IS NULL THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'enroll_opens_at', 'message', 'must be an ISO 8601 timestamp or null');
      bad_window := true;
    ELSE
      c.enroll_opens_at := ts;
    END IF;
  END IF;

  IF body ? 'enroll_closes_at' THEN
    v := body->'enroll_closes_at';
    ts := lms.authoring_ts(v);
    IF v <> 'null' AND ts IS NULL THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'enroll_closes_at', 'message', 'must be an ISO 8601 timestamp or null');
      bad_window := true;
    ELSE
      c.enroll_closes_at := ts;
    END IF;
  END IF;
  IF NOT bad_window AND c.enroll_closes_at <= c.enroll_opens_at THEN
    errors := errors || pg_catalog.jsonb_build_object('field', 'enroll_closes_at', 'message', 'must be after enroll_opens_at');
  END IF;

  IF body ? 'access_days' THEN
    v := body->'access_days';
    n := lms.authoring_int(v, 1, 36500);
    IF v <> 'null' AND n IS NULL THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'access_days', 'message', 'must be an integer between 1 and 36500 or null');
    ELSE
      c.access_days := n;
    END IF;
  END IF;

  IF body ? 'prerequisite_course_ids' THEN
    v := body->'prerequisite_course_ids';
    prereqs := '{}';
    IF v = 'null' THEN
      NULL;   -- same as []
    ELSIF pg_catalog.jsonb_typeof(v) <> 'array' OR pg_catalog.jsonb_array_length(v) > 50 THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'prerequisite_course_ids', 'message', 'must be an array of at most 50 course ids');
      prereqs := NULL;
    ELSE
      FOR e IN SELECT x FROM pg_catalog.jsonb_array_elements(v) x LOOP
        n := lms.authoring_int(e, 1, 9223372036854775807);
        IF n IS NULL THEN
          errors := errors || pg_catalog.jsonb_build_object('field', 'prerequisite_course_ids', 'message', 'must contain course ids (positive integers) only');
          prereqs := NULL;
          EXIT;
        END IF;
        IF NOT n = ANY (prereqs) THEN prereqs := prereqs || n; END IF;
      END LOOP;
      IF prereqs IS NOT NULL THEN
        SELECT pg_catalog.array_agg(x ORDER BY x) INTO unknown
          FROM pg_catalog.unnest(prereqs) x
         WHERE NOT EXISTS (SELECT FROM lms.courses k WHERE k.id = x);
        IF unknown IS NOT NULL THEN
          errors := errors || pg_catalog.jsonb_build_object('field', 'prerequisite_course_ids', 'message',
                                'unknown course ids: ' || pg_catalog.array_to_string(unknown, ', '));
        ELSIF cur.id = ANY (prereqs) THEN
          errors := errors || pg_catalog.jsonb_build_object('field', 'prerequisite_course_ids', 'message', 'a course cannot be its own prerequisite');
        ELSIF NOT creating AND EXISTS (
            WITH RECURSIVE r(id) AS (
              SELECT pg_catalog.unnest(prereqs)
              UNION
              SELECT p.prerequisite_id FROM lms.course_prerequisites p JOIN r ON p.course_id = r.id)
            SELECT FROM r WHERE r.id = cur.id) THEN
          errors := errors || pg_catalog.jsonb_build_object('field', 'prerequisite_course_ids', 'message', 'would make a prerequisite cycle');
        END IF;
      END IF;
    END IF;
  END IF;

  IF body ? 'is_published' THEN
    v := body->'is_published';
    IF pg_catalog.jsonb_typeof(v) IS DISTINCT FROM 'boolean' THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'is_published', 'message', 'must be true or false');
    ELSIF creating AND v = 'true' THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'is_published', 'message', 'a new course has no lessons yet; publish it once it has one');
    ELSE
      c.is_published := v::text::boolean;
    END IF;
  END IF;
END
$$;

-- Validates a lesson body against the current row (cur.id NULL: a new lesson) and returns the
-- row with the changes applied and every error.
CREATE FUNCTION lms.lesson_input(body jsonb, cur lms.lessons, OUT l lms.lessons, OUT errors jsonb)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
  creating boolean := cur.id IS NULL;
  v jsonb;
  n bigint;
  ts timestamptz;
BEGIN
  l := cur;
  errors := '[]';

  IF body ? 'title' THEN
    v := body->'title';
    IF pg_catalog.jsonb_typeof(v) IS DISTINCT FROM 'string'
       OR pg_catalog.length(pg_catalog.btrim(v #>> '{}')) NOT BETWEEN 1 AND 200 THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'title', 'message', 'must be a non-empty string of at most 200 characters');
    ELSE
      l.title := pg_catalog.btrim(v #>> '{}');
    END IF;
  ELSIF creating THEN
    errors := errors || pg_catalog.jsonb_build_object('field', 'title', 'message', 'is required');
  END IF;

  IF body ? 'kind' THEN
    v := body->'kind';
    IF pg_catalog.jsonb_typeof(v) IS DISTINCT FROM 'string' OR (v #>> '{}') NOT IN ('video', 'text', 'quiz') THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'kind', 'message', 'must be one of video, text, quiz');
    ELSE
      l.kind := v #>> '{}';
    END IF;
  ELSIF creating THEN
    errors := errors || pg_catalog.jsonb_build_object('field', 'kind', 'message', 'is required (video, text or quiz)');
  END IF;

  IF body ? 'duration_seconds' THEN
    n := lms.authoring_int(body->'duration_seconds', 0, 2147483647);
    IF n IS NULL THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'duration_seconds', 'message', 'must be an integer >= 0');
    ELSE
      l.duration_seconds := n;
    END IF;
  END IF;

  IF body ? 'video_playback_id' THEN
    v := body->'video_playback_id';
    IF v = 'null' THEN
      l.video_playback_id := NULL;
    ELSIF pg_catalog.jsonb_typeof(v) <> 'string' OR pg_catalog.length(v #>> '{}') NOT BETWEEN 1 AND 200 THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'video_playback_id', 'message', 'must be a string of 1 to 200 characters or null');
    ELSE
      l.video_playback_id := v #>> '{}';
    END IF;
  END IF;

  IF body ? 'content' THEN
    v := body->'content';
    IF v = 'null' THEN
      l.content := NULL;
    ELSIF pg_catalog.jsonb_typeof(v) <> 'string' THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'content', 'message', 'must be a string or null');
    ELSE
      l.content := v #>> '{}';
    END IF;
  END IF;

  IF body ? 'points' THEN
    n := lms.authoring_int(body->'points', 0, 100000);
    IF n IS NULL THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'points', 'message', 'must be an integer between 0 and 100000');
    ELSE
      l.points := n;
    END IF;
  END IF;

  IF body ? 'is_preview' THEN
    v := body->'is_preview';
    IF pg_catalog.jsonb_typeof(v) IS DISTINCT FROM 'boolean' THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'is_preview', 'message', 'must be true or false');
    ELSE
      l.is_preview := v::text::boolean;
    END IF;
  END IF;

  IF body ? 'is_published' THEN
    v := body->'is_published';
    IF pg_catalog.jsonb_typeof(v) IS DISTINCT FROM 'boolean' THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'is_published', 'message', 'must be true or false');
    ELSE
      l.is_published := v::text::boolean;
    END IF;
  END IF;

  IF body ? 'position' THEN
    n := lms.authoring_int(body->'position', 1, 1000000);
    IF n IS NULL THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'position', 'message', 'must be an integer between 1 and 1000000');
    ELSE
      l.position := n;
    END IF;
  END IF;

  IF body ? 'available_from' THEN
    v := body->'available_from';
    ts := lms.authoring_ts(v);
    IF v <> 'null' AND ts IS NULL THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'available_from', 'message', 'must be an ISO 8601 timestamp or null');
    ELSE
      l.available_from := ts;
    END IF;
  END IF;

  IF NOT creating THEN
    IF body ? 'module_id' AND body->'module_id' IS DISTINCT FROM pg_catalog.to_jsonb(cur.module_id) THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'module_id', 'message', 'moving a lesson to another module is not supported; create it in the other module instead');
    END IF;
    IF body ? 'course_id' AND body->'course_id' IS DISTINCT FROM pg_catalog.to_jsonb(cur.course_id) THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'course_id', 'message', 'moving a lesson to another course is not supported');
    END IF;
  END IF;
END
$$;

CREATE FUNCTION lms.validation_failed(errors jsonb) RETURNS lms.api_response
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN lms.problem(400, 'validation_failed', 'The request has invalid fields.', errors);

CREATE FUNCTION lms.bad_id() RETURNS lms.api_response
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN lms.problem(400, 'invalid_id', 'The id must be a positive integer.');

-- ---------------------------------------------------------------------------------------------
-- Courses.
-- ---------------------------------------------------------------------------------------------

-- POST /courses: a draft course owned by the caller (instructor or admin). Without a slug, one is
-- derived from the title, with -2, -3 ... appended when taken; a slug given and taken is 409.
CREATE FUNCTION lms.api_course_create(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  who lms.caller := lms.caller(token);
  b jsonb := lms.body_object(body);
  cur lms.courses;
  inp record;
  c lms.courses;
  base text;
  n int := 1;
BEGIN
  IF who.user_id IS NULL THEN RETURN lms.unauthenticated(); END IF;
  IF who.role NOT IN ('instructor', 'admin') THEN
    RETURN lms.forbidden('Only instructors and admins create courses.');
  END IF;
  IF b IS NULL THEN RETURN lms.invalid_body(); END IF;

  cur.summary := '';
  cur.is_published := false;
  inp := lms.course_input(b, cur);
  IF inp.errors <> '[]' THEN RETURN lms.validation_failed(inp.errors); END IF;
  c := inp.c;

  IF c.slug IS NULL THEN
    base := lms.slugify(c.title);
    c.slug := base;
    WHILE EXISTS (SELECT FROM lms.courses k WHERE k.slug = c.slug) LOOP
      n := n + 1;
      c.slug := base || '-' || n;
    END LOOP;
  END IF;

  BEGIN
    INSERT INTO lms.courses (slug, title, summary, category, instructor_id, capacity,
                             enroll_opens_at, enroll_closes_at, access_days)
    VALUES (c.slug, c.title, c.summary, c.category, who.user_id, c.capacity,
            c.enroll_opens_at, c.enroll_closes_at, c.access_days)
    RETURNING * INTO c;
  EXCEPTION WHEN unique_violation THEN
    RETURN lms.problem(409, 'slug_taken', 'Another course already uses this slug.');
  END;
  IF inp.prereqs IS NOT NULL THEN
    INSERT INTO lms.course_prerequisites (course_id, prerequisite_id)
    SELECT c.id, x FROM pg_catalog.unnest(inp.prereqs) x;
  END IF;

  PERFORM lms.audit(who.user_id, 'course.create', 'course', c.id,
                    lms.audit_fields(b, '{title,slug,summary,category,capacity,enroll_opens_at,enroll_closes_at,access_days,prerequisite_course_ids}')
                    || pg_catalog.jsonb_build_object('slug', c.slug));
  RETURN lms.ok(201, lms.course_json(c));
END
$$;

-- PATCH /courses/{id}: any course field; prerequisite_course_ids replaces the set;
-- is_published:true follows POST /publish (409 course_empty). A capacity below the seats already
-- held (active and completed enrollments) is 409 capacity_below_enrolled.
CREATE FUNCTION lms.api_course_patch(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  who lms.caller := lms.caller(token);
  cid bigint := lms.path_id(path);
  b jsonb := lms.body_object(body);
  cur lms.courses;
  inp record;
  c lms.courses;
BEGIN
  IF who.user_id IS NULL THEN RETURN lms.unauthenticated(); END IF;
  IF cid IS NULL THEN RETURN lms.bad_id(); END IF;
  SELECT * INTO cur FROM lms.courses WHERE id = cid FOR UPDATE;
  IF NOT FOUND THEN RETURN lms.not_found('Course'); END IF;
  IF NOT lms.may_author(who, cur.instructor_id) THEN
    RETURN lms.forbidden('Only the course''s instructor and admins change it.');
  END IF;
  IF b IS NULL THEN RETURN lms.invalid_body(); END IF;

  inp := lms.course_input(b, cur);
  IF inp.errors <> '[]' THEN RETURN lms.validation_failed(inp.errors); END IF;
  c := inp.c;
  IF c.is_published AND NOT cur.is_published AND cur.lesson_count = 0 THEN
    RETURN lms.problem(409, 'course_empty', 'A course needs at least one published lesson to be published.');
  END IF;
  IF c.capacity < cur.seats_taken THEN
    RETURN lms.problem(409, 'capacity_below_enrolled',
                       pg_catalog.format('%s seats are already taken; the capacity cannot be lower.', cur.seats_taken));
  END IF;

  BEGIN
    UPDATE lms.courses
       SET slug = c.slug, title = c.title, summary = c.summary, category = c.category,
           capacity = c.capacity, enroll_opens_at = c.enroll_opens_at,
           enroll_closes_at = c.enroll_closes_at, access_days = c.access_days,
           is_published = c.is_published, updated_at = lms.clock()
     WHERE id = cid
    RETURNING * INTO c;
  EXCEPTION WHEN unique_violation THEN
    RETURN lms.problem(409, 'slug_taken', 'Another course already uses this slug.');
  END;
  IF inp.prereqs IS NOT NULL THEN
    DELETE FROM lms.course_prerequisites WHERE course_id = cid AND prerequisite_id <> ALL (inp.prereqs);
    INSERT INTO lms.course_prerequisites (course_id, prerequisite_id)
    SELECT cid, x FROM pg_catalog.unnest(inp.prereqs) x
    ON CONFLICT DO NOTHING;
  END IF;

  PERFORM lms.audit(who.user_id, 'course.update', 'course', cid,
                    lms.audit_fields(b, '{title,slug,summary,category,capacity,enroll_opens_at,enroll_closes_at,access_days,prerequisite_course_ids,is_published}'));
  RETURN lms.ok(200, lms.course_json(c));
END
$$;

-- POST /courses/{id}/publish: 409 course_empty without a published lesson; publishing a
-- published course answers 200 again (and is audited again).
CREATE FUNCTION lms.api_course_publish(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  who lms.caller := lms.caller(token);
  cid bigint := lms.path_id(path);
  c lms.courses;
BEGIN
  IF who.user_id IS NULL THEN RETURN lms.unauthenticated(); END IF;
  IF cid IS NULL THEN RETURN lms.bad_id(); END IF;
  SELECT * INTO c FROM lms.courses WHERE id = cid FOR UPDATE;
  IF NOT FOUND THEN RETURN lms.not_found('Course'); END IF;
  IF NOT lms.may_author(who, c.instructor_id) THEN
    RETURN lms.forbidden('Only the course''s instructor and admins publish it.');
  END IF;
  IF c.lesson_count = 0 THEN
    RETURN lms.problem(409, 'course_empty', 'A course needs at least one published lesson to be published.');
  END IF;
  IF NOT c.is_published THEN
    UPDATE lms.courses SET is_published = true, updated_at = lms.clock() WHERE id = cid RETURNING * INTO c;
  END IF;
  PERFORM lms.audit(who.user_id, 'course.publish', 'course', cid);
  RETURN lms.ok(200, lms.course_json(c));
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Modules and lessons. A position is a sort key (ties fall back to the id): without one an item
-- goes last (last position + 1); with one, the items at or after it move down by one.
-- ---------------------------------------------------------------------------------------------

-- POST /courses/{id}/modules {title, position?}
CREATE FUNCTION lms.api_module_create(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  who lms.caller := lms.caller(token);
  cid bigint := lms.path_id(path);
  b jsonb := lms.body_object(body);
  c lms.courses;
  m lms.modules;
  errors jsonb := '[]';
  pos bigint;
BEGIN
  IF who.user_id IS NULL THEN RETURN lms.unauthenticated(); END IF;
  IF cid IS NULL THEN RETURN lms.bad_id(); END IF;
  SELECT * INTO c FROM lms.courses WHERE id = cid FOR UPDATE;
  IF NOT FOUND THEN RETURN lms.not_found('Course'); END IF;
  IF NOT lms.may_author(who, c.instructor_id) THEN
    RETURN lms.forbidden('Only the course''s instructor and admins add modules.');
  END IF;
  IF b IS NULL THEN RETURN lms.invalid_body(); END IF;

  IF pg_catalog.jsonb_typeof(b->'title') IS DISTINCT FROM 'string'
     OR pg_catalog.length(pg_catalog.btrim(b->>'title')) NOT BETWEEN 1 AND 200 THEN
    errors := errors || pg_catalog.jsonb_build_object('field', 'title', 'message',
                CASE WHEN b ? 'title' THEN 'must be a non-empty string of at most 200 characters' ELSE 'is required' END);
  END IF;
  IF b ? 'position' AND b->'position' <> 'null' THEN
    pos := lms.authoring_int(b->'position', 1, 1000000);
    IF pos IS NULL THEN
      errors := errors || pg_catalog.jsonb_build_object('field', 'position', 'message', 'must be an integer between 1 and 1000000');
    END IF;
  END IF;
  IF errors <> '[]' THEN RETURN lms.validation_failed(errors); END IF;

  IF pos IS NULL THEN
    SELECT coalesce(max(k.position), 0) + 1 INTO pos FROM lms.modules k WHERE k.course_id = cid;
  ELSE
    UPDATE lms.modules SET position = position + 1 WHERE course_id = cid AND position >= pos;
  END IF;
  INSERT INTO lms.modules (course_id, title, position)
  VALUES (cid, pg_catalog.btrim(b->>'title'), pos)
  RETURNING * INTO m;

  PERFORM lms.audit(who.user_id, 'module.create', 'module', m.id,
                    pg_catalog.jsonb_build_object('course_id', cid, 'title', m.title, 'position', m.position));
  RETURN lms.ok(201, lms.module_json(m));
END
$$;

-- The lesson as the authoring routes answer it: the lesson object with content and video id.
CREATE FUNCTION lms.lesson_author_json(l lms.lessons) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN lms.lesson_json(l) || pg_catalog.jsonb_build_object('content', l.content,
                                                           'video_playback_id', l.video_playback_id);

-- POST /modules/{id}/lessons: a lesson, published unless is_published:false is sent.
CREATE FUNCTION lms.api_lesson_create(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  who lms.caller := lms.caller(token);
  mid bigint := lms.path_id(path);
  b jsonb := lms.body_object(body);
  m lms.modules;
  c lms.courses;
  cur lms.lessons;
  inp record;
  l lms.lessons;
BEGIN
  IF who.user_id IS NULL THEN RETURN lms.unauthenticated(); END IF;
  IF mid IS NULL THEN RETURN lms.bad_id(); END IF;
  SELECT * INTO m FROM lms.modules WHERE id = mid;
  IF NOT FOUND THEN RETURN lms.not_found('Module'); END IF;
  SELECT * INTO c FROM lms.courses WHERE id = m.course_id FOR UPDATE;
  IF NOT lms.may_author(who, c.instructor_id) THEN
    RETURN lms.forbidden('Only the course''s instructor and admins add lessons.');
  END IF;
  IF b IS NULL THEN RETURN lms.invalid_body(); END IF;

  cur.duration_seconds := 0;
  cur.points := 10;
  cur.is_preview := false;
  cur.is_published := true;
  inp := lms.lesson_input(b, cur);
  IF inp.errors <> '[]' THEN RETURN lms.validation_failed(inp.errors); END IF;
  l := inp.l;

  IF l.position IS NULL THEN
    SELECT coalesce(max(k.position), 0) + 1 INTO l.position FROM lms.lessons k WHERE k.module_id = mid;
  ELSE
    UPDATE lms.lessons SET position = position + 1 WHERE module_id = mid AND position >= l.position;
  END IF;
  INSERT INTO lms.lessons (module_id, course_id, title, kind, position, duration_seconds, points,
                           is_preview, is_published, available_from, content, video_playback_id)
  VALUES (mid, m.course_id, l.title, l.kind, l.position, l.duration_seconds, l.points,
          l.is_preview, l.is_published, l.available_from, l.content, l.video_playback_id)
  RETURNING * INTO l;

  PERFORM lms.audit(who.user_id, 'lesson.create', 'lesson', l.id,
                    lms.audit_fields(b, '{title,kind,duration_seconds,video_playback_id,content,points,is_preview,is_published,position,available_from}')
                    || pg_catalog.jsonb_build_object('module_id', mid, 'course_id', m.course_id));
  RETURN lms.ok(201, lms.lesson_author_json(l));
END
$$;

-- PATCH /lessons/{id}: any lesson field, is_published included (unpublishing hides the lesson and
-- takes it out of every count; republishing puts it back). A lesson stays in its module.
CREATE FUNCTION lms.api_lesson_patch(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  who lms.caller := lms.caller(token);
  lid bigint := lms.path_id(path);
  b jsonb := lms.body_object(body);
  c lms.courses;
  cur lms.lessons;
  inp record;
  l lms.lessons;
BEGIN
  IF who.user_id IS NULL THEN RETURN lms.unauthenticated(); END IF;
  IF lid IS NULL THEN RETURN lms.bad_id(); END IF;
  -- Lock order: the lesson, then its course (as the progress write path: it reads the lesson
  -- FOR KEY SHARE, which this FOR UPDATE waits for, then may lock the course). Waiting here for
  -- in-flight progress writes on this lesson is what lets the counter fix-up see their
  -- completions, and a progress write that comes later sees the lesson as it is now.
  SELECT * INTO cur FROM lms.lessons WHERE id = lid FOR UPDATE;
  IF NOT FOUND THEN RETURN lms.not_found('Lesson'); END IF;
  SELECT * INTO c FROM lms.courses WHERE id = cur.course_id FOR UPDATE;
  IF NOT lms.may_author(who, c.instructor_id) THEN
    RETURN lms.forbidden('Only the course''s instructor and admins change its lessons.');
  END IF;
  IF b IS NULL THEN RETURN lms.invalid_body(); END IF;

  inp := lms.lesson_input(b, cur);
  IF inp.errors <> '[]' THEN RETURN lms.validation_failed(inp.errors); END IF;
  l := inp.l;

  IF l.position <> cur.position THEN
    IF l.position < cur.position THEN
      UPDATE lms.lessons SET position = position + 1
       WHERE module_id = cur.module_id AND id <> lid AND position >= l.position AND position < cur.position;
    ELSE
      UPDATE lms.lessons SET position = position - 1
       WHERE module_id = cur.module_id AND id <> lid AND position > cur.position AND position <= l.position;
    END IF;
  END IF;
  UPDATE lms.lessons
     SET title = l.title, kind = l.kind, position = l.position, duration_seconds = l.duration_seconds,
         points = l.points, is_preview = l.is_preview, is_published = l.is_published,
         available_from = l.available_from, content = l.content,
         video_playback_id = l.video_playback_id, updated_at = lms.clock()
   WHERE id = lid
  RETURNING * INTO l;

  PERFORM lms.audit(who.user_id, 'lesson.update', 'lesson', lid,
                    lms.audit_fields(b, '{title,kind,duration_seconds,video_playback_id,content,points,is_preview,is_published,position,available_from}'));
  RETURN lms.ok(200, lms.lesson_author_json(l));
END
$$;
-- Enrollment: the lesson access check, lms.is_enrolled, enroll and drop (C, enrollment.c),
-- seats left, the contract's `enrollment` object, and the enrollment API functions.
-- A completed enrollment never expires (completion is permanent); expiry (access_days)
-- applies to active enrollments: past expires_at they read as 'expired', keep read access to
-- progress, and accept no new progress.

-- 'ok' | 'not_found' | 'unauthenticated' | 'not_enrolled' | 'lesson_locked' (user_id NULL:
-- anonymous). Admins and the course owner always get 'ok'.
CREATE FUNCTION lms.lesson_access(user_id bigint, lesson_id bigint) RETURNS text
  AS 'MODULE_PATHNAME', 'lms_lesson_access' LANGUAGE C STABLE PARALLEL SAFE;

-- An active enrollment not past expires_at, or a completed one.
CREATE FUNCTION lms.is_enrolled(user_id bigint, course_id bigint) RETURNS boolean
  AS 'MODULE_PATHNAME', 'lms_is_enrolled' LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- The enroll rules; result 'created' | 'reactivated' | 'existing' | 'not_found' |
-- 'enrollment_closed' | 'prerequisites_not_met' | 'course_full'.
CREATE FUNCTION lms.enroll(user_id bigint, course_id bigint, OUT result text, OUT enrollment_id bigint)
  AS 'MODULE_PATHNAME', 'lms_enroll' LANGUAGE C VOLATILE STRICT;

-- Drop a live enrollment and free its seat; false when there is none.
CREATE FUNCTION lms.unenroll(user_id bigint, course_id bigint) RETURNS boolean
  AS 'MODULE_PATHNAME', 'lms_unenroll' LANGUAGE C VOLATILE STRICT;

-- Seats a new learner could take now: capacity minus active and completed enrollments, not
-- counting active ones already past expires_at (their seats are released on the next enroll).
-- NULL without a capacity. One row read plus a range scan of enrollments_overdue.
CREATE FUNCTION lms.seats_left(course_id bigint) RETURNS int
LANGUAGE sql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN (SELECT GREATEST(0, c.capacity - c.seats_taken
                           + (SELECT count(*) FROM lms.enrollments e
                              WHERE e.course_id = c.id AND e.status = 'active'
                                AND e.expires_at IS NOT NULL AND e.expires_at <= lms.clock())::int)
        FROM lms.courses c WHERE c.id = seats_left.course_id);

-- The contract's `enrollment` object (status 'expired' for an active one past expires_at).
CREATE FUNCTION lms.enrollment_json(e lms.enrollments) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
RETURN (SELECT pg_catalog.jsonb_build_object(
          'id', e.id, 'user_id', e.user_id, 'course_id', e.course_id,
          'status', CASE WHEN e.status = 'active' AND e.expires_at <= lms.clock() THEN 'expired' ELSE e.status END,
          'progress_percentage', round(CASE WHEN c.lesson_count > 0
                                            THEN LEAST(e.completed_lessons, c.lesson_count) * 100.0 / c.lesson_count
                                            ELSE 0 END, 2),
          'completed_lessons', e.completed_lessons, 'total_lessons', c.lesson_count,
          'enrolled_at', lms.iso(e.enrolled_at), 'completed_at', lms.iso(e.completed_at),
          'expires_at', lms.iso(e.expires_at), 'last_activity_at', lms.iso(e.last_activity_at))
        FROM lms.courses c WHERE c.id = e.course_id);

-- POST /courses/{id}/enroll -> 201 enrollment (new or re-activated), 200 when already enrolled.
CREATE FUNCTION lms.api_enroll(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  uid bigint := (lms.caller(token)).user_id;
  cid bigint := lms.path_id(path);
  r record;
  e lms.enrollments;
BEGIN
  IF uid IS NULL THEN RETURN lms.unauthenticated(); END IF;
  IF cid IS NULL THEN RETURN lms.problem(400, 'invalid_id', 'The id in the path is not a valid id.'); END IF;
  r := lms.enroll(uid, cid);
  CASE r.result
    WHEN 'not_found' THEN RETURN lms.not_found('Course');
    WHEN 'enrollment_closed' THEN
      RETURN lms.problem(403, 'enrollment_closed', 'Enrollment for this course is not open now.');
    WHEN 'prerequisites_not_met' THEN
      RETURN lms.problem(403, 'prerequisites_not_met', 'Complete every prerequisite course first.');
    WHEN 'course_full' THEN
      RETURN lms.problem(409, 'course_full', 'The course has no seat left.');
    ELSE
      SELECT * INTO e FROM lms.enrollments WHERE id = r.enrollment_id;
      RETURN lms.ok(CASE r.result WHEN 'existing' THEN 200 ELSE 201 END, lms.enrollment_json(e));
  END CASE;
END
$$;

-- DELETE /courses/{id}/enroll -> 204, status dropped, seat freed; 404 when not enrolled.
CREATE FUNCTION lms.api_unenroll(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  uid bigint := (lms.caller(token)).user_id;
  cid bigint := lms.path_id(path);
BEGIN
  IF uid IS NULL THEN RETURN lms.unauthenticated(); END IF;
  IF cid IS NULL THEN RETURN lms.problem(400, 'invalid_id', 'The id in the path is not a valid id.'); END IF;
  IF NOT lms.unenroll(uid, cid) THEN
    RETURN lms.problem(404, 'not_found', 'You are not enrolled in this course.');
  END IF;
  RETURN ROW(204, NULL)::lms.api_response;
END
$$;

-- GET /enrollments/me ?status,page,limit -> page of enrollment + course_title, newest first.
CREATE FUNCTION lms.api_enrollments_me(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  uid bigint := (lms.caller(token)).user_id;
  pg lms.paging := lms.paging(coalesce(query, '{}'));
  st text := query->>'status';
  now_ timestamptz := lms.clock();
  total bigint;
  items jsonb;
BEGIN
  IF uid IS NULL THEN RETURN lms.unauthenticated(); END IF;
  IF pg.problem IS NOT NULL THEN RETURN pg.problem; END IF;
  IF st IS NOT NULL AND st NOT IN ('active', 'completed', 'dropped', 'expired') THEN
    RETURN lms.invalid('status', 'must be one of active, completed, dropped, expired');
  END IF;
  WITH mine AS (
    SELECT e, CASE WHEN e.status = 'active' AND e.expires_at <= now_ THEN 'expired' ELSE e.status END AS shown
    FROM lms.enrollments e WHERE e.user_id = uid
  ), f AS (
    SELECT m.e FROM mine m WHERE st IS NULL OR m.shown = st
  )
  SELECT (SELECT count(*) FROM f),
         coalesce((SELECT pg_catalog.jsonb_agg(x.doc ORDER BY x.enrolled_at DESC, x.id DESC)
                   FROM (SELECT lms.enrollment_json(f.e) || pg_catalog.jsonb_build_object('course_title', c.title) AS doc,
                                (f.e).enrolled_at, (f.e).id
                         FROM f JOIN lms.courses c ON c.id = (f.e).course_id
                         ORDER BY (f.e).enrolled_at DESC, (f.e).id DESC
                         LIMIT pg.lim OFFSET (pg.page - 1)::bigint * pg.lim) x), '[]')
  INTO total, items;
  RETURN lms.ok(200, pg_catalog.jsonb_build_object('items', items, 'page', pg.page, 'limit', pg.lim, 'total', total));
END
$$;
-- Progress: the hot write (C, progress.c) and the reads of the counters it maintains.
-- Every progress write is O(1): counters on lms.enrollments (completed_lessons, last activity)
-- and lms.module_progress are maintained by the write; lms.courses.lesson_count by the catalog.

-- The SQL interface of POST /progress/lessons/{id}: the same document, errors raised
-- (P0002 lesson not found, 42501 not enrolled / locked, 22023 invalid values).
CREATE FUNCTION lms.record_progress(user_id bigint, lesson_id bigint, watched_seconds int,
                                    last_position_seconds int, completion_percentage numeric)
RETURNS jsonb
  AS 'MODULE_PATHNAME', 'lms_record_progress' LANGUAGE C VOLATILE STRICT;

-- The same with `completed` (text lessons complete with completed => true; NULL: not sent).
CREATE FUNCTION lms.record_progress(user_id bigint, lesson_id bigint, watched_seconds int,
                                    last_position_seconds int, completion_percentage numeric,
                                    completed boolean)
RETURNS jsonb
  AS 'MODULE_PATHNAME', 'lms_record_progress' LANGUAGE C VOLATILE;

-- The quiz pass: completes the lesson through the same exactly-once path.
-- {lesson_completed (true only for the call that completed it), points_awarded, course_completed}
CREATE FUNCTION lms.complete_lesson(user_id bigint, lesson_id bigint) RETURNS jsonb
  AS 'MODULE_PATHNAME', 'lms_complete_lesson' LANGUAGE C VOLATILE STRICT;

-- One row from the counters (no row when the learner never enrolled, or for NULL ids): O(1)
-- whatever the course size. status reads 'expired' for an active enrollment past expires_at.
-- Deliberately not STRICT and without SET options, so the planner inlines it into the caller's
-- query (a prepared caller then runs two index lookups and nothing else).
CREATE FUNCTION lms.course_progress(user_id bigint, course_id bigint)
RETURNS TABLE (total_lessons int, completed_lessons int, progress_percentage numeric, status text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT c.lesson_count,
         LEAST(e.completed_lessons, c.lesson_count),
         round(CASE WHEN c.lesson_count > 0
                    THEN LEAST(e.completed_lessons, c.lesson_count) * 100.0 / c.lesson_count
                    ELSE 0 END, 2),
         CASE WHEN e.status = 'active' AND e.expires_at <= lms.clock() THEN 'expired' ELSE e.status END
  FROM lms.enrollments e JOIN lms.courses c ON c.id = e.course_id
  WHERE e.user_id = course_progress.user_id AND e.course_id = course_progress.course_id;
END;

-- POST /progress/lessons/{id} (C, api_progress.c).
CREATE FUNCTION lms.api_progress_record(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
  AS 'MODULE_PATHNAME', 'lms_api_progress_record'
  LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- GET /progress/courses/{id}: the learner's course progress with the module breakdown.
-- Readable with an active, completed or expired enrollment (expired learners keep read
-- access); a dropped learner, or one who never enrolled, gets 403 not_enrolled.
CREATE FUNCTION lms.api_progress_course(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  uid bigint := (lms.caller(token)).user_id;
  cid bigint := lms.path_id(path);
  e lms.enrollments;
  c lms.courses;
  mods jsonb;
BEGIN
  IF uid IS NULL THEN RETURN lms.unauthenticated(); END IF;
  IF cid IS NULL THEN RETURN lms.problem(400, 'invalid_id', 'The id in the path is not a valid id.'); END IF;
  SELECT * INTO c FROM lms.courses WHERE id = cid;
  IF c.id IS NULL THEN RETURN lms.not_found('Course'); END IF;
  SELECT * INTO e FROM lms.enrollments WHERE user_id = uid AND course_id = cid;
  IF e.id IS NULL OR e.status = 'dropped' THEN
    RETURN lms.problem(403, 'not_enrolled', 'You are not enrolled in this course.');
  END IF;
  SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'module_id', m.id, 'title', m.title, 'total_lessons', m.lesson_count,
           'completed_lessons', LEAST(coalesce(mp.completed_lessons, 0), m.lesson_count),
           'progress_percentage', round(CASE WHEN m.lesson_count > 0
                                             THEN LEAST(coalesce(mp.completed_lessons, 0), m.lesson_count) * 100.0 / m.lesson_count
                                             ELSE 0 END, 2))
           ORDER BY m.position, m.id), '[]')
    INTO mods
    FROM lms.modules m
    LEFT JOIN lms.module_progress mp ON mp.user_id = uid AND mp.module_id = m.id
   WHERE m.course_id = cid;
  RETURN lms.ok(200, (SELECT pg_catalog.jsonb_build_object(
    'course_id', cid, 'total_lessons', p.total_lessons, 'completed_lessons', p.completed_lessons,
    'progress_percentage', p.progress_percentage, 'status', p.status,
    'last_lesson_id', e.last_lesson_id, 'last_position_seconds', e.last_position_seconds,
    'modules', mods)
    FROM lms.course_progress(uid, cid) p));
END
$$;
-- Quizzes: authoring (POST /lessons/{id}/quiz), reading without the answers (GET /quizzes/{id})
-- and attempts (POST /quizzes/{id}/attempts). A pass completes the quiz's lesson through the
-- same exactly-once completion path as any other lesson (lms.complete_lesson).

-- The quiz as the API shows it: never the answers.
CREATE FUNCTION lms.quiz_json(quiz_id bigint) RETURNS jsonb
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (
  SELECT pg_catalog.jsonb_build_object(
           'id', q.id, 'lesson_id', q.lesson_id, 'title', q.title,
           'pass_score', q.pass_score, 'max_attempts', q.max_attempts,
           'questions', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                                           'id', qq.id, 'prompt', qq.prompt, 'choices', qq.choices)
                                         ORDER BY qq.position)
                                  FROM lms.quiz_questions qq WHERE qq.quiz_id = q.id), '[]'))
  FROM lms.quizzes q WHERE q.id = quiz_json.quiz_id);

-- The JSON value as an integer, NULL unless it is an integral number (1 and 1.0 both count)
-- within the int range.
CREATE FUNCTION lms.json_int(v jsonb) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE WHEN pg_catalog.jsonb_typeof(v) = 'number' THEN
         CASE WHEN (v::text)::numeric = pg_catalog.trunc((v::text)::numeric)
                   AND pg_catalog.abs((v::text)::numeric) < 2147483648
              THEN (v::text)::numeric::int END
       END;

-- POST /lessons/{id}/quiz: owner or admin, on a lesson of kind quiz that has no quiz yet.
-- Every field is validated and every failure is reported at once (errors[] with paths such as
-- questions[1].answer). Limits: title 1..200 chars, pass_score integer 0..100, max_attempts an
-- integer >= 1 or null (unlimited), 1..200 questions, each with a non-blank prompt, 2..20
-- non-blank string choices and a 0-based answer index inside choices.
CREATE FUNCTION lms.api_quiz_create(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  me lms.caller := lms.caller(token);
  l record;
  b jsonb := lms.body_object(body);
  errs jsonb := '[]';
  qs jsonb;
  q jsonb;
  c jsonb;
  i int;
  j int;
  f text;
  new_id bigint;
BEGIN
  IF me.user_id IS NULL THEN RETURN lms.unauthenticated(); END IF;
  SELECT le.id, le.kind, co.instructor_id INTO l
    FROM lms.lessons le JOIN lms.courses co ON co.id = le.course_id
   WHERE le.id = lms.path_id(path);
  IF NOT FOUND THEN RETURN lms.not_found('Lesson'); END IF;
  IF me.role <> 'admin' AND l.instructor_id <> me.user_id THEN
    RETURN lms.forbidden('Only the course owner or an admin may add a quiz.');
  END IF;
  IF b IS NULL THEN RETURN lms.invalid_body(); END IF;
  IF l.kind <> 'quiz' THEN
    RETURN lms.problem(400, 'lesson_not_quiz',
                       pg_catalog.format('A quiz can only be added to a lesson of kind quiz; this lesson is a %s lesson.', l.kind));
  END IF;

  -- title
  IF pg_catalog.jsonb_typeof(b->'title') IS DISTINCT FROM 'string'
     OR pg_catalog.length(pg_catalog.btrim(b->>'title')) NOT BETWEEN 1 AND 200 THEN
    errs := errs || pg_catalog.jsonb_build_object('field', 'title', 'message', 'required, a string of 1 to 200 characters');
  END IF;
  -- pass_score
  IF NOT coalesce(lms.json_int(b->'pass_score') BETWEEN 0 AND 100, false) THEN
    errs := errs || pg_catalog.jsonb_build_object('field', 'pass_score', 'message', 'required, an integer percentage between 0 and 100');
  END IF;
  -- max_attempts (absent or null: unlimited)
  IF b ? 'max_attempts' AND pg_catalog.jsonb_typeof(b->'max_attempts') <> 'null'
     AND NOT coalesce(lms.json_int(b->'max_attempts') >= 1, false) THEN
    errs := errs || pg_catalog.jsonb_build_object('field', 'max_attempts', 'message', 'must be an integer >= 1, or null for unlimited attempts');
  END IF;
  -- questions
  qs := b->'questions';
  IF pg_catalog.jsonb_typeof(qs) IS DISTINCT FROM 'array'
     OR pg_catalog.jsonb_array_length(qs) NOT BETWEEN 1 AND 200 THEN
    errs := errs || pg_catalog.jsonb_build_object('field', 'questions', 'message', 'required, an array of 1 to 200 questions');
  ELSE
    FOR i IN 0 .. pg_catalog.jsonb_array_length(qs) - 1 LOOP
      q := qs->i;
      f := pg_catalog.format('questions[%s]', i);
      IF pg_catalog.jsonb_typeof(q) <> 'object' THEN
        errs := errs || pg_catalog.jsonb_build_object('field', f, 'message', 'must be an object {prompt,choices,answer}');
        CONTINUE;
      END IF;
      IF pg_catalog.jsonb_typeof(q->'prompt') IS DISTINCT FROM 'string'
         OR pg_catalog.length(pg_catalog.btrim(q->>'prompt')) NOT BETWEEN 1 AND 2000 THEN
        errs := errs || pg_catalog.jsonb_build_object('field', f || '.prompt', 'message', 'required, a string of 1 to 2000 characters');
      END IF;
      c := q->'choices';
      IF pg_catalog.jsonb_typeof(c) IS DISTINCT FROM 'array' OR pg_catalog.jsonb_array_length(c) NOT BETWEEN 2 AND 20 THEN
        errs := errs || pg_catalog.jsonb_build_object('field', f || '.choices', 'message', 'required, an array of 2 to 20 strings');
        c := NULL;
      ELSE
        FOR j IN 0 .. pg_catalog.jsonb_array_length(c) - 1 LOOP
          IF pg_catalog.jsonb_typeof(c->j) <> 'string' OR pg_catalog.length(pg_catalog.btrim(c->>j)) NOT BETWEEN 1 AND 500 THEN
            errs := errs || pg_catalog.jsonb_build_object('field', pg_catalog.format('%s.choices[%s]', f, j),
                                               'message', 'must be a string of 1 to 500 characters');
          END IF;
        END LOOP;
      END IF;
      IF lms.json_int(q->'answer') IS NULL THEN
        errs := errs || pg_catalog.jsonb_build_object('field', f || '.answer', 'message', 'required, the 0-based index of the right choice');
      ELSIF c IS NOT NULL AND lms.json_int(q->'answer') NOT BETWEEN 0 AND pg_catalog.jsonb_array_length(c) - 1 THEN
        errs := errs || pg_catalog.jsonb_build_object('field', f || '.answer',
                                           'message', pg_catalog.format('must be a 0-based index into choices (0 to %s)', pg_catalog.jsonb_array_length(c) - 1));
      END IF;
    END LOOP;
  END IF;
  IF pg_catalog.jsonb_array_length(errs) > 0 THEN
    RETURN lms.problem(400, 'validation_failed', 'The request has invalid fields.', errs);
  END IF;

  -- UNIQUE (lesson_id) decides between concurrent creators: no check-then-insert
  INSERT INTO lms.quizzes (lesson_id, title, pass_score, max_attempts)
  VALUES (l.id, pg_catalog.btrim(b->>'title'), lms.json_int(b->'pass_score'), lms.json_int(b->'max_attempts'))
  ON CONFLICT (lesson_id) DO NOTHING
  RETURNING id INTO new_id;
  IF new_id IS NULL THEN
    RETURN lms.problem(409, 'quiz_exists', 'This lesson already has a quiz.');
  END IF;
  INSERT INTO lms.quiz_questions (quiz_id, position, prompt, choices, answer)
  SELECT new_id, t.n, pg_catalog.btrim(t.q->>'prompt'), t.q->'choices', lms.json_int(t.q->'answer')
    FROM pg_catalog.jsonb_array_elements(qs) WITH ORDINALITY AS t(q, n);
  PERFORM lms.audit(me.user_id, 'quiz.create', 'quiz', new_id,
                    pg_catalog.jsonb_build_object('lesson_id', l.id, 'questions', pg_catalog.jsonb_array_length(qs)));
  RETURN lms.ok(201, lms.quiz_json(new_id));
END
$$;

-- What a caller may see of a quiz: the verdict of lms.lesson_access on its lesson ('ok',
-- 'not_found', 'not_enrolled', 'lesson_locked'; owner and admins always 'ok'), so a quiz is
-- exactly as visible as its lesson; 'not_found' as well for an unknown quiz.
CREATE FUNCTION lms.quiz_access(me lms.caller, quiz_id bigint,
                                OUT verdict text, OUT lesson_id bigint, OUT course_id bigint,
                                OUT pass_score int, OUT max_attempts int)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  SELECT q.lesson_id, le.course_id, q.pass_score, q.max_attempts
    INTO lesson_id, course_id, pass_score, max_attempts
    FROM lms.quizzes q JOIN lms.lessons le ON le.id = q.lesson_id
   WHERE q.id = quiz_access.quiz_id;
  IF NOT FOUND THEN verdict := 'not_found'; RETURN; END IF;
  verdict := lms.lesson_access(me.user_id, lesson_id);
END
$$;

CREATE FUNCTION lms.quiz_access_problem(verdict text) RETURNS lms.api_response
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE verdict
         WHEN 'not_found' THEN lms.not_found('Quiz')
         WHEN 'not_enrolled' THEN lms.problem(403, 'not_enrolled', 'You are not enrolled in this course.')
         WHEN 'lesson_locked' THEN lms.problem(403, 'lesson_locked', 'This lesson is not available yet.')
         WHEN 'unauthenticated' THEN lms.unauthenticated()
         ELSE lms.forbidden()
       END;

-- GET /quizzes/{id}: enrolled learners (lesson available), the owner and admins. No answers.
CREATE FUNCTION lms.api_quiz_get(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  me lms.caller := lms.caller(token);
  a record;
  qid bigint := lms.path_id(path);
BEGIN
  IF me.user_id IS NULL THEN RETURN lms.unauthenticated(); END IF;
  a := lms.quiz_access(me, qid);
  IF a.verdict <> 'ok' THEN RETURN lms.quiz_access_problem(a.verdict); END IF;
  RETURN lms.ok(200, lms.quiz_json(qid));
END
$$;

-- POST /quizzes/{id}/attempts {answers:{"<question id>":<choice index>}}: the enrolled learner.
-- The learner's enrollment row is locked before the attempts are counted, so max_attempts holds
-- under concurrent submissions (UNIQUE (quiz_id, user_id, attempt_no) is the last line of defence);
-- a pass that may complete the lesson locks the course row before it (the house lock order).
-- score = correct / questions * 100 (2 decimals; unanswered = wrong); passed = score >= pass_score.
-- A pass completes the lesson (exactly once) and lets gamification award the quiz points.
-- lesson_completed says whether the quiz's lesson is completed after this attempt.
CREATE FUNCTION lms.api_quiz_attempt(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  me lms.caller := lms.caller(token);
  qid bigint := lms.path_id(path);
  a record;
  b jsonb := lms.body_object(body);
  ans jsonb;
  errs jsonb := '[]';
  k text;
  v jsonb;
  nchoices int;
  total int;
  correct int;
  used int;
  sc numeric(5,2);
  ok boolean;
  attempt bigint;
  points bigint := 0;
  done boolean;
  r jsonb;
BEGIN
  IF me.user_id IS NULL THEN RETURN lms.unauthenticated(); END IF;
  a := lms.quiz_access(me, qid);
  IF a.verdict = 'not_found' THEN RETURN lms.quiz_access_problem(a.verdict); END IF;
  -- the owner and admins may read a quiz, but only an enrolled learner takes it
  IF a.verdict = 'ok' AND NOT lms.is_enrolled(me.user_id, a.course_id) THEN a.verdict := 'not_enrolled'; END IF;
  IF a.verdict <> 'ok' THEN RETURN lms.quiz_access_problem(a.verdict); END IF;

  IF b IS NULL THEN RETURN lms.invalid_body(); END IF;
  ans := b->'answers';
  IF pg_catalog.jsonb_typeof(ans) IS DISTINCT FROM 'object' THEN
    RETURN lms.invalid('answers', 'required, an object {"<question id>": <choice index>}');
  END IF;
  FOR k, v IN SELECT e.key, e.value FROM pg_catalog.jsonb_each(ans) e ORDER BY e.key LOOP
    SELECT pg_catalog.jsonb_array_length(qq.choices) INTO nchoices
      FROM lms.quiz_questions qq
     WHERE qq.quiz_id = qid AND k ~ '^[0-9]{1,18}$' AND qq.id = k::bigint;
    IF NOT FOUND THEN
      errs := errs || pg_catalog.jsonb_build_object('field', 'answers.' || k, 'message', 'not a question of this quiz');
    ELSIF NOT coalesce(lms.json_int(v) BETWEEN 0 AND nchoices - 1, false) THEN
      errs := errs || pg_catalog.jsonb_build_object('field', 'answers.' || k,
                                         'message', pg_catalog.format('must be a 0-based choice index (0 to %s)', nchoices - 1));
    END IF;
  END LOOP;
  IF pg_catalog.jsonb_array_length(errs) > 0 THEN
    RETURN lms.problem(400, 'validation_failed', 'The request has invalid fields.', errs);
  END IF;

  SELECT count(*), count(*) FILTER (WHERE lms.json_int(ans->(qq.id::text)) = qq.answer)
    INTO total, correct
    FROM lms.quiz_questions qq WHERE qq.quiz_id = qid;
  sc := CASE WHEN total > 0 THEN pg_catalog.round(correct * 100.0 / total, 2) ELSE 0 END;
  ok := sc >= a.pass_score;

  -- House lock order: the course row before the enrollment row. A pass that may complete the
  -- lesson (and so perhaps the course) takes the course row first, as lms.complete_lesson
  -- would; completion only ever goes one way, so a read saying "already completed" is final.
  IF ok AND NOT coalesce((SELECT lp.is_completed FROM lms.lesson_progress lp
                           WHERE lp.user_id = me.user_id AND lp.lesson_id = a.lesson_id), false)
        AND EXISTS (SELECT FROM lms.enrollments e
                     WHERE e.user_id = me.user_id AND e.course_id = a.course_id AND e.status = 'active') THEN
    PERFORM 1 FROM lms.courses c WHERE c.id = a.course_id FOR NO KEY UPDATE;
  END IF;
  -- serialize this learner's attempts on the course: max_attempts holds under concurrency
  PERFORM 1 FROM lms.enrollments e WHERE e.user_id = me.user_id AND e.course_id = a.course_id FOR UPDATE;
  IF NOT lms.is_enrolled(me.user_id, a.course_id) THEN
    RETURN lms.quiz_access_problem('not_enrolled');
  END IF;
  SELECT count(*) INTO used FROM lms.quiz_attempts qa WHERE qa.quiz_id = qid AND qa.user_id = me.user_id;
  IF a.max_attempts IS NOT NULL AND used >= a.max_attempts THEN
    RETURN lms.problem(409, 'max_attempts_reached',
                       pg_catalog.format('All %s attempts allowed for this quiz have been used.', a.max_attempts));
  END IF;

  INSERT INTO lms.quiz_attempts (quiz_id, user_id, attempt_no, answers, score, passed)
  VALUES (qid, me.user_id, used + 1, ans, sc, ok)
  RETURNING id INTO attempt;

  IF ok THEN
    r := lms.complete_lesson(me.user_id, a.lesson_id);
    points := points + coalesce((r->>'points_awarded')::bigint, 0);
  END IF;
  IF pg_catalog.to_regprocedure('lms.award_quiz(bigint,bigint,bigint,numeric,boolean)') IS NOT NULL THEN
    points := points + coalesce(lms.award_quiz(me.user_id, qid, a.course_id, sc, ok), 0);
  END IF;
  SELECT lp.is_completed INTO done FROM lms.lesson_progress lp
   WHERE lp.user_id = me.user_id AND lp.lesson_id = a.lesson_id;

  RETURN lms.ok(201, pg_catalog.jsonb_build_object(
    'attempt_id', attempt, 'score', pg_catalog.trim_scale(sc), 'passed', ok, 'attempts_used', used + 1,
    'points_awarded', points, 'lesson_completed', coalesce(done, false)));
END
$$;
-- Certificates: issued once per learner and completed course, verified by anyone by their code.

-- A new certificate code: 128 bits from the server's strong random source (gen_random_uuid uses
-- pg_strong_random; two UUIDs carry 244 random bits, hashed down to 16 bytes), written in
-- base64url without padding: 22 characters, safe in a URL path.
CREATE FUNCTION lms.new_certificate_code() RETURNS text
LANGUAGE sql VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.translate(
         pg_catalog.encode(
           pg_catalog.substring(pg_catalog.sha256(pg_catalog.uuid_send(pg_catalog.gen_random_uuid())
                                                  || pg_catalog.uuid_send(pg_catalog.gen_random_uuid())), 1, 16),
           'base64'),
         '+/=', '-_');

CREATE FUNCTION lms.certificate_json(c lms.certificates) RETURNS jsonb
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT pg_catalog.jsonb_build_object(
                 'code', c.code, 'user_id', c.user_id, 'course_id', c.course_id,
                 'course_title', co.title, 'display_name', u.display_name,
                 'issued_at', lms.iso(c.issued_at))
          FROM lms.courses co, lms.users u
         WHERE co.id = c.course_id AND u.id = c.user_id);

-- POST /certificates/courses/{id}: the learner whose enrollment in the course is completed.
-- 201 with a new certificate, 200 with the same one when it was already issued (concurrent
-- requests included: UNIQUE (user_id, course_id) decides, then the winner's row is read).
-- 403 not_enrolled without any enrollment; 409 course_not_completed otherwise.
CREATE FUNCTION lms.api_certificate_issue(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  me lms.caller := lms.caller(token);
  cid bigint := lms.path_id(path);
  st text;
  cert lms.certificates;
BEGIN
  IF me.user_id IS NULL THEN RETURN lms.unauthenticated(); END IF;
  PERFORM 1 FROM lms.courses WHERE id = cid;
  IF NOT FOUND THEN RETURN lms.not_found('Course'); END IF;
  SELECT e.status INTO st FROM lms.enrollments e WHERE e.user_id = me.user_id AND e.course_id = cid;
  IF NOT FOUND THEN
    RETURN lms.problem(403, 'not_enrolled', 'You are not enrolled in this course.');
  END IF;
  IF st <> 'completed' THEN
    RETURN lms.problem(409, 'course_not_completed', 'A certificate is issued once every lesson of the course is completed.');
  END IF;
  FOR attempt IN 1 .. 3 LOOP
    INSERT INTO lms.certificates (code, user_id, course_id, issued_at)
    VALUES (lms.new_certificate_code(), me.user_id, cid, lms.clock())
    ON CONFLICT DO NOTHING
    RETURNING * INTO cert;
    IF cert.id IS NOT NULL THEN RETURN lms.ok(201, lms.certificate_json(cert)); END IF;
    SELECT * INTO cert FROM lms.certificates c WHERE c.user_id = me.user_id AND c.course_id = cid;
    IF FOUND THEN RETURN lms.ok(200, lms.certificate_json(cert)); END IF;
    -- only a clash of random codes gets here (2^-128): draw again
  END LOOP;
  RAISE EXCEPTION 'could not issue a certificate code';
END
$$;

-- GET /certificates/{code}: anyone may verify a certificate.
CREATE FUNCTION lms.api_certificate_get(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  cert lms.certificates;
  doc jsonb;
BEGIN
  SELECT * INTO cert FROM lms.certificates c WHERE c.code = path;
  IF NOT FOUND THEN RETURN lms.not_found('Certificate'); END IF;
  doc := lms.certificate_json(cert);
  RETURN lms.ok(200, pg_catalog.jsonb_build_object('code', doc->'code', 'display_name', doc->'display_name',
                                        'course_title', doc->'course_title', 'issued_at', doc->'issued_at',
                                        'valid', true));
END
$$;
-- Instructor analytics: GET /courses/{id}/analytics and GET /courses/{id}/students (owner, admin).
-- Cold paths: they aggregate the course's enrollments and progress at read time.

-- Progress of one enrollment in percent, as analytics shows it: completed published lessons over
-- the course's published lessons, at most 100, 2 decimals; 0 for a course without lessons.
CREATE FUNCTION lms.analytics_progress(completed_lessons int, lesson_count int) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE WHEN lesson_count > 0
            THEN pg_catalog.round(least(completed_lessons, lesson_count) * 100.0 / lesson_count, 2)
            ELSE 0 END;

-- The status an enrollment reads as now: 'active' past expires_at reads as 'expired'.
CREATE FUNCTION lms.effective_status(status text, expires_at timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE WHEN status = 'active' AND expires_at <= lms.clock() THEN 'expired' ELSE status END;

-- 401 / 404 / 403 for the owner-or-admin course routes; NULL when the caller may go on.
CREATE FUNCTION lms.course_owner_check(me lms.caller, course_id bigint) RETURNS lms.api_response
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  owner bigint;
BEGIN
  IF me.user_id IS NULL THEN RETURN lms.unauthenticated(); END IF;
  SELECT c.instructor_id INTO owner FROM lms.courses c WHERE c.id = course_owner_check.course_id;
  IF NOT FOUND THEN RETURN lms.not_found('Course'); END IF;
  IF me.role <> 'admin' AND owner <> me.user_id THEN
    RETURN lms.forbidden('Only the course owner or an admin may see this.');
  END IF;
  RETURN NULL;
END
$$;

-- GET /courses/{id}/analytics. Definitions (see also the view lms.course_stats, which this reads):
--   enrollments: active (not past expires_at), completed, dropped, expired, total (all of them);
--   completion_rate = completed / (active + completed) * 100; average_progress = mean progress
--   over active and completed enrollments (both 0 when there are none, 2 decimals);
--   active_learners_7d = learners of the course with activity in the last 7 days;
--   points_awarded_total = sum of the points ledger's entries carrying the course;
--   lessons[] (every lesson of the course, in module then lesson order): started = learners with
--   progress on it, completed = learners who completed it, completion_rate = completed / started * 100.
CREATE FUNCTION lms.api_course_analytics(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  cid bigint := lms.path_id(path);
  p lms.api_response := lms.course_owner_check(lms.caller(token), cid);
  s record;
  learners7 int;
  pts bigint := 0;
  lessons jsonb;
BEGIN
  IF p.status IS NOT NULL THEN RETURN p; END IF;
  SELECT * INTO s FROM lms.course_stats cs WHERE cs.course_id = cid;
  SELECT count(*) INTO learners7 FROM lms.enrollments e
   WHERE e.course_id = cid AND e.last_activity_at > lms.clock() - interval '7 days';
  -- the per-learner course totals sum the same ledger rows, one row per learner instead of one per award
  SELECT coalesce(sum(cs.points), 0) INTO pts FROM lms.course_scores cs WHERE cs.course_id = cid;
  SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'lesson_id', x.id, 'module_id', x.module_id, 'title', x.title, 'position', x.position,
           'kind', x.kind, 'is_published', x.is_published,
           'started', x.started, 'completed', x.completed,
           'completion_rate', CASE WHEN x.started > 0 THEN pg_catalog.round(x.completed * 100.0 / x.started, 2) ELSE 0 END)
         ORDER BY x.module_position, x.position, x.id), '[]')
    INTO lessons
    FROM (SELECT le.id, le.module_id, le.title, le.position, le.kind, le.is_published,
                 m.position AS module_position,
                 n.started, n.completed
            FROM lms.lessons le JOIN lms.modules m ON m.id = le.module_id
            -- one pass over each lesson's progress rows for both counts
            CROSS JOIN LATERAL (SELECT count(*) AS started, count(*) FILTER (WHERE lp.is_completed) AS completed
                                  FROM lms.lesson_progress lp WHERE lp.lesson_id = le.id) n
           WHERE le.course_id = cid) x;
  RETURN lms.ok(200, pg_catalog.jsonb_build_object(
    'course_id', cid,
    'enrollments', pg_catalog.jsonb_build_object(
       'active', s.active_enrollments, 'completed', s.completed_enrollments,
       'dropped', s.dropped_enrollments, 'expired', s.expired_enrollments,
       'total', s.active_enrollments + s.completed_enrollments + s.dropped_enrollments + s.expired_enrollments),
    'completion_rate', s.completion_rate,
    'average_progress', s.average_progress,
    'active_learners_7d', learners7,
    'points_awarded_total', pts,
    'lessons', lessons));
END
$$;

-- GET /courses/{id}/students ?page,limit,status: the course's learners in enrollment order,
-- every status unless filtered (status as it reads now: an active enrollment past its access
-- window is 'expired').
CREATE FUNCTION lms.api_course_students(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  cid bigint := lms.path_id(path);
  p lms.api_response := lms.course_owner_check(lms.caller(token), cid);
  pg lms.paging := lms.paging(query);
  want text := query->>'status';
  n int;
  lc int;
  items jsonb;
BEGIN
  IF p.status IS NOT NULL THEN RETURN p; END IF;
  IF (pg.problem).status IS NOT NULL THEN RETURN pg.problem; END IF;
  IF want IS NOT NULL AND want NOT IN ('active', 'completed', 'dropped', 'expired') THEN
    RETURN lms.invalid('status', 'must be one of active, completed, dropped, expired');
  END IF;
  SELECT c.lesson_count INTO lc FROM lms.courses c WHERE c.id = cid;
  SELECT count(*) INTO n FROM lms.enrollments e
   WHERE e.course_id = cid AND (want IS NULL OR lms.effective_status(e.status, e.expires_at) = want);
  SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'user_id', x.user_id, 'display_name', x.display_name, 'status', x.st,
           'progress_percentage', lms.analytics_progress(x.completed_lessons, lc),
           'completed_lessons', x.completed_lessons,
           'enrolled_at', lms.iso(x.enrolled_at),
           'last_activity_at', lms.iso(x.last_activity_at)) ORDER BY x.id), '[]')
    INTO items
    FROM (SELECT e.id, e.user_id, u.display_name, lms.effective_status(e.status, e.expires_at) AS st,
                 e.completed_lessons, e.enrolled_at, e.last_activity_at
            FROM lms.enrollments e JOIN lms.users u ON u.id = e.user_id
           WHERE e.course_id = cid AND (want IS NULL OR lms.effective_status(e.status, e.expires_at) = want)
           ORDER BY e.id
           LIMIT pg.lim OFFSET (pg.page - 1)::bigint * pg.lim) x;
  RETURN lms.ok(200, pg_catalog.jsonb_build_object('items', items, 'page', pg.page, 'limit', pg.lim, 'total', n));
END
$$;
-- Administration and operations: users, the audit log and the performance page (admins only).

-- 401 without a valid token, 403 for anyone but an admin; NULL when the caller is an admin.
CREATE FUNCTION lms.admin_check(me lms.caller) RETURNS lms.api_response
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE WHEN me.user_id IS NULL THEN lms.unauthenticated()
            WHEN me.role IS DISTINCT FROM 'admin' THEN lms.forbidden('Only an admin may do this.') END;

-- GET /admin/users ?page,limit,role,status,q: every user in id order; role and status filter
-- exactly, q matches a part of the email or display name (case-insensitive).
CREATE FUNCTION lms.api_admin_users_list(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  p lms.api_response := lms.admin_check(lms.caller(token));
  pg lms.paging := lms.paging(query);
  r text := query->>'role';
  st text := query->>'status';
  pat text;
  n bigint;
  items jsonb;
BEGIN
  IF p.status IS NOT NULL THEN RETURN p; END IF;
  IF (pg.problem).status IS NOT NULL THEN RETURN pg.problem; END IF;
  IF r IS NOT NULL AND r NOT IN ('student', 'instructor', 'admin') THEN
    RETURN lms.invalid('role', 'must be one of student, instructor, admin');
  END IF;
  IF st IS NOT NULL AND st NOT IN ('active', 'suspended') THEN
    RETURN lms.invalid('status', 'must be one of active, suspended');
  END IF;
  IF pg_catalog.length(query->>'q') > 200 THEN
    RETURN lms.invalid('q', 'must be at most 200 characters');
  END IF;
  -- q is matched literally: escape LIKE's wildcards
  pat := '%' || pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(nullif(query->>'q', ''), '\', '\\'), '%', '\%'), '_', '\_') || '%';
  SELECT count(*) INTO n FROM lms.users u
   WHERE (r IS NULL OR u.role = r) AND (st IS NULL OR u.status = st)
     AND (pat IS NULL OR u.email ILIKE pat OR u.display_name ILIKE pat);
  SELECT coalesce(pg_catalog.jsonb_agg(lms.user_json(x) ORDER BY x.id), '[]') INTO items
    FROM (SELECT u.* FROM lms.users u
           WHERE (r IS NULL OR u.role = r) AND (st IS NULL OR u.status = st)
             AND (pat IS NULL OR u.email ILIKE pat OR u.display_name ILIKE pat)
           ORDER BY u.id
           LIMIT pg.lim OFFSET (pg.page - 1)::bigint * pg.lim) x;
  RETURN lms.ok(200, pg_catalog.jsonb_build_object('items', items, 'page', pg.page, 'limit', pg.lim, 'total', n));
END
$$;

-- PATCH /admin/users/{id} {role?,status?}: an admin changes a user's role or status.
-- Suspending revokes every live token of the user at once (their next request gets 401).
-- An admin may not suspend or demote themself (400 validation_failed): that keeps at least the
-- acting admin able to undo a mistake. Unknown fields and an empty object are 400 too.
CREATE FUNCTION lms.api_admin_user_patch(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  me lms.caller := lms.caller(token);
  p lms.api_response := lms.admin_check(me);
  b jsonb := lms.body_object(body);
  u lms.users;
  errs jsonb := '[]';
  k text;
  new_role text;
  new_status text;
  revoked int := 0;
  changes jsonb := '{}';
BEGIN
  IF p.status IS NOT NULL THEN RETURN p; END IF;
  SELECT * INTO u FROM lms.users x WHERE x.id = lms.path_id(path) FOR UPDATE;
  IF NOT FOUND THEN RETURN lms.not_found('User'); END IF;
  IF b IS NULL THEN RETURN lms.invalid_body(); END IF;

  FOR k IN SELECT pg_catalog.jsonb_object_keys(b) LOOP
    IF k NOT IN ('role', 'status') THEN
      errs := errs || pg_catalog.jsonb_build_object('field', k, 'message', 'unknown field (role and status may be changed)');
    END IF;
  END LOOP;
  IF b ? 'role' THEN
    IF pg_catalog.jsonb_typeof(b->'role') IS DISTINCT FROM 'string' OR b->>'role' NOT IN ('student', 'instructor', 'admin') THEN
      errs := errs || pg_catalog.jsonb_build_object('field', 'role', 'message', 'must be one of student, instructor, admin');
    ELSE
      new_role := b->>'role';
      IF u.id = me.user_id AND new_role <> 'admin' THEN
        errs := errs || pg_catalog.jsonb_build_object('field', 'role', 'message', 'an admin may not demote themself');
      END IF;
    END IF;
  END IF;
  IF b ? 'status' THEN
    IF pg_catalog.jsonb_typeof(b->'status') IS DISTINCT FROM 'string' OR b->>'status' NOT IN ('active', 'suspended') THEN
      errs := errs || pg_catalog.jsonb_build_object('field', 'status', 'message', 'must be one of active, suspended');
    ELSE
      new_status := b->>'status';
      IF u.id = me.user_id AND new_status = 'suspended' THEN
        errs := errs || pg_catalog.jsonb_build_object('field', 'status', 'message', 'an admin may not suspend themself');
      END IF;
    END IF;
  END IF;
  IF NOT (b ? 'role' OR b ? 'status') AND pg_catalog.jsonb_array_length(errs) = 0 THEN
    errs := errs || pg_catalog.jsonb_build_object('field', 'body', 'message', 'nothing to change: send role and/or status');
  END IF;
  IF pg_catalog.jsonb_array_length(errs) > 0 THEN
    RETURN lms.problem(400, 'validation_failed', 'The request has invalid fields.', errs);
  END IF;

  IF new_role IS NOT NULL THEN
    changes := changes || pg_catalog.jsonb_build_object('role', pg_catalog.jsonb_build_object('from', u.role, 'to', new_role));
  END IF;
  IF new_status IS NOT NULL THEN
    changes := changes || pg_catalog.jsonb_build_object('status', pg_catalog.jsonb_build_object('from', u.status, 'to', new_status));
  END IF;
  UPDATE lms.users x
     SET role = coalesce(new_role, x.role), status = coalesce(new_status, x.status), updated_at = lms.clock()
   WHERE x.id = u.id
  RETURNING * INTO u;
  IF new_status = 'suspended' THEN
    UPDATE lms.sessions s SET revoked_at = lms.clock()
     WHERE s.user_id = u.id AND s.revoked_at IS NULL;
    GET DIAGNOSTICS revoked = ROW_COUNT;
    changes := changes || pg_catalog.jsonb_build_object('tokens_revoked', revoked);
  END IF;
  PERFORM lms.audit(me.user_id, 'user.update', 'user', u.id, changes);
  RETURN lms.ok(200, lms.user_json(u));
END
$$;

-- GET /admin/audit ?after,limit: the audit log newest first. The cursor is opaque to clients
-- (today the id of the last row of the previous page, as text); a cursor that is not one -> 400.
CREATE FUNCTION lms.api_admin_audit(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  p lms.api_response := lms.admin_check(lms.caller(token));
  pg lms.paging := lms.paging(pg_catalog.jsonb_build_object('limit', query->'limit'));
  cur text := query->>'after';
  after_id bigint;
  items jsonb;
  n int;
BEGIN
  IF p.status IS NOT NULL THEN RETURN p; END IF;
  IF (pg.problem).status IS NOT NULL THEN RETURN pg.problem; END IF;
  IF cur IS NOT NULL THEN
    after_id := lms.path_id(cur);
    IF after_id IS NULL THEN RETURN lms.invalid('after', 'not a cursor returned by this list'); END IF;
  END IF;
  SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'id', a.id, 'actor_id', a.actor_id, 'action', a.action, 'entity', a.entity,
           'entity_id', a.entity_id, 'data', a.data, 'created_at', lms.iso(a.created_at)) ORDER BY a.id DESC), '[]'),
         count(*)
    INTO items, n
    FROM (SELECT * FROM lms.audit_log a
           WHERE after_id IS NULL OR a.id < after_id
           ORDER BY a.id DESC LIMIT pg.lim + 1) a;
  IF n > pg.lim THEN
    items := items - pg.lim;
    RETURN lms.ok(200, pg_catalog.jsonb_build_object('items', items, 'next_cursor', (items->(pg.lim - 1)->>'id')));
  END IF;
  RETURN lms.ok(200, pg_catalog.jsonb_build_object('items', items, 'next_cursor', NULL));
END
$$;

-- GET /admin/performance: database figures, the gateway's own figures (passed as body by the
-- gateway and embedded as is; null when there is none) and the leaderboards' freshness.
-- top_queries come from pg_stat_statements when that extension is installed in this database
-- and loaded; otherwise [].
CREATE FUNCTION lms.api_admin_performance(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  p lms.api_response := lms.admin_check(lms.caller(token));
  db jsonb;
  top jsonb := '[]';
  pss_schema name;
  boards jsonb;
BEGIN
  IF p.status IS NOT NULL THEN RETURN p; END IF;
  SELECT pg_catalog.jsonb_build_object(
           'cache_hit_ratio', CASE WHEN d.blks_hit + d.blks_read > 0
                                   THEN pg_catalog.round(d.blks_hit::numeric / (d.blks_hit + d.blks_read), 4) END,
           'connections', (SELECT count(*) FROM pg_stat_activity a WHERE a.datid = d.datid),
           'size_bytes', pg_catalog.pg_database_size(d.datid),
           'transactions_committed', d.xact_commit,
           'transactions_rolled_back', d.xact_rollback,
           'deadlocks', d.deadlocks)
    INTO db
    FROM pg_stat_database d WHERE d.datname = pg_catalog.current_database();

  SELECT e.extnamespace::regnamespace::name INTO pss_schema
    FROM pg_extension e WHERE e.extname = 'pg_stat_statements';
  IF pss_schema IS NOT NULL THEN
    BEGIN
      EXECUTE pg_catalog.format($q$
        SELECT coalesce(pg_catalog.jsonb_agg(t ORDER BY t.total_ms DESC), '[]')
          FROM (SELECT left(s.query, 500) AS query, s.calls,
                       pg_catalog.round(s.total_exec_time::numeric, 3) AS total_ms,
                       pg_catalog.round(s.mean_exec_time::numeric, 3) AS mean_ms, s.rows
                  FROM %I.pg_stat_statements s
                 WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = pg_catalog.current_database())
                 ORDER BY s.total_exec_time DESC LIMIT 10) t$q$, pss_schema)
        INTO top;
    EXCEPTION WHEN OTHERS THEN
      top := '[]';   -- installed but not loaded (shared_preload_libraries), or an older version
    END;
  END IF;

  db := db || pg_catalog.jsonb_build_object(
    'top_queries', top,
    'unused_indexes', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                                 'table', i.relname, 'index', i.indexrelname,
                                 'size_bytes', pg_catalog.pg_relation_size(i.indexrelid)) ORDER BY i.relname, i.indexrelname), '[]')
                         FROM pg_stat_user_indexes i JOIN pg_index x ON x.indexrelid = i.indexrelid
                        WHERE i.schemaname = 'lms' AND i.idx_scan = 0
                          AND NOT x.indisunique AND NOT x.indisprimary),
    'tables', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                        'table', t.relname, 'rows', t.n_live_tup,
                        'size_bytes', pg_catalog.pg_total_relation_size(t.relid),
                        'seq_scan', t.seq_scan, 'idx_scan', coalesce(t.idx_scan, 0))
                      ORDER BY t.relname), '[]')
                 FROM pg_stat_user_tables t WHERE t.schemaname = 'lms'));

  -- board freshness from the leaderboard metadata (lms.boards, when gamification is installed):
  -- generated_at of the global all-time board, the stalest board's, and how many boards exist
  IF pg_catalog.to_regclass('lms.boards') IS NOT NULL THEN
    EXECUTE $q$SELECT pg_catalog.jsonb_build_object(
                 'generated_at', lms.iso(max(b.generated_at) FILTER (WHERE b.board = 'global' AND b.win = 'all')),
                 'oldest_generated_at', lms.iso(min(b.generated_at)),
                 'boards', count(*))
               FROM lms.boards b$q$ INTO boards;
  END IF;

  RETURN lms.ok(200, pg_catalog.jsonb_build_object(
    'database', db,
    'gateway', body,
    'leaderboards', coalesce(boards, pg_catalog.jsonb_build_object('generated_at', NULL))));
END
$$;
-- Gamification: the points ledger, per-learner totals, streaks and achievements.
-- The write path (scoring.c) keeps every table here in step with the ledger inside the
-- transaction of the progress write, quiz attempt or admin award that caused it.

-- Every award is one row; a source key names what was awarded so it can never be awarded twice
-- (INSERT ... ON CONFLICT DO NOTHING). Append-only: corrections are new rows, negative points.
CREATE TABLE lms.points_ledger (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES lms.users ON DELETE CASCADE,
  points int NOT NULL CHECK (points <> 0),
  reason text NOT NULL CHECK (reason IN ('lesson_completed', 'quiz_passed', 'quiz_perfect',
                                         'course_completed', 'streak_bonus', 'achievement',
                                         'admin_correction')),
  source_key text NOT NULL UNIQUE CHECK (length(source_key) BETWEEN 1 AND 200),
  course_id bigint,                 -- the course the points count for (course boards), if any
  source_id bigint,                 -- lesson, quiz, course or achievement id
  note text CHECK (length(note) <= 500),   -- an admin's explanation of a correction
  created_at timestamptz NOT NULL DEFAULT lms.clock()
);
-- history pages, per-learner recompute
CREATE INDEX points_ledger_by_user ON lms.points_ledger (user_id, id);
-- course boards: change detection (max id) and window sums
CREATE INDEX points_ledger_by_course ON lms.points_ledger (course_id, id) WHERE course_id IS NOT NULL;
-- week and month boards sum the entries of the current period
CREATE INDEX points_ledger_by_time ON lms.points_ledger (created_at);

COMMENT ON TABLE lms.points_ledger IS
  'Append-only points ledger: one row per award, unique source_key, corrections as negative rows';

-- One row per learner who has scored or been active: the totals the answers and boards read.
CREATE TABLE lms.learner_scores (
  user_id bigint PRIMARY KEY REFERENCES lms.users ON DELETE CASCADE,
  total_points bigint NOT NULL DEFAULT 0,
  level int NOT NULL DEFAULT 1 CHECK (level >= 1),
  reached_at timestamptz,           -- when total_points was reached (tie order); NULL: no award yet
  lessons_completed int NOT NULL DEFAULT 0 CHECK (lessons_completed >= 0),
  courses_completed int NOT NULL DEFAULT 0 CHECK (courses_completed >= 0),
  quiz_perfects int NOT NULL DEFAULT 0 CHECK (quiz_perfects >= 0),
  current_streak int NOT NULL DEFAULT 0 CHECK (current_streak >= 0),
  longest_streak int NOT NULL DEFAULT 0 CHECK (longest_streak >= current_streak),
  last_activity_date date           -- in the learner's own time zone
);

-- Points per learner and course (the all-time course boards).
CREATE TABLE lms.course_scores (
  course_id bigint NOT NULL,
  user_id bigint NOT NULL REFERENCES lms.users ON DELETE CASCADE,
  points bigint NOT NULL,
  reached_at timestamptz NOT NULL,
  PRIMARY KEY (course_id, user_id)
);

-- The learner's active days (local calendar days): streaks are derivable from them.
CREATE TABLE lms.streak_days (
  user_id bigint NOT NULL REFERENCES lms.users ON DELETE CASCADE,
  day date NOT NULL,
  PRIMARY KEY (user_id, day)
);

CREATE TABLE lms.achievements (
  id bigserial PRIMARY KEY,
  code text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9_]{1,50}$'),
  title text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
  description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
  points int NOT NULL DEFAULT 0 CHECK (points BETWEEN 0 AND 100000),
  kind text NOT NULL CHECK (kind IN ('lessons_completed', 'courses_completed', 'streak_days',
                                     'points_total', 'quiz_perfect')),
  threshold bigint NOT NULL CHECK (threshold >= 1),
  is_builtin boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT lms.clock()
);

CREATE TABLE lms.user_achievements (
  user_id bigint NOT NULL REFERENCES lms.users ON DELETE CASCADE,
  achievement_id bigint NOT NULL REFERENCES lms.achievements ON DELETE CASCADE,
  awarded_at timestamptz NOT NULL DEFAULT lms.clock(),
  PRIMARY KEY (user_id, achievement_id)
);
-- a new achievement is granted set-based to everyone who qualifies
CREATE INDEX user_achievements_by_achievement ON lms.user_achievements (achievement_id);

-- (a fixed created_at, so a restored database holds exactly the same seeded rows)
INSERT INTO lms.achievements (code, title, description, points, kind, threshold, is_builtin, created_at)
SELECT code, title, description, points, kind, threshold, true, timestamptz '2026-01-01 00:00:00+00'
  FROM (VALUES
  ('first_lesson', 'First steps', 'Complete your first lesson.', 10, 'lessons_completed', 1),
  ('ten_lessons', 'Keen learner', 'Complete 10 lessons.', 50, 'lessons_completed', 10),
  ('first_course', 'Graduate', 'Complete your first course.', 50, 'courses_completed', 1),
  ('streak_7', 'One week streak', 'Learn 7 days in a row.', 50, 'streak_days', 7),
  ('points_1000', 'Point collector', 'Reach 1000 points.', 0, 'points_total', 1000),
  ('quiz_perfect', 'Perfectionist', 'Score 100 % on a quiz.', 20, 'quiz_perfect', 1))
  AS v(code, title, description, points, kind, threshold);

-- The seeded achievements come back with CREATE EXTENSION; pg_dump keeps the others.
SELECT pg_catalog.pg_extension_config_dump('lms.achievements', 'WHERE NOT is_builtin');

-- Level n starts at 100*n*(n-1)/2 points: 0 -> 1, 100 -> 2, 300 -> 3, 600 -> 4.
CREATE FUNCTION lms.level_for(points bigint) RETURNS int
  AS 'MODULE_PATHNAME', 'lms_level_for' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The SQL entry point of the ledger: the new row's id, or NULL when source_key was awarded
-- already. Totals, level, streak day, achievements follow in the same transaction.
CREATE FUNCTION lms.award_points(user_id bigint, points int, reason text, source_key text,
                                 course_id bigint DEFAULT NULL)
RETURNS bigint
  AS 'MODULE_PATHNAME', 'lms_award_points' LANGUAGE C VOLATILE;

-- Internal form used by the admin route: also stores a note.
CREATE FUNCTION lms.award_points_noted(user_id bigint, points int, reason text, source_key text,
                                       course_id bigint, note text)
RETURNS bigint
  AS 'MODULE_PATHNAME', 'lms_award_points' LANGUAGE C VOLATILE;

-- Called by the quiz attempt path: quiz pass 20, perfect score 10 more, the streak day, and
-- the achievements; returns the points this call awarded.
CREATE FUNCTION lms.award_quiz(user_id bigint, quiz_id bigint, course_id bigint, score numeric,
                               passed boolean)
RETURNS int
  AS 'MODULE_PATHNAME', 'lms_award_quiz' LANGUAGE C VOLATILE STRICT;

-- The counter an achievement criterion compares with its threshold.
CREATE FUNCTION lms.criteria_value(s lms.learner_scores, kind text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE kind
         WHEN 'lessons_completed' THEN s.lessons_completed
         WHEN 'courses_completed' THEN s.courses_completed
         WHEN 'streak_days' THEN s.longest_streak
         WHEN 'points_total' THEN s.total_points
         WHEN 'quiz_perfect' THEN s.quiz_perfects
       END;

-- Grant every achievement every learner qualifies for, set-based, with its points, until
-- nothing changes (an achievement's points may make a points_total achievement true).
-- Returns the number of grants. Used when an achievement is created and by recompute.
CREATE FUNCTION lms.grant_qualifying_achievements(only_achievement bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  n bigint;
  total bigint := 0;
  now_ts timestamptz := lms.clock();
BEGIN
  LOOP
    WITH granted AS (
      INSERT INTO lms.user_achievements (user_id, achievement_id, awarded_at)
      SELECT s.user_id, a.id, now_ts
        FROM lms.achievements a
        JOIN lms.learner_scores s ON lms.criteria_value(s, a.kind) >= a.threshold
       WHERE (only_achievement IS NULL OR a.id = only_achievement OR a.kind = 'points_total')
         AND NOT EXISTS (SELECT FROM lms.user_achievements ua
                          WHERE ua.user_id = s.user_id AND ua.achievement_id = a.id)
      ON CONFLICT DO NOTHING
      RETURNING user_id, achievement_id),
    paid AS (
      INSERT INTO lms.points_ledger (user_id, points, reason, source_key, source_id, created_at)
      SELECT g.user_id, a.points, 'achievement', 'achievement:' || g.user_id || ':' || a.code, a.id, now_ts
        FROM granted g JOIN lms.achievements a ON a.id = g.achievement_id
       WHERE a.points <> 0
      ON CONFLICT (source_key) DO NOTHING
      RETURNING user_id, points),
    sums AS (SELECT p.user_id, sum(p.points) AS pts FROM paid p GROUP BY p.user_id),
    upd AS (
      UPDATE lms.learner_scores s
         SET total_points = s.total_points + x.pts,
             level = lms.level_for(s.total_points + x.pts),
             reached_at = greatest(s.reached_at, now_ts)
        FROM sums x WHERE s.user_id = x.user_id
      RETURNING 1)
    SELECT count(*) + 0 * (SELECT count(*) FROM upd) INTO n FROM granted;
    total := total + n;
    EXIT WHEN n = 0;
  END LOOP;
  RETURN total;
END
$$;

-- Rebuild totals, levels, per-course totals, counters, streaks and achievements from the
-- ledger, progress and active days; fix what disagreed; report how many learners disagreed
-- (0 is the healthy answer); refresh the boards.
CREATE FUNCTION lms.recompute_gamification(OUT users bigint, OUT differences bigint)
RETURNS record
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  -- writers wait while the scores are rebuilt (reads go on), so no award slips between the
  -- rebuild and its fix-up; writers lock only rows of these tables, after progress rows
  LOCK TABLE lms.points_ledger, lms.learner_scores, lms.course_scores, lms.streak_days,
             lms.user_achievements IN EXCLUSIVE MODE;

  CREATE TEMP TABLE lms_recompute ON COMMIT DROP AS
  WITH led AS (
         SELECT l.user_id, sum(l.points)::bigint AS total, max(l.created_at) AS reached,
                count(*) FILTER (WHERE l.reason = 'course_completed' AND l.points > 0) AS courses,
                count(*) FILTER (WHERE l.reason = 'quiz_perfect' AND l.points > 0) AS perfects
           FROM lms.points_ledger l GROUP BY l.user_id),
       les AS (
         SELECT p.user_id, count(*) AS lessons FROM lms.lesson_progress p
          WHERE p.is_completed GROUP BY p.user_id),
       isl AS (
         SELECT d.user_id, d.day,
                d.day - (row_number() OVER (PARTITION BY d.user_id ORDER BY d.day))::int AS grp
           FROM lms.streak_days d),
       runs AS (
         SELECT i.user_id, count(*)::int AS len, max(i.day) AS last_day
           FROM isl i GROUP BY i.user_id, i.grp),
       stk AS (
         SELECT r.user_id, max(r.len) AS longest, max(r.last_day) AS last_day,
                (array_agg(r.len ORDER BY r.last_day DESC))[1] AS cur
           FROM runs r GROUP BY r.user_id),
       -- every learner with a ledger row, a score row or an active day: from the aggregates
       -- (a learner each), not the raw rows (36 M ledger and day rows at 1 M learners)
       who AS (
         SELECT led.user_id FROM led
         UNION SELECT s.user_id FROM lms.learner_scores s
         UNION SELECT stk.user_id FROM stk)
  SELECT w.user_id,
         coalesce(led.total, 0) AS total_points,
         lms.level_for(coalesce(led.total, 0)) AS level,
         led.reached AS reached_at,
         coalesce(les.lessons, 0)::int AS lessons_completed,
         coalesce(led.courses, 0)::int AS courses_completed,
         coalesce(led.perfects, 0)::int AS quiz_perfects,
         coalesce(stk.cur, 0) AS current_streak,
         coalesce(stk.longest, 0) AS longest_streak,
         stk.last_day AS last_activity_date
    FROM who w
    JOIN lms.users u ON u.id = w.user_id
    LEFT JOIN led ON led.user_id = w.user_id
    LEFT JOIN les ON les.user_id = w.user_id
    LEFT JOIN stk ON stk.user_id = w.user_id;
  SELECT count(*) INTO users FROM lms_recompute;

  CREATE TEMP TABLE lms_recompute_bad (user_id bigint) ON COMMIT DROP;

  -- learner totals and counters
  WITH bad AS (
    SELECT r.* FROM lms_recompute r LEFT JOIN lms.learner_scores s ON s.user_id = r.user_id
     WHERE s.user_id IS NULL
        OR (s.total_points, s.level, s.reached_at, s.lessons_completed, s.courses_completed,
            s.quiz_perfects, s.current_streak, s.longest_streak, s.last_activity_date)
           IS DISTINCT FROM
           (r.total_points, r.level, r.reached_at, r.lessons_completed, r.courses_completed,
            r.quiz_perfects, r.current_streak, r.longest_streak, r.last_activity_date)),
  fix AS (
    INSERT INTO lms.learner_scores AS s
      SELECT b.user_id, b.total_points, b.level, b.reached_at, b.lessons_completed,
             b.courses_completed, b.quiz_perfects, b.current_streak, b.longest_streak,
             b.last_activity_date FROM bad b
    ON CONFLICT (user_id) DO UPDATE SET
      total_points = EXCLUDED.total_points, level = EXCLUDED.level, reached_at = EXCLUDED.reached_at,
      lessons_completed = EXCLUDED.lessons_completed, courses_completed = EXCLUDED.courses_completed,
      quiz_perfects = EXCLUDED.quiz_perfects, current_streak = EXCLUDED.current_streak,
      longest_streak = EXCLUDED.longest_streak, last_activity_date = EXCLUDED.last_activity_date
    RETURNING s.user_id)
  INSERT INTO lms_recompute_bad SELECT f.user_id FROM fix f;

  -- per-course totals
  WITH want AS (
    SELECT l.course_id, l.user_id, sum(l.points)::bigint AS points, max(l.created_at) AS reached_at
      FROM lms.points_ledger l WHERE l.course_id IS NOT NULL GROUP BY l.course_id, l.user_id),
  bad AS (
    SELECT coalesce(w.user_id, c.user_id) AS user_id, w.course_id AS new_course,
           c.course_id AS old_course, w.points, w.reached_at
      FROM want w FULL JOIN lms.course_scores c ON c.course_id = w.course_id AND c.user_id = w.user_id
     WHERE w.course_id IS NULL OR c.course_id IS NULL
        OR (w.points, w.reached_at) IS DISTINCT FROM (c.points, c.reached_at)),
  del AS (
    DELETE FROM lms.course_scores c USING bad b
     WHERE b.new_course IS NULL AND c.course_id = b.old_course AND c.user_id = b.user_id
    RETURNING c.user_id),
  ups AS (
    INSERT INTO lms.course_scores (course_id, user_id, points, reached_at)
    SELECT b.new_course, b.user_id, b.points, b.reached_at FROM bad b WHERE b.new_course IS NOT NULL
    ON CONFLICT (course_id, user_id) DO UPDATE SET points = EXCLUDED.points, reached_at = EXCLUDED.reached_at
    RETURNING user_id)
  INSERT INTO lms_recompute_bad SELECT user_id FROM del UNION ALL SELECT user_id FROM ups;

  -- achievements a learner qualifies for but does not hold
  INSERT INTO lms_recompute_bad
  SELECT s.user_id FROM lms.achievements a
    JOIN lms.learner_scores s ON lms.criteria_value(s, a.kind) >= a.threshold
   WHERE NOT EXISTS (SELECT FROM lms.user_achievements ua
                      WHERE ua.user_id = s.user_id AND ua.achievement_id = a.id);
  PERFORM lms.grant_qualifying_achievements();

  SELECT count(DISTINCT b.user_id) INTO differences FROM lms_recompute_bad b;
  DROP TABLE lms_recompute_bad;
  DROP TABLE lms_recompute;

  PERFORM lms.refresh_leaderboards();
END
$$;

-- A JSON number that is a whole number in bigint range, else NULL.
CREATE FUNCTION lms.json_bigint(v jsonb) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN pg_catalog.jsonb_typeof(v) = 'number'
             AND (v #>> '{}')::numeric = pg_catalog.trunc((v #>> '{}')::numeric)
             AND (v #>> '{}')::numeric BETWEEN -9223372036854775808 AND 9223372036854775807
            THEN (v #>> '{}')::numeric::bigint END;

-- The contract's achievement object.
CREATE FUNCTION lms.achievement_json(a lms.achievements) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN pg_catalog.jsonb_build_object(
  'code', a.code, 'title', a.title, 'description', a.description, 'points', a.points,
  'criteria', pg_catalog.jsonb_build_object('kind', a.kind, 'threshold', a.threshold));

-- GET /gamification/me: one read of the learner's scores, achievements and ranks (C,
-- api_gamification_me.c). VOLATILE: lms.user_rank may refresh a stale board.
CREATE FUNCTION lms.api_gamification_me(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
  AS 'MODULE_PATHNAME', 'lms_api_gamification_me'
  LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- GET /gamification/me/history: the learner's ledger, newest first.
CREATE FUNCTION lms.api_gamification_history(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  me lms.caller := lms.caller(token);
  pg lms.paging;
  items jsonb;
  n bigint;
BEGIN
  IF me.user_id IS NULL THEN
    RETURN lms.unauthenticated();
  END IF;
  pg := lms.paging(coalesce(query, '{}'));
  IF (pg.problem).status IS NOT NULL THEN
    RETURN pg.problem;
  END IF;
  SELECT count(*) INTO n FROM lms.points_ledger l WHERE l.user_id = me.user_id;
  SELECT coalesce(jsonb_agg(jsonb_build_object('points', l.points, 'reason', l.reason,
                                               'course_id', l.course_id, 'source_id', l.source_id,
                                               'created_at', lms.iso(l.created_at))
                            ORDER BY l.id DESC), '[]')
    INTO items
    FROM (SELECT * FROM lms.points_ledger l WHERE l.user_id = me.user_id
           ORDER BY l.id DESC LIMIT pg.lim OFFSET (pg.page - 1)::bigint * pg.lim) l;
  RETURN lms.ok(200, jsonb_build_object('items', items, 'page', pg.page, 'limit', pg.lim, 'total', n));
END
$$;

-- GET /achievements: the catalogue, to anyone.
CREATE FUNCTION lms.api_achievements_list(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
RETURN lms.ok(200, pg_catalog.jsonb_build_object('items',
  (SELECT coalesce(pg_catalog.jsonb_agg(lms.achievement_json(a) ORDER BY a.id), '[]')
     FROM lms.achievements a)));

-- POST /admin/achievements: a new achievement, granted at once to everyone who qualifies.
CREATE FUNCTION lms.api_admin_achievement_create(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  me lms.caller := lms.caller(token);
  b jsonb := lms.body_object(body);
  errs jsonb := '[]';
  crit jsonb;
  pts bigint;
  thr bigint;
  a lms.achievements;
  granted bigint;
BEGIN
  IF me.user_id IS NULL THEN
    RETURN lms.unauthenticated();
  END IF;
  IF me.role <> 'admin' THEN
    RETURN lms.forbidden();
  END IF;
  IF b IS NULL THEN
    RETURN lms.invalid_body();
  END IF;
  IF jsonb_typeof(b->'code') IS DISTINCT FROM 'string' OR b->>'code' !~ '^[a-z0-9_]{1,50}$' THEN
    errs := errs || jsonb_build_object('field', 'code', 'message', 'must be 1 to 50 characters a-z, 0-9 or _');
  END IF;
  IF jsonb_typeof(b->'title') IS DISTINCT FROM 'string' OR length(btrim(b->>'title')) NOT BETWEEN 1 AND 200 THEN
    errs := errs || jsonb_build_object('field', 'title', 'message', 'must be a string of 1 to 200 characters');
  END IF;
  IF b ? 'description' AND (jsonb_typeof(b->'description') IS DISTINCT FROM 'string'
                            OR length(b->>'description') > 2000) THEN
    errs := errs || jsonb_build_object('field', 'description', 'message', 'must be a string of at most 2000 characters');
  END IF;
  pts := CASE WHEN b ? 'points' THEN lms.json_bigint(b->'points') ELSE 0 END;
  IF pts IS NULL OR pts NOT BETWEEN 0 AND 100000 THEN
    errs := errs || jsonb_build_object('field', 'points', 'message', 'must be an integer between 0 and 100000');
  END IF;
  crit := b->'criteria';
  IF jsonb_typeof(crit) IS DISTINCT FROM 'object' THEN
    errs := errs || jsonb_build_object('field', 'criteria', 'message', 'must be an object {kind, threshold}');
  ELSE
    IF jsonb_typeof(crit->'kind') IS DISTINCT FROM 'string' OR crit->>'kind' NOT IN
       ('lessons_completed', 'courses_completed', 'streak_days', 'points_total', 'quiz_perfect') THEN
      errs := errs || jsonb_build_object('field', 'criteria.kind', 'message',
        'must be lessons_completed, courses_completed, streak_days, points_total or quiz_perfect');
    END IF;
    thr := lms.json_bigint(crit->'threshold');
    IF thr IS NULL OR thr < 1 THEN
      errs := errs || jsonb_build_object('field', 'criteria.threshold', 'message', 'must be an integer >= 1');
    END IF;
  END IF;
  IF jsonb_array_length(errs) > 0 THEN
    RETURN lms.problem(400, 'validation_failed', 'The request has invalid fields.', errs);
  END IF;

  INSERT INTO lms.achievements (code, title, description, points, kind, threshold)
  VALUES (b->>'code', btrim(b->>'title'), coalesce(b->>'description', ''), pts, crit->>'kind', thr)
  ON CONFLICT (code) DO NOTHING
  RETURNING * INTO a;
  IF a.id IS NULL THEN
    RETURN lms.problem(409, 'code_taken', 'An achievement with this code already exists.');
  END IF;
  granted := lms.grant_qualifying_achievements(a.id);
  PERFORM lms.audit(me.user_id, 'achievement.create', 'achievement', a.id,
                    lms.achievement_json(a) || jsonb_build_object('granted', granted));
  RETURN lms.ok(201, lms.achievement_json(a) || jsonb_build_object('granted', granted));
END
$$;

-- POST /admin/points: a correction (or gift) as a new ledger row; totals, level, boards follow.
CREATE FUNCTION lms.api_admin_points(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  me lms.caller := lms.caller(token);
  b jsonb := lms.body_object(body);
  errs jsonb := '[]';
  uid bigint;
  pts bigint;
  cid bigint;
  lid bigint;
  l lms.points_ledger;
BEGIN
  IF me.user_id IS NULL THEN
    RETURN lms.unauthenticated();
  END IF;
  IF me.role <> 'admin' THEN
    RETURN lms.forbidden();
  END IF;
  IF b IS NULL THEN
    RETURN lms.invalid_body();
  END IF;
  uid := lms.json_bigint(b->'user_id');
  IF uid IS NULL OR uid < 1 THEN
    errs := errs || jsonb_build_object('field', 'user_id', 'message', 'must be a positive integer');
  END IF;
  pts := lms.json_bigint(b->'points');
  IF pts IS NULL OR pts = 0 OR pts NOT BETWEEN -1000000 AND 1000000 THEN
    errs := errs || jsonb_build_object('field', 'points', 'message', 'must be a non-zero integer between -1000000 and 1000000');
  END IF;
  IF jsonb_typeof(b->'reason') IS DISTINCT FROM 'string' OR length(btrim(b->>'reason')) NOT BETWEEN 1 AND 500 THEN
    errs := errs || jsonb_build_object('field', 'reason', 'message', 'must be a string of 1 to 500 characters');
  END IF;
  IF b ? 'course_id' AND jsonb_typeof(b->'course_id') <> 'null' THEN
    cid := lms.json_bigint(b->'course_id');
    IF cid IS NULL OR cid < 1 THEN
      errs := errs || jsonb_build_object('field', 'course_id', 'message', 'must be a positive integer');
    END IF;
  END IF;
  IF jsonb_array_length(errs) > 0 THEN
    RETURN lms.problem(400, 'validation_failed', 'The request has invalid fields.', errs);
  END IF;
  IF NOT EXISTS (SELECT FROM lms.users u WHERE u.id = uid) THEN
    RETURN lms.not_found('User');
  END IF;
  IF cid IS NOT NULL AND NOT EXISTS (SELECT FROM lms.courses c WHERE c.id = cid) THEN
    RETURN lms.not_found('Course');
  END IF;

  lid := lms.award_points_noted(uid, pts::int, 'admin_correction', 'admin:' || gen_random_uuid(),
                                cid, btrim(b->>'reason'));
  SELECT * INTO l FROM lms.points_ledger x WHERE x.id = lid;
  PERFORM lms.audit(me.user_id, 'points.award', 'points_ledger', lid,
                    jsonb_build_object('user_id', uid, 'points', pts, 'course_id', cid, 'reason', btrim(b->>'reason')));
  RETURN lms.ok(201, jsonb_build_object(
    'id', l.id, 'user_id', l.user_id, 'points', l.points, 'reason', l.reason, 'note', l.note,
    'course_id', l.course_id, 'source_id', l.source_id, 'created_at', lms.iso(l.created_at)));
END
$$;

-- POST /admin/gamification/recompute
CREATE FUNCTION lms.api_admin_recompute(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  me lms.caller := lms.caller(token);
  t0 timestamptz := clock_timestamp();
  r record;
BEGIN
  IF me.user_id IS NULL THEN
    RETURN lms.unauthenticated();
  END IF;
  IF me.role <> 'admin' THEN
    RETURN lms.forbidden();
  END IF;
  SELECT * INTO r FROM lms.recompute_gamification();
  PERFORM lms.audit(me.user_id, 'gamification.recompute', 'gamification', NULL,
                    jsonb_build_object('users', r.users, 'differences', r.differences));
  RETURN lms.ok(200, jsonb_build_object(
    'users', r.users, 'differences', r.differences,
    'took_ms', round(extract(epoch FROM clock_timestamp() - t0) * 1000)::bigint));
END
$$;
-- Materialized leaderboards (leaderboard.c explains the design): one row per visible learner
-- and board with their score, in board order by an index, and a histogram of the board's
-- scores (learners per point value); a refresh applies only what changed since the last one;
-- reads are index lookups.

CREATE TABLE lms.board_entries (
  board text NOT NULL,              -- 'global' or 'course:<id>'
  win text NOT NULL CHECK (win IN ('all', 'week', 'month')),
  user_id bigint NOT NULL,
  points bigint NOT NULL,
  reached_at timestamptz NOT NULL,
  display_name text NOT NULL,       -- copies for the page (no joins on a read), kept by the refresh:
  level int NOT NULL,               -- the learner's overall level (lms.learner_scores)
  PRIMARY KEY (board, win, user_id)       -- "my score"
);
-- board order: a page is a range scan of it, a tie group a range of one points value
CREATE INDEX board_entries_in_order ON lms.board_entries (board, win, points DESC, reached_at, user_id);

-- How many learners of a board have each points value: "my rank" is 1 + the learners of the
-- buckets above mine, and a deep page finds its first score here (few distinct values).
CREATE TABLE lms.board_counts (
  board text NOT NULL,
  win text NOT NULL CHECK (win IN ('all', 'week', 'month')),
  points bigint NOT NULL,
  learners bigint NOT NULL,        -- (no CHECK: a refresh upserts signed deltas)
  above bigint NOT NULL DEFAULT 0, -- learners of the buckets with more points (recounted by a refresh)
  PRIMARY KEY (board, win, points)
);
-- a page's first score: the last non-empty bucket with at most `off` learners above it
CREATE INDEX board_counts_above ON lms.board_counts (board, win, above) WHERE learners > 0;

-- The few learners left out of every board (hidden or suspended): a refresh anti-joins this
-- small index instead of joining every user.
CREATE INDEX users_unlisted ON lms.users (id) WHERE NOT leaderboard_visible OR status <> 'active';

-- One row per board: the current period, when it was built and up to where it applied the
-- ledger and the visibility changes.
CREATE TABLE lms.boards (
  board text NOT NULL,
  win text NOT NULL CHECK (win IN ('all', 'week', 'month')),
  period_start date,                -- NULL for all-time
  generated_at timestamptz NOT NULL,
  total bigint NOT NULL,
  ledger_mark bigint NOT NULL,      -- highest ledger id visible to the last refresh
  ledger_low bigint NOT NULL,       -- every ledger row with id <= this is applied
  users_mark bigint NOT NULL,       -- the same for lms.board_user_changes
  users_low bigint NOT NULL,
  snap pg_snapshot NOT NULL,        -- the last refresh's snapshot: writers still running then
  PRIMARY KEY (board, win)
);

-- One row per change of a learner's visibility, status, display name or level (or deletion):
-- the next refresh of every board re-reads that learner. Rare (a settings change, a
-- suspension, a level-up).
CREATE TABLE lms.board_user_changes (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL
);

CREATE FUNCTION lms.board_user_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  INSERT INTO lms.board_user_changes (user_id) VALUES (OLD.id);
  RETURN NULL;
END
$$;
CREATE TRIGGER users_board_visibility
  AFTER UPDATE OF leaderboard_visible, status, display_name ON lms.users
  FOR EACH ROW
  WHEN (OLD.leaderboard_visible IS DISTINCT FROM NEW.leaderboard_visible
        OR OLD.status IS DISTINCT FROM NEW.status
        OR OLD.display_name IS DISTINCT FROM NEW.display_name)
  EXECUTE FUNCTION lms.board_user_changed();
-- a level-up shows on every board the learner is on (a course board re-reads only its course's
-- ledger rows otherwise)
CREATE FUNCTION lms.board_level_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  INSERT INTO lms.board_user_changes (user_id) VALUES (NEW.user_id);
  RETURN NULL;
END
$$;
CREATE TRIGGER learner_scores_board_level
  AFTER UPDATE OF level ON lms.learner_scores
  FOR EACH ROW
  WHEN (OLD.level IS DISTINCT FROM NEW.level)
  EXECUTE FUNCTION lms.board_level_changed();
CREATE TRIGGER users_board_deleted
  AFTER DELETE ON lms.users
  FOR EACH ROW
  EXECUTE FUNCTION lms.board_user_changed();

-- Rebuild every board now (set-based, from the sources); returns the boards refreshed ('global:all', 'course:3:week', ...).
CREATE FUNCTION lms.refresh_leaderboards() RETURNS SETOF text
  AS 'MODULE_PATHNAME', 'lms_refresh_leaderboards' LANGUAGE C VOLATILE;
-- Bring the boards whose source changed up to date, applying only the change (what the worker runs).
CREATE FUNCTION lms.refresh_leaderboards(only_changed boolean) RETURNS SETOF text
  AS 'MODULE_PATHNAME', 'lms_refresh_leaderboards' LANGUAGE C VOLATILE STRICT;

-- One page of a board: rank, user, display name, points (in the board's window), level.
-- VOLATILE: a read may refresh a stale board on demand (never on a standby).
CREATE FUNCTION lms.leaderboard(board text, "window" text DEFAULT 'all', lim int DEFAULT 50, off int DEFAULT 0)
RETURNS TABLE (rank int, user_id bigint, display_name text, points bigint, level int)
  AS 'MODULE_PATHNAME', 'lms_leaderboard' LANGUAGE C VOLATILE;

-- A learner's rank and points on a board; no row when they are not on it.
CREATE FUNCTION lms.user_rank(board text, "window" text, user_id bigint)
RETURNS TABLE (rank int, points bigint)
  AS 'MODULE_PATHNAME', 'lms_user_rank' LANGUAGE C VOLATILE;

-- Internal building blocks of the board routes.
CREATE FUNCTION lms.board_info(board text, "window" text)
RETURNS TABLE (board text, period_start date, generated_at timestamptz, total bigint)
  AS 'MODULE_PATHNAME', 'lms_board_info' LANGUAGE C VOLATILE STRICT;
CREATE FUNCTION lms.board_page(board text, "window" text, lim int, off int)
RETURNS TABLE (rank int, user_id bigint, display_name text, points bigint, level int)
  AS 'MODULE_PATHNAME', 'lms_board_page' LANGUAGE C VOLATILE STRICT;
CREATE FUNCTION lms.board_me(board text, "window" text, user_id bigint)
RETURNS TABLE (pos int, rank int, points bigint)
  AS 'MODULE_PATHNAME', 'lms_board_me' LANGUAGE C VOLATILE STRICT;

-- GET /leaderboards/global and /leaderboards/courses/{id}: the board answer.
CREATE FUNCTION lms.board_answer(token text, board text, query jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  q jsonb := coalesce(query, '{}');
  win text := coalesce(q->>'window', 'all');
  lim int := 50;
  off int := 0;
  around text := q->>'around';
  errs jsonb := '[]';
  me lms.caller;
  info record;
  mine record;
  items jsonb;
  me_doc jsonb := NULL;
BEGIN
  IF win NOT IN ('all', 'week', 'month') THEN
    errs := errs || jsonb_build_object('field', 'window', 'message', 'must be all, week or month');
  END IF;
  IF q ? 'limit' THEN
    IF q->>'limit' ~ '^[0-9]{1,9}$' AND (q->>'limit')::int BETWEEN 1 AND 100 THEN
      lim := (q->>'limit')::int;
    ELSE
      errs := errs || jsonb_build_object('field', 'limit', 'message', 'must be an integer between 1 and 100');
    END IF;
  END IF;
  IF q ? 'offset' THEN
    IF q->>'offset' ~ '^[0-9]{1,9}$' THEN
      off := (q->>'offset')::int;
    ELSE
      errs := errs || jsonb_build_object('field', 'offset', 'message', 'must be an integer >= 0');
    END IF;
  END IF;
  IF around IS NOT NULL AND around <> 'me' THEN
    errs := errs || jsonb_build_object('field', 'around', 'message', 'must be me');
  END IF;
  IF jsonb_array_length(errs) > 0 THEN
    RETURN lms.problem(400, 'validation_failed', 'The request has invalid fields.', errs);
  END IF;

  IF token IS NOT NULL OR around = 'me' THEN
    me := lms.caller(token);
    IF me.user_id IS NULL THEN
      RETURN lms.unauthenticated();
    END IF;
  END IF;

  SELECT * INTO info FROM lms.board_info(board, win);
  IF me.user_id IS NOT NULL THEN
    SELECT * INTO mine FROM lms.board_me(board, win, me.user_id);
    IF FOUND THEN
      me_doc := jsonb_build_object('rank', mine.rank, 'points', mine.points);
      IF around = 'me' THEN
        -- centred on the caller, shifted to stay a full page near the bottom
        off := greatest(0, least(mine.pos - 1 - (lim - 1) / 2, info.total - lim));
      END IF;
    END IF;
  END IF;

  SELECT coalesce(jsonb_agg(jsonb_build_object('rank', p.rank, 'user_id', p.user_id,
                                               'display_name', p.display_name, 'points', p.points,
                                               'level', p.level) ORDER BY ord), '[]')
    INTO items
    FROM lms.board_page(board, win, lim, off) WITH ORDINALITY AS p(rank, user_id, display_name, points, level, ord);

  RETURN lms.ok(200, jsonb_build_object(
    'board', board, 'window', win, 'period_start', info.period_start,
    'generated_at', lms.iso(info.generated_at), 'total', info.total,
    'limit', lim, 'offset', off,
    'items', items, 'me', me_doc));
END
$$;

CREATE FUNCTION lms.api_leaderboard_global(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
RETURN lms.board_answer(token, 'global', query);

CREATE FUNCTION lms.api_leaderboard_course(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  cid bigint := lms.path_id(path);
BEGIN
  IF cid IS NULL THEN
    RETURN lms.problem(400, 'invalid_id', 'The id must be a positive integer.');
  END IF;
  IF NOT EXISTS (SELECT FROM lms.courses c WHERE c.id = cid AND c.is_published) THEN
    RETURN lms.not_found('Course');
  END IF;
  RETURN lms.board_answer(token, 'course:' || cid, query);
END
$$;

CREATE FUNCTION lms.api_admin_leaderboards_refresh(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  me lms.caller := lms.caller(token);
  t0 timestamptz := clock_timestamp();
  names jsonb;
BEGIN
  IF me.user_id IS NULL THEN
    RETURN lms.unauthenticated();
  END IF;
  IF me.role <> 'admin' THEN
    RETURN lms.forbidden();
  END IF;
  SELECT coalesce(jsonb_agg(r ORDER BY ord), '[]') INTO names
    FROM lms.refresh_leaderboards() WITH ORDINALITY AS x(r, ord);
  PERFORM lms.audit(me.user_id, 'leaderboards.refresh', 'leaderboard', NULL,
                    jsonb_build_object('boards', jsonb_array_length(names)));
  RETURN lms.ok(200, jsonb_build_object(
    'refreshed', names,
    'took_ms', round(extract(epoch FROM clock_timestamp() - t0) * 1000)::bigint));
END
$$;
-- Analyst view: one row per learner with enrollments, lessons, points, level and streak.
CREATE VIEW lms.learner_activity AS
SELECT u.id AS user_id,
       u.display_name,
       coalesce(e.active, 0) AS enrollments_active,
       coalesce(e.completed, 0) AS enrollments_completed,
       coalesce(s.lessons_completed, 0) AS lessons_completed,
       coalesce(s.total_points, 0) AS total_points,
       coalesce(s.level, 1) AS level,
       coalesce(s.current_streak, 0) AS current_streak,
       e.last_activity_at
  FROM lms.users u
  LEFT JOIN lms.learner_scores s ON s.user_id = u.id
  LEFT JOIN (SELECT en.user_id,
                    count(*) FILTER (WHERE en.status = 'active') AS active,
                    count(*) FILTER (WHERE en.status = 'completed') AS completed,
                    max(en.last_activity_at) AS last_activity_at
               FROM lms.enrollments en GROUP BY en.user_id) e ON e.user_id = u.id
 WHERE u.role = 'student';

COMMENT ON VIEW lms.learner_activity IS 'One row per student: enrollments, completed lessons, points, level and streak';
COMMENT ON COLUMN lms.learner_activity.user_id IS 'The learner (lms.users.id)';
COMMENT ON COLUMN lms.learner_activity.display_name IS 'The learner''s display name';
COMMENT ON COLUMN lms.learner_activity.enrollments_active IS 'Enrollments with status active';
COMMENT ON COLUMN lms.learner_activity.enrollments_completed IS 'Enrollments with status completed';
COMMENT ON COLUMN lms.learner_activity.lessons_completed IS 'Lessons the learner has completed';
COMMENT ON COLUMN lms.learner_activity.total_points IS 'Points in the ledger, corrections included';
COMMENT ON COLUMN lms.learner_activity.level IS 'Level: level n starts at 100*n*(n-1)/2 points';
COMMENT ON COLUMN lms.learner_activity.current_streak IS 'Consecutive active days (learner''s time zone) up to the last active day';
COMMENT ON COLUMN lms.learner_activity.last_activity_at IS 'Latest progress write over all enrollments';
-- Read-only views for analysts (role lms_analyst reads these and nothing else; see 95_privileges.sql).

-- lms_analyst executes no function of ours (only built-ins), so the view spells out inline what
-- lms.clock() (the instant lms.clock_override names, else the transaction's start) and
-- lms.analytics_progress() compute.
CREATE VIEW lms.course_stats AS
SELECT c.id AS course_id,
       c.slug,
       c.title,
       c.instructor_id,
       c.is_published,
       c.lesson_count,
       c.total_duration_seconds,
       coalesce(e.active, 0) AS active_enrollments,
       coalesce(e.completed, 0) AS completed_enrollments,
       coalesce(e.dropped, 0) AS dropped_enrollments,
       coalesce(e.expired, 0) AS expired_enrollments,
       CASE WHEN coalesce(e.active + e.completed, 0) > 0
            THEN pg_catalog.round(e.completed * 100.0 / (e.active + e.completed), 2) ELSE 0 END AS completion_rate,
       coalesce(pg_catalog.round(e.progress_sum / nullif(e.active + e.completed, 0), 2), 0) AS average_progress
  FROM lms.courses c
  CROSS JOIN LATERAL (
    SELECT coalesce(nullif(pg_catalog.current_setting('lms.clock_override', true), '')::timestamptz, pg_catalog.now()) AS ts
  ) clock
  LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE x.status = 'active'
                              AND (x.expires_at IS NULL OR x.expires_at > clock.ts))::int AS active,
           count(*) FILTER (WHERE x.status = 'completed')::int AS completed,
           count(*) FILTER (WHERE x.status = 'dropped')::int AS dropped,
           count(*) FILTER (WHERE x.status = 'expired'
                              OR (x.status = 'active' AND x.expires_at <= clock.ts))::int AS expired,
           sum(CASE WHEN c.lesson_count > 0
                    THEN pg_catalog.round(least(x.completed_lessons, c.lesson_count) * 100.0 / c.lesson_count, 2)
                    ELSE 0 END)
             FILTER (WHERE x.status = 'completed'
                        OR (x.status = 'active' AND (x.expires_at IS NULL OR x.expires_at > clock.ts)))
             AS progress_sum
      FROM lms.enrollments x
     WHERE x.course_id = c.id
  ) e ON true;

COMMENT ON VIEW lms.course_stats IS
  'One row per course (drafts included): catalog counters and enrollment figures, computed at read time. '
  'Definitions match GET /courses/{id}/analytics.';
COMMENT ON COLUMN lms.course_stats.course_id IS 'lms.courses.id';
COMMENT ON COLUMN lms.course_stats.slug IS 'URL name of the course';
COMMENT ON COLUMN lms.course_stats.title IS 'Course title';
COMMENT ON COLUMN lms.course_stats.instructor_id IS 'The owning instructor (lms.users.id)';
COMMENT ON COLUMN lms.course_stats.is_published IS 'True once the course is published';
COMMENT ON COLUMN lms.course_stats.lesson_count IS 'Published lessons';
COMMENT ON COLUMN lms.course_stats.total_duration_seconds IS 'Sum of the published lessons'' durations';
COMMENT ON COLUMN lms.course_stats.active_enrollments IS 'Enrollments with status active whose access has not expired';
COMMENT ON COLUMN lms.course_stats.completed_enrollments IS 'Enrollments with status completed';
COMMENT ON COLUMN lms.course_stats.dropped_enrollments IS 'Enrollments the learner dropped';
COMMENT ON COLUMN lms.course_stats.expired_enrollments IS 'Enrollments past their access_days window (stored as expired, or active past expires_at)';
COMMENT ON COLUMN lms.course_stats.completion_rate IS 'completed / (active + completed) * 100, 2 decimals; 0 without such enrollments';
COMMENT ON COLUMN lms.course_stats.average_progress IS 'Mean progress_percentage (completed lessons / lesson_count * 100, at most 100) over active and completed enrollments, 2 decimals; 0 without such enrollments';
-- Privileges, applied after every object exists.
-- PUBLIC runs nothing of ours; the gateway runs the API functions only; analysts read views only.
REVOKE ALL ON SCHEMA lms FROM PUBLIC;
GRANT USAGE ON SCHEMA lms TO lms_gateway, lms_analyst;
REVOKE ALL ON ALL TABLES IN SCHEMA lms FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA lms FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA lms FROM PUBLIC;

DO $$
DECLARE
  f regprocedure;
  v regclass;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
           WHERE p.pronamespace = 'lms'::regnamespace AND p.proname LIKE 'api\_%'
  LOOP
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO lms_gateway', f);
  END LOOP;
  FOR v IN SELECT c.oid::regclass FROM pg_catalog.pg_class c
           WHERE c.relnamespace = 'lms'::regnamespace AND c.relkind = 'v'
  LOOP
    EXECUTE format('GRANT SELECT ON %s TO lms_analyst', v);
  END LOOP;
END
$$;

-- Every table and sequence is user data: pg_dump must dump its rows (extension tables are
-- skipped by default). Tables that the install script seeds pass a filter in their own file.
DO $$
DECLARE
  r regclass;
BEGIN
  FOR r IN SELECT c.oid::regclass FROM pg_catalog.pg_class c
           WHERE c.relnamespace = 'lms'::regnamespace AND c.relkind IN ('r', 'S')
             AND NOT EXISTS (SELECT FROM pg_catalog.pg_extension e
                             WHERE e.extname = 'lms' AND c.oid = ANY (e.extconfig))
  LOOP
    PERFORM pg_catalog.pg_extension_config_dump(r, '');
  END LOOP;
END
$$;

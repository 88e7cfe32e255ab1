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

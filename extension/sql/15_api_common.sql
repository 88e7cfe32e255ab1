-- The contract layer shared by the API functions written in SQL/PL/pgSQL (the cold routes): the
-- same C as the C routes' (api.c), whose fixed texts and id syntax come from contract/contract.h,
-- which the gateway compiles too.

-- The caller behind a token: (user_id, role), both NULL when the token is missing, unknown,
-- expired, revoked or belongs to a suspended user. Implemented in C (identity.c).
CREATE TYPE lms.caller AS (user_id bigint, role text);

-- A problem document (RFC 7807) with the contract's stable code: {type, title, status, detail,
-- code[, errors]}, the same bytes as the problems of the C routes.
CREATE FUNCTION lms.problem(status int, code text, detail text, errors jsonb DEFAULT NULL)
RETURNS lms.api_response
  AS 'MODULE_PATHNAME', 'lms_problem_sql' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- 400 validation_failed with errors [{field, message}].
CREATE FUNCTION lms.validation_failed(errors jsonb) RETURNS lms.api_response
  AS 'MODULE_PATHNAME', 'lms_validation_failed' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- One field-level validation failure.
CREATE FUNCTION lms.invalid(field text, message text)
RETURNS lms.api_response
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN lms.validation_failed(pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object('field', field, 'message', message)));

CREATE FUNCTION lms.unauthenticated() RETURNS lms.api_response
  AS 'MODULE_PATHNAME', 'lms_unauthenticated' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- 400 invalid_id: the path's id is not an integer from 1 to 2^63-1.
CREATE FUNCTION lms.bad_id() RETURNS lms.api_response
  AS 'MODULE_PATHNAME', 'lms_bad_id' LANGUAGE C IMMUTABLE PARALLEL SAFE;

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

-- The path argument as an id, NULL when it is not one: decimal digits, 1 to 2^63-1 (the
-- gateway's syntax; it already answers 400 invalid_id, this guards direct SQL callers).
CREATE FUNCTION lms.path_id(path text) RETURNS bigint
  AS 'MODULE_PATHNAME', 'lms_path_id_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

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
  AS 'MODULE_PATHNAME', 'lms_invalid_body' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- The opening every route shares, as the C routes open (api.c): who is calling, the path's id,
-- the body if it is an object, and the first problem of the ladder the route asks for, in the
-- contract's order: 401 unauthenticated (signed_in), 400 invalid_id (id), 400 invalid_json
-- (object). The route answers its own 404 / 403 / 409 after it:
--   req lms.request := lms.request(token, path, body, signed_in => true, id => true);
--   IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
CREATE TYPE lms.request AS (who lms.caller, id bigint, body jsonb, problem lms.api_response);

CREATE FUNCTION lms.request(token text, path text, body jsonb, signed_in boolean DEFAULT false,
                            id boolean DEFAULT false, object boolean DEFAULT false)
RETURNS lms.request
  AS 'MODULE_PATHNAME', 'lms_request' LANGUAGE C STABLE PARALLEL SAFE;

-- One audit row, written in the same transaction as the mutation it records.
CREATE FUNCTION lms.audit(actor_id bigint, action text, entity text, entity_id bigint, data jsonb DEFAULT '{}')
RETURNS void
LANGUAGE sql VOLATILE
BEGIN ATOMIC
  INSERT INTO lms.audit_log (actor_id, action, entity, entity_id, data)
  VALUES (actor_id, action, entity, entity_id, coalesce(data, '{}'));
END;

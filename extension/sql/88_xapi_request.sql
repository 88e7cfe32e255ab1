-- xAPI requests: what every /xapi call shares. The gateway passes the method, the decoded
-- query, the headers the LRS reads and the raw body, and sends back status, headers and body
-- (lms.xapi_response) untouched (docs/calling-convention.md, "xAPI routes").

-- The X-Experience-API-Version header every answer carries: the newest version of the
-- request's major version.
CREATE FUNCTION lms.xapi_version_header(ver text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN pg_catalog.jsonb_build_object('X-Experience-API-Version', CASE WHEN ver LIKE '2.%' THEN '2.0.0' ELSE '1.0.3' END);

-- A JSON answer, from its text (a large answer written as text, never parsed again) or its jsonb.
CREATE FUNCTION lms.xapi_json_text(status int, doc text, ver text, extra jsonb DEFAULT '{}') RETURNS lms.xapi_response
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ROW(status,
           pg_catalog.jsonb_build_object('Content-Type', 'application/json') || lms.xapi_version_header(ver) || extra,
           pg_catalog.convert_to(doc, 'UTF8'))::lms.xapi_response;

CREATE FUNCTION lms.xapi_json(status int, doc jsonb, ver text, extra jsonb DEFAULT '{}') RETURNS lms.xapi_response
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN lms.xapi_json_text(status, doc::text, ver, extra);

-- An HTTP date (RFC 9110 IMF-fixdate) for Last-Modified.
CREATE FUNCTION lms.http_date(ts timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN pg_catalog.to_char(ts AT TIME ZONE 'UTC', 'Dy, DD Mon YYYY HH24:MI:SS "GMT"');

-- An answer without a body (204, 304, 412 ...).
CREATE FUNCTION lms.xapi_empty(status int, ver text, extra jsonb DEFAULT '{}') RETURNS lms.xapi_response
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ROW(status,
           lms.xapi_version_header(ver) || extra,
           NULL)::lms.xapi_response;

-- An error: the house's problem document (lms.problem) with an xapi code.
CREATE FUNCTION lms.xapi_problem(status int, code text, detail text, ver text DEFAULT '1.0.3') RETURNS lms.xapi_response
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ROW(status,
           pg_catalog.jsonb_build_object('Content-Type', 'application/problem+json') || lms.xapi_version_header(ver),
           pg_catalog.convert_to((lms.problem(status, code, detail)).body, 'UTF8'))::lms.xapi_response;

CREATE FUNCTION lms.xapi_bad_request(detail text, ver text DEFAULT '1.0.3') RETURNS lms.xapi_response
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN lms.xapi_problem(400, 'xapi_bad_request', detail, ver);

-- Percent-decoding of one application/x-www-form-urlencoded value; NULL when it is not valid
-- UTF-8 once decoded.
CREATE FUNCTION lms.xapi_form_decode(v text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
  RETURN pg_catalog.convert_from(coalesce((
           SELECT pg_catalog.string_agg(CASE WHEN m[1] LIKE '\%__' THEN pg_catalog.decode(substr(m[1], 2, 2), 'hex')
                                             ELSE pg_catalog.convert_to(m[1], 'UTF8') END, ''::bytea ORDER BY n)
             FROM pg_catalog.regexp_matches(pg_catalog.replace(v, '+', ' '), '(%[0-9A-Fa-f]{2}|[^%]+|%)', 'g') WITH ORDINALITY r(m, n)),
           ''::bytea), 'UTF8');
EXCEPTION WHEN character_not_in_repertoire OR untranslatable_character THEN
  RETURN NULL;
END
$$;

-- The activity provider behind an Authorization header (Basic key:secret), or NULL.
CREATE FUNCTION lms.xapi_client(auth_header text) RETURNS lms.xapi_clients
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  pair text;
  c lms.xapi_clients;
BEGIN
  IF auth_header !~* '^basic [A-Za-z0-9+/=]+$' THEN RETURN NULL; END IF;
  BEGIN
    pair := pg_catalog.convert_from(pg_catalog.decode(substr(auth_header, 7), 'base64'), 'UTF8');
  EXCEPTION WHEN others THEN
    RETURN NULL;
  END;
  SELECT * INTO c FROM lms.xapi_clients
   WHERE api_key = split_part(pair, ':', 1) AND revoked_at IS NULL
     AND secret_hash = pg_catalog.sha256(pg_catalog.convert_to(substr(pair, strpos(pair, ':') + 1), 'UTF8'));
  RETURN c;
END
$$;

-- The shared steps of every xAPI request: unwrap the Alternate Request Syntax (a POST with
-- ?method=, its headers, parameters and content in a form body; xAPI 1.0.3 only), require a
-- supported X-Experience-API-Version (2.0 has no Alternate Request Syntax), authenticate the activity provider (401 otherwise) and
-- refuse parameters the resource does not know (names are case-sensitive).
CREATE FUNCTION lms.xapi_begin(method text, query jsonb, headers jsonb, body bytea, params text[])
RETURNS lms.xapi_request
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r lms.xapi_request;
  form jsonb;
  c lms.xapi_clients;
  k text;
  p lms.xapi_response;
BEGIN
  r.method := method; r.query := coalesce(query, '{}'); r.headers := coalesce(headers, '{}'); r.body := body;
  r.ver := r.headers->>'x-experience-api-version';
  IF r.query ? 'method' THEN
    IF method <> 'POST' THEN
      r.problem := lms.xapi_bad_request('The Alternate Request Syntax must be sent as POST.'); RETURN r;
    END IF;
    IF (SELECT count(*) FROM pg_catalog.jsonb_object_keys(r.query)) > 1 THEN
      r.problem := lms.xapi_bad_request('The Alternate Request Syntax allows no query parameter but method.'); RETURN r;
    END IF;
    IF upper(r.query->>'method') NOT IN ('GET', 'PUT', 'POST', 'DELETE', 'HEAD') THEN
      r.problem := lms.xapi_bad_request('The method parameter must be GET, PUT, POST, DELETE or HEAD.'); RETURN r;
    END IF;
    IF coalesce(r.headers->>'content-type', '') !~* '^application/x-www-form-urlencoded' THEN
      r.problem := lms.xapi_bad_request('The Alternate Request Syntax needs an application/x-www-form-urlencoded body.'); RETURN r;
    END IF;
    SELECT coalesce(pg_catalog.jsonb_object_agg(lms.xapi_form_decode(split_part(kv, '=', 1)),
                                                lms.xapi_form_decode(substr(kv, strpos(kv, '=') + 1))), '{}')
      INTO form
      FROM pg_catalog.regexp_split_to_table(coalesce(pg_catalog.convert_from(body, 'UTF8'), ''), '&') kv
     WHERE kv <> '';
    r.method := upper(r.query->>'method');
    r.headers := r.headers - 'content-type';
    r.query := '{}';
    r.body := NULL;
    FOR k IN SELECT pg_catalog.jsonb_object_keys(form) LOOP
      IF lower(k) IN ('authorization', 'x-experience-api-version', 'content-type', 'content-length', 'if-match', 'if-none-match') THEN
        r.headers := r.headers || pg_catalog.jsonb_build_object(lower(k), form->>k);
      ELSIF k = 'content' THEN
        r.body := pg_catalog.convert_to(form->>k, 'UTF8');
      ELSE
        r.query := r.query || pg_catalog.jsonb_build_object(k, form->>k);
      END IF;
    END LOOP;
    IF r.method IN ('PUT', 'POST') AND r.body IS NULL THEN
      r.problem := lms.xapi_bad_request('The Alternate Request Syntax needs a content form parameter.'); RETURN r;
    END IF;
    IF r.body IS NOT NULL AND NOT r.headers ? 'content-type' THEN
      r.headers := r.headers || '{"content-type": "application/json"}';
    END IF;
    r.ver := r.headers->>'x-experience-api-version';
  END IF;
  IF r.ver IS NULL OR r.ver !~ '^(1\.0(\.[0-9]+)?|2\.0(\.[0-9]+)?)$' THEN
    -- The answer names 1.0.3: the version a client that sends no header most likely speaks
    -- (the 1.0.3 and 2.0.0 conformance suites each expect their own version here).
    r.ver := '1.0.3';
    r.problem := lms.xapi_bad_request('The X-Experience-API-Version header is missing or names an unsupported version.', r.ver);
    RETURN r;
  END IF;
  IF r.ver LIKE '2.%' AND query ? 'method' THEN
    r.problem := lms.xapi_bad_request('xAPI 2.0 has no Alternate Request Syntax.', r.ver); RETURN r;
  END IF;
  c := lms.xapi_client(r.headers->>'authorization');
  IF c.id IS NULL THEN
    p := lms.xapi_problem(401, 'unauthenticated', 'Valid Basic credentials of an activity provider are required.', r.ver);
    p.headers := p.headers || '{"WWW-Authenticate": "Basic realm=\"xAPI\""}';
    r.problem := p;
    RETURN r;
  END IF;
  r.client_id := c.id; r.authority := c.authority; r.completes_lessons := c.completes_lessons;
  SELECT key INTO k FROM pg_catalog.jsonb_object_keys(r.query) key WHERE key <> ALL (params) LIMIT 1;
  IF k IS NOT NULL THEN
    r.problem := lms.xapi_bad_request('Unknown parameter: ' || k || '.', r.ver);
  END IF;
  RETURN r;
END
$$;

-- An agent parameter (JSON text of an Agent or Group): its identifier, or NULL with the
-- reason in `err`.
CREATE FUNCTION lms.xapi_agent_param(v text, OUT ifi text, OUT agent jsonb, OUT err text)
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
  BEGIN
    agent := v::jsonb;
  EXCEPTION WHEN others THEN
    err := 'The agent parameter is not JSON.'; RETURN;
  END;
  err := lms.xapi_agent_error(agent, 'agent');
  IF err IS NULL THEN
    ifi := lms.xapi_ifi(agent);
    IF ifi IS NULL THEN err := 'The agent parameter needs an inverse functional identifier.'; END IF;
  END IF;
END
$$;

-- The statement body of a PUT or POST: JSON, or multipart/mixed with the statements in the
-- first part and one part per attachment (Content-Type, Content-Transfer-Encoding: binary,
-- X-Experience-API-Hash). Returns the statements and the attachment parts
-- [{sha2, contentType, content (hex)}], or the reason it is refused.
CREATE FUNCTION lms.xapi_parse_body(ctype text, body bytea, OUT statements jsonb, OUT parts jsonb, OUT err text)
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
  boundary text;
  delim bytea;
  rest bytea;
  pos int;
  part bytea;
  hdr text;
  content bytea;
  n int := 0;
  h jsonb;
BEGIN
  parts := '[]';
  IF body IS NULL THEN err := 'A request body is required.'; RETURN; END IF;
  IF coalesce(ctype, '') ~* '^application/json' THEN
    BEGIN
      statements := pg_catalog.convert_from(body, 'UTF8')::jsonb;
    EXCEPTION WHEN others THEN
      err := 'The body is not valid JSON.';
    END;
    RETURN;
  END IF;
  IF coalesce(ctype, '') !~* '^multipart/mixed' THEN
    err := 'Statements must be sent as application/json or multipart/mixed.'; RETURN;
  END IF;
  boundary := substring(ctype from '(?i)boundary="?([^";]+)"?');
  IF boundary IS NULL THEN err := 'The multipart/mixed Content-Type has no boundary.'; RETURN; END IF;
  delim := pg_catalog.convert_to('--' || boundary, 'UTF8');
  pos := position(delim in body);
  IF pos = 0 THEN err := 'The body has no part delimited by the boundary.'; RETURN; END IF;
  rest := substr(body, pos + length(delim));
  LOOP
    IF substr(rest, 1, 2) = '\x2d2d'::bytea THEN EXIT; END IF;   -- "--": the closing delimiter
    IF substr(rest, 1, 2) <> '\x0d0a'::bytea THEN err := 'A boundary line must end with CRLF.'; RETURN; END IF;
    rest := substr(rest, 3);
    pos := position(pg_catalog.convert_to(E'\r\n', 'UTF8') || delim in rest);
    IF pos = 0 THEN err := 'A part is not closed by the boundary.'; RETURN; END IF;
    part := substr(rest, 1, pos - 1);
    rest := substr(rest, pos + 2 + length(delim));
    pos := position('\x0d0a0d0a'::bytea in part);
    IF pos = 0 THEN
      hdr := pg_catalog.convert_from(part, 'UTF8'); content := ''::bytea;
      IF part <> ''::bytea AND hdr !~ E'\r\n$' THEN hdr := ''; content := part; END IF;
    ELSE
      hdr := pg_catalog.convert_from(substr(part, 1, pos - 1), 'UTF8');
      content := substr(part, pos + 4);
    END IF;
    SELECT coalesce(pg_catalog.jsonb_object_agg(lower(btrim(split_part(l, ':', 1))), btrim(substr(l, strpos(l, ':') + 1))), '{}')
      INTO h FROM pg_catalog.regexp_split_to_table(hdr, E'\r\n') l WHERE l LIKE '%:%';
    n := n + 1;
    IF n = 1 THEN
      IF coalesce(h->>'content-type', '') !~* '^application/json' THEN
        err := 'The first part must be the statements as application/json.'; RETURN;
      END IF;
      BEGIN
        statements := pg_catalog.convert_from(content, 'UTF8')::jsonb;
      EXCEPTION WHEN others THEN
        err := 'The first part is not valid JSON.'; RETURN;
      END;
    ELSE
      IF NOT h ? 'x-experience-api-hash' THEN err := 'An attachment part has no X-Experience-API-Hash header.'; RETURN; END IF;
      IF lower(coalesce(h->>'content-transfer-encoding', '')) <> 'binary' THEN
        err := 'An attachment part must have Content-Transfer-Encoding: binary.'; RETURN;
      END IF;
      parts := parts || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                 'sha2', lower(h->>'x-experience-api-hash'), 'contentType', coalesce(h->>'content-type', 'application/octet-stream'),
                 'content', pg_catalog.encode(content, 'hex')));
    END IF;
  END LOOP;
  IF n = 0 THEN err := 'The multipart body has no part.'; END IF;
END
$$;

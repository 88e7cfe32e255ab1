-- The document resources (State, Activity Profile, Agent Profile), the Activities and Agents
-- resources, About, and the activity providers' credentials.

CREATE FUNCTION lms.sha1_hex(data bytea) RETURNS text
  AS 'MODULE_PATHNAME', 'lms_sha1_hex' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Does an If-Match / If-None-Match header name this ETag ("*" names any existing document)?
CREATE FUNCTION lms.xapi_etag_listed(header text, etag text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN btrim(header) = '*' OR etag = ANY (SELECT btrim(pg_catalog.regexp_replace(btrim(t), '^(W/)?"?|"$', '', 'g'))
                                            FROM pg_catalog.regexp_split_to_table(header, ',') t);

CREATE FUNCTION lms.xapi_doc_key(kind "char", q jsonb, OUT k lms.xapi_doc_key, OUT err text)
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
  a record;
BEGIN
  k.kind := kind;
  k.id_param := CASE kind WHEN 's' THEN 'stateId' ELSE 'profileId' END;
  IF kind IN ('s', 'a') THEN
    IF NOT q ? 'activityId' OR NOT lms.xapi_is_iri(q->'activityId') THEN err := 'activityId must be an IRI.'; RETURN; END IF;
    k.activity_id := q->>'activityId';
  END IF;
  IF kind IN ('s', 'g') THEN
    IF NOT q ? 'agent' THEN err := 'agent is required.'; RETURN; END IF;
    a := lms.xapi_agent_param(q->>'agent');
    IF a.err IS NOT NULL THEN err := a.err; RETURN; END IF;
    k.agent := a.ifi;
  END IF;
  IF kind = 's' AND q ? 'registration' THEN
    IF NOT lms.xapi_is_uuid(q->>'registration') THEN err := 'registration must be a UUID.'; RETURN; END IF;
    k.registration := (q->>'registration')::uuid;
  END IF;
  k.doc_id := q->>k.id_param;
  IF q ? 'since' AND lms.xapi_timestamp(q->'since') IS NULL THEN err := 'since must be an ISO 8601 timestamp.'; RETURN; END IF;
END
$$;

-- GET, PUT, POST, DELETE of one document resource (kind 's', 'a' or 'g').
-- PUT replaces; POST merges two JSON objects one level deep (else 400 when a document exists);
-- a PUT of a profile needs If-Match or If-None-Match (409 when it exists, 400 when not), a failed
-- precondition is 412 and changes nothing. GET without an id lists the ids (since: updated
-- after); DELETE without a stateId deletes every state of the activity, agent and registration.
CREATE FUNCTION lms.xapi_documents(r lms.xapi_request, kind "char") RETURNS lms.xapi_response
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  kp record;
  k lms.xapi_doc_key;
  d lms.xapi_documents;
  ctype text := coalesce(nullif(r.headers->>'content-type', ''), 'application/octet-stream');
  is_json boolean := ctype ~* '^application/json';
  newdoc jsonb;
  olddoc jsonb;
  content bytea := r.body;
  im text := r.headers->>'if-match';
  inm text := r.headers->>'if-none-match';
  ids jsonb;
BEGIN
  kp := lms.xapi_doc_key(kind, r.query);
  IF kp.err IS NOT NULL THEN RETURN lms.xapi_bad_request(kp.err, r.ver); END IF;
  k := kp.k;
  IF r.method IN ('PUT', 'POST') AND k.doc_id IS NULL THEN
    RETURN lms.xapi_bad_request(k.id_param || ' is required.', r.ver);
  END IF;
  IF r.query ? 'since' AND (r.method NOT IN ('GET', 'HEAD') OR k.doc_id IS NOT NULL) THEN
    RETURN lms.xapi_bad_request('since is only for listing ids.', r.ver);
  END IF;
  IF k.doc_id IS NOT NULL THEN
    SELECT * INTO d FROM lms.xapi_documents x
     WHERE x.kind = k.kind AND x.activity_id IS NOT DISTINCT FROM k.activity_id AND x.agent IS NOT DISTINCT FROM k.agent
       AND x.registration IS NOT DISTINCT FROM k.registration AND x.doc_id = k.doc_id
       FOR UPDATE;
  END IF;
  IF r.method IN ('GET', 'HEAD') THEN
    IF k.doc_id IS NULL THEN
      SELECT coalesce(pg_catalog.jsonb_agg(x.doc_id ORDER BY x.doc_id), '[]') INTO ids FROM lms.xapi_documents x
       WHERE x.kind = k.kind AND x.activity_id IS NOT DISTINCT FROM k.activity_id AND x.agent IS NOT DISTINCT FROM k.agent
         AND (k.kind <> 's' OR x.registration IS NOT DISTINCT FROM k.registration)
         AND (NOT r.query ? 'since' OR x.updated > lms.xapi_timestamp(r.query->'since'));
      RETURN lms.xapi_json(200, ids, r.ver);
    END IF;
    IF d.id IS NULL THEN RETURN lms.xapi_problem(404, 'not_found', 'No such document.', r.ver); END IF;
    RETURN ROW(200, pg_catalog.jsonb_build_object('Content-Type', d.content_type, 'ETag', '"' || d.etag || '"',
                 'Last-Modified', lms.http_date(d.updated)) || lms.xapi_version_header(r.ver),
               d.content)::lms.xapi_response;
  END IF;
  IF r.method = 'DELETE' THEN
    IF im IS NOT NULL AND (d.id IS NULL OR NOT lms.xapi_etag_listed(im, d.etag)) THEN
      RETURN lms.xapi_empty(412, r.ver);
    END IF;
    IF k.doc_id IS NULL THEN
      IF k.kind <> 's' THEN RETURN lms.xapi_bad_request(k.id_param || ' is required.', r.ver); END IF;
      DELETE FROM lms.xapi_documents x
       WHERE x.kind = 's' AND x.activity_id = k.activity_id AND x.agent = k.agent
         AND x.registration IS NOT DISTINCT FROM k.registration;
    ELSIF d.id IS NOT NULL THEN
      DELETE FROM lms.xapi_documents x WHERE x.id = d.id;
    END IF;
    RETURN lms.xapi_empty(204, r.ver);
  END IF;
  IF r.method NOT IN ('PUT', 'POST') THEN
    RETURN lms.xapi_problem(405, 'method_not_allowed', 'Documents answer GET, HEAD, PUT, POST and DELETE.', r.ver);
  END IF;
  IF content IS NULL THEN RETURN lms.xapi_bad_request('A document body is required.', r.ver); END IF;
  -- preconditions (RFC 7232)
  IF im IS NOT NULL AND (d.id IS NULL OR NOT lms.xapi_etag_listed(im, d.etag)) THEN
    RETURN lms.xapi_problem(412, 'precondition_failed', 'If-Match does not name the current document.', r.ver);
  END IF;
  IF inm IS NOT NULL AND d.id IS NOT NULL AND lms.xapi_etag_listed(inm, d.etag) THEN
    RETURN lms.xapi_problem(412, 'precondition_failed', 'If-None-Match names the current document.', r.ver);
  END IF;
  -- xAPI 2.0 extends this to the state resource when the document exists
  IF r.method = 'PUT' AND k.kind = 's' AND r.ver LIKE '2.%' AND d.id IS NOT NULL AND im IS NULL AND inm IS NULL THEN
    RETURN lms.xapi_problem(409, 'xapi_conflict', 'The state exists: send If-Match with its ETag to replace it.', r.ver);
  END IF;
  IF r.method = 'PUT' AND k.kind <> 's' AND im IS NULL AND inm IS NULL THEN
    IF d.id IS NOT NULL THEN
      RETURN lms.xapi_problem(409, 'xapi_conflict',
        'The document exists: send If-Match with its ETag to replace it.', r.ver);
    END IF;
    RETURN lms.xapi_bad_request('A PUT of a profile needs If-Match or If-None-Match (If-None-Match: * for a new one).', r.ver);
  END IF;
  IF is_json THEN
    BEGIN
      newdoc := pg_catalog.convert_from(content, 'UTF8')::jsonb;
    EXCEPTION WHEN others THEN
      RETURN lms.xapi_bad_request('The document is sent as application/json but is not JSON.', r.ver);
    END;
  END IF;
  IF r.method = 'POST' AND d.id IS NOT NULL THEN
    IF d.content_type ~* '^application/json' THEN
      BEGIN
        olddoc := pg_catalog.convert_from(d.content, 'UTF8')::jsonb;
      EXCEPTION WHEN others THEN
        olddoc := NULL;
      END;
    END IF;
    IF NOT is_json OR pg_catalog.jsonb_typeof(newdoc) IS DISTINCT FROM 'object' OR pg_catalog.jsonb_typeof(olddoc) IS DISTINCT FROM 'object' THEN
      RETURN lms.xapi_bad_request('POST merges JSON objects only: the stored or the sent document is not one.', r.ver);
    END IF;
    content := pg_catalog.convert_to((olddoc || newdoc)::text, 'UTF8');
    ctype := 'application/json';
  ELSIF r.method = 'POST' AND is_json AND pg_catalog.jsonb_typeof(newdoc) IS DISTINCT FROM 'object' THEN
    RETURN lms.xapi_bad_request('A JSON document sent by POST must be an object.', r.ver);
  END IF;
  INSERT INTO lms.xapi_documents AS x (kind, activity_id, agent, registration, doc_id, content_type, content, etag, updated)
  VALUES (k.kind, k.activity_id, k.agent, k.registration, k.doc_id, ctype, content, lms.sha1_hex(content), lms.clock())
  ON CONFLICT ON CONSTRAINT xapi_documents_key
  DO UPDATE SET content_type = excluded.content_type, content = excluded.content, etag = excluded.etag, updated = excluded.updated;
  RETURN lms.xapi_empty(204, r.ver);
END
$$;

-- The document routes share everything but their kind and parameters.
CREATE FUNCTION lms.xapi_document_request(method text, query jsonb, headers jsonb, body bytea, kind "char")
RETURNS lms.xapi_response
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r lms.xapi_request := lms.xapi_begin(method, query, headers, body,
    CASE kind WHEN 's' THEN '{activityId,agent,registration,stateId,since}'::text[]
              WHEN 'a' THEN '{activityId,profileId,since}'::text[]
              ELSE '{agent,profileId,since}'::text[] END);
BEGIN
  IF (r.problem).status IS NOT NULL THEN RETURN r.problem; END IF;
  RETURN lms.xapi_documents(r, kind);
END
$$;

-- /xapi/activities/state
CREATE FUNCTION lms.api_xapi_state(method text, query jsonb, headers jsonb, body bytea)
RETURNS lms.xapi_response
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
RETURN lms.xapi_document_request(method, query, headers, body, 's');

-- /xapi/activities/profile
CREATE FUNCTION lms.api_xapi_activity_profile(method text, query jsonb, headers jsonb, body bytea)
RETURNS lms.xapi_response
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
RETURN lms.xapi_document_request(method, query, headers, body, 'a');

-- /xapi/agents/profile
CREATE FUNCTION lms.api_xapi_agent_profile(method text, query jsonb, headers jsonb, body bytea)
RETURNS lms.xapi_response
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
RETURN lms.xapi_document_request(method, query, headers, body, 'g');

-- /xapi/activities?activityId=: the Activity with the canonical definition the LRS holds.
CREATE FUNCTION lms.api_xapi_activities(method text, query jsonb, headers jsonb, body bytea)
RETURNS lms.xapi_response
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r lms.xapi_request := lms.xapi_begin(method, query, headers, body, '{activityId}');
  a lms.xapi_activities;
BEGIN
  IF (r.problem).status IS NOT NULL THEN RETURN r.problem; END IF;
  IF r.method NOT IN ('GET', 'HEAD') THEN RETURN lms.xapi_problem(405, 'method_not_allowed', 'Activities answer GET and HEAD.', r.ver); END IF;
  IF NOT r.query ? 'activityId' OR NOT lms.xapi_is_iri(r.query->'activityId') THEN
    RETURN lms.xapi_bad_request('activityId must be an IRI.', r.ver);
  END IF;
  SELECT * INTO a FROM lms.xapi_activities x WHERE x.id = r.query->>'activityId';
  -- one of lms's own activities: lms's definition as things are now, over what statements said
  a.definition := lms.xapi_merge_definition(a.definition, lms.xapi_lms_activity_definition(r.query->>'activityId'));
  -- an activity no statement has named yet is still an Activity (with no definition)
  RETURN lms.xapi_json(200, pg_catalog.jsonb_build_object('objectType', 'Activity', 'id', r.query->>'activityId')
                            || CASE WHEN a.definition <> '{}' THEN pg_catalog.jsonb_build_object('definition', a.definition) ELSE '{}' END,
                       r.ver);
END
$$;

-- /xapi/agents?agent=: the Person object (every identifier and name known for the agent; the
-- LRS does not link identities, so it is the agent itself in arrays).
CREATE FUNCTION lms.api_xapi_agents(method text, query jsonb, headers jsonb, body bytea)
RETURNS lms.xapi_response
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r lms.xapi_request := lms.xapi_begin(method, query, headers, body, '{agent}');
  a record;
BEGIN
  IF (r.problem).status IS NOT NULL THEN RETURN r.problem; END IF;
  IF r.method NOT IN ('GET', 'HEAD') THEN RETURN lms.xapi_problem(405, 'method_not_allowed', 'Agents answer GET and HEAD.', r.ver); END IF;
  IF NOT r.query ? 'agent' THEN RETURN lms.xapi_bad_request('agent is required.', r.ver); END IF;
  a := lms.xapi_agent_param(r.query->>'agent');
  IF a.err IS NOT NULL THEN RETURN lms.xapi_bad_request(a.err, r.ver); END IF;
  RETURN lms.xapi_json(200, pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('objectType', 'Person',
           'name', CASE WHEN a.agent ? 'name' THEN pg_catalog.jsonb_build_array(a.agent->'name') END,
           'mbox', CASE WHEN a.agent ? 'mbox' THEN pg_catalog.jsonb_build_array(a.agent->'mbox') END,
           'mbox_sha1sum', CASE WHEN a.agent ? 'mbox_sha1sum' THEN pg_catalog.jsonb_build_array(a.agent->'mbox_sha1sum') END,
           'openid', CASE WHEN a.agent ? 'openid' THEN pg_catalog.jsonb_build_array(a.agent->'openid') END,
           'account', CASE WHEN a.agent ? 'account' THEN pg_catalog.jsonb_build_array(a.agent->'account') END)), r.ver);
END
$$;

-- /xapi/about: the versions this LRS speaks. No version header or credentials needed.
CREATE FUNCTION lms.api_xapi_about(method text, query jsonb, headers jsonb, body bytea)
RETURNS lms.xapi_response
LANGUAGE sql IMMUTABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
RETURN lms.xapi_json(200, '{"version": ["1.0.0", "1.0.1", "1.0.2", "1.0.3", "2.0.0"], "extensions": {}}',
                     coalesce(headers->>'x-experience-api-version', '1.0.3'));

-- A new activity provider: its key and secret, shown once (only the secret's SHA-256 is kept).
-- completes_lessons: its completed/passed statements on lesson activities complete lessons.
CREATE FUNCTION lms.xapi_create_client(name text, completes_lessons boolean DEFAULT false,
                                       OUT id bigint, OUT key text, OUT secret text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  key := substr(pg_catalog.encode(pg_catalog.sha256(pg_catalog.uuid_send(pg_catalog.gen_random_uuid())), 'hex'), 1, 24);
  secret := lms.base64url_encode(pg_catalog.uuid_send(pg_catalog.gen_random_uuid())
                                 || pg_catalog.uuid_send(pg_catalog.gen_random_uuid()));
  INSERT INTO lms.xapi_clients AS c (name, api_key, secret_hash, authority, completes_lessons)
  VALUES (btrim(xapi_create_client.name), key, pg_catalog.sha256(pg_catalog.convert_to(secret, 'UTF8')),
          pg_catalog.jsonb_build_object('objectType', 'Agent', 'name', btrim(xapi_create_client.name),
            'account', pg_catalog.jsonb_build_object('homePage', 'urn:lms:xapi-client', 'name', key)),
          xapi_create_client.completes_lessons)
  RETURNING c.id INTO id;
END
$$;

-- POST /admin/xapi/clients {name, completes_lessons?}: an admin makes activity provider
-- credentials (201 {id, name, key, secret, completes_lessons}; the secret is never shown again).
CREATE FUNCTION lms.api_admin_xapi_client_create(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  me lms.caller := lms.caller(token);
  p lms.api_response := lms.admin_check(me);
  b jsonb := lms.body_object(body);
  c record;
BEGIN
  IF p.status IS NOT NULL THEN RETURN p; END IF;
  IF b IS NULL THEN RETURN lms.invalid_body(); END IF;
  IF pg_catalog.jsonb_typeof(b->'name') IS DISTINCT FROM 'string' OR length(btrim(b->>'name')) NOT BETWEEN 1 AND 100 THEN
    RETURN lms.invalid('name', 'must be a string of 1 to 100 characters');
  END IF;
  IF b ? 'completes_lessons' AND pg_catalog.jsonb_typeof(b->'completes_lessons') <> 'boolean' THEN
    RETURN lms.invalid('completes_lessons', 'must be a boolean');
  END IF;
  IF (SELECT count(*) FROM pg_catalog.jsonb_object_keys(b) k WHERE k NOT IN ('name', 'completes_lessons')) > 0 THEN
    RETURN lms.invalid('body', 'only name and completes_lessons are accepted');
  END IF;
  c := lms.xapi_create_client(b->>'name', coalesce((b->>'completes_lessons')::boolean, false));
  PERFORM lms.audit(me.user_id, 'xapi_client.create', 'xapi_client', c.id, pg_catalog.jsonb_build_object('name', btrim(b->>'name')));
  RETURN lms.ok(201, pg_catalog.jsonb_build_object('id', c.id, 'name', btrim(b->>'name'), 'key', c.key, 'secret', c.secret,
                                                   'completes_lessons', coalesce((b->>'completes_lessons')::boolean, false)));
END
$$;

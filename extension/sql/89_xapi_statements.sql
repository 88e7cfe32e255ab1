-- The Statement resource: /xapi/statements (PUT, POST, GET; HEAD is GET without a body).

-- Base64url without padding (JWS, cursors).
CREATE FUNCTION lms.base64url_decode(v text) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN pg_catalog.decode(pg_catalog.rpad(pg_catalog.translate(v, '-_', '+/'),
                                         (length(v) + 3) / 4 * 4, '='), 'base64');

CREATE FUNCTION lms.base64url_encode(v bytea) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN pg_catalog.rtrim(pg_catalog.translate(pg_catalog.encode(v, 'base64'), E'+/\n', '-_'), '=');

-- A signature attachment's JWS (RFC 7515 compact form): its algorithm must be RS256, RS384 or
-- RS512 and its payload the statement it is attached to (without its attachments). The RSA
-- signature itself is not verified (the LRS stores it for whoever holds the key).
CREATE FUNCTION lms.xapi_signature_error(s jsonb, jws text) RETURNS text
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
  hdr jsonb;
  payload jsonb;
BEGIN
  IF jws !~ '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$' THEN RETURN 'The signature is not a JWS in compact form.'; END IF;
  BEGIN
    hdr := pg_catalog.convert_from(lms.base64url_decode(split_part(jws, '.', 1)), 'UTF8')::jsonb;
    payload := pg_catalog.convert_from(lms.base64url_decode(split_part(jws, '.', 2)), 'UTF8')::jsonb;
  EXCEPTION WHEN others THEN
    RETURN 'The signature''s header or payload is not JSON.';
  END;
  IF hdr->>'alg' IS NULL OR hdr->>'alg' NOT IN ('RS256', 'RS384', 'RS512') THEN
    RETURN 'The signature must use RS256, RS384 or RS512.';
  END IF;
  IF pg_catalog.jsonb_typeof(payload) <> 'object'
     OR NOT lms.xapi_same_statement(lms.xapi_normalize(s - 'attachments') - CASE WHEN payload ? 'id' THEN '' ELSE 'id' END,
                                    payload - 'attachments') THEN
    RETURN 'The signature''s payload is not the statement it is attached to.';
  END IF;
  RETURN NULL;
END
$$;

-- Attachments of a PUT/POST: every attachment without a fileUrl has its part, every part
-- belongs to an attachment, signatures are well-formed JWS of their statement. Stores the
-- parts; returns NULL or the reason for a 400.
CREATE FUNCTION lms.xapi_attachments_accept(stmts jsonb, parts jsonb, multipart boolean) RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  declared jsonb;
  e text;
BEGIN
  SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('s', st, 'a', a)), '[]') INTO declared
    FROM pg_catalog.jsonb_array_elements(stmts) st,
         pg_catalog.jsonb_array_elements(coalesce(st->'attachments', '[]') || coalesce(st->'object'->'attachments', '[]')) a;
  IF NOT multipart THEN
    IF EXISTS (SELECT FROM pg_catalog.jsonb_array_elements(declared) d WHERE NOT d->'a' ? 'fileUrl') THEN
      RETURN 'Attachments without a fileUrl must be sent as multipart/mixed parts.';
    END IF;
    RETURN NULL;
  END IF;
  IF EXISTS (SELECT FROM pg_catalog.jsonb_array_elements(parts) p
              WHERE NOT EXISTS (SELECT FROM pg_catalog.jsonb_array_elements(declared) d WHERE lower(d->'a'->>'sha2') = p->>'sha2')) THEN
    RETURN 'A multipart part does not match the sha2 of any attachment.';
  END IF;
  IF EXISTS (SELECT FROM pg_catalog.jsonb_array_elements(declared) d
              WHERE NOT d->'a' ? 'fileUrl'
                AND NOT EXISTS (SELECT FROM pg_catalog.jsonb_array_elements(parts) p WHERE p->>'sha2' = lower(d->'a'->>'sha2'))) THEN
    RETURN 'An attachment has neither a fileUrl nor a part.';
  END IF;
  IF EXISTS (SELECT FROM pg_catalog.jsonb_array_elements(parts) p
              WHERE pg_catalog.encode(pg_catalog.sha256(pg_catalog.decode(p->>'content', 'hex')), 'hex') <> p->>'sha2'
                AND length(p->>'sha2') = 64) THEN
    RETURN 'An attachment part does not match its X-Experience-API-Hash.';
  END IF;
  SELECT coalesce(
           (SELECT 'A signature attachment must have contentType application/octet-stream.'
              FROM pg_catalog.jsonb_array_elements(declared) d
             WHERE d->'a'->>'usageType' = 'http://adlnet.gov/expapi/attachments/signature'
               AND d->'a'->>'contentType' <> 'application/octet-stream' LIMIT 1),
           (SELECT lms.xapi_signature_error(d->'s', pg_catalog.convert_from(pg_catalog.decode(p->>'content', 'hex'), 'UTF8'))
              FROM pg_catalog.jsonb_array_elements(declared) d
              JOIN pg_catalog.jsonb_array_elements(parts) p ON p->>'sha2' = lower(d->'a'->>'sha2')
             WHERE d->'a'->>'usageType' = 'http://adlnet.gov/expapi/attachments/signature'
               AND lms.xapi_signature_error(d->'s', pg_catalog.convert_from(pg_catalog.decode(p->>'content', 'hex'), 'UTF8')) IS NOT NULL
             LIMIT 1))
    INTO e;
  IF e IS NOT NULL THEN RETURN e; END IF;
  INSERT INTO lms.xapi_attachments (sha2, content_type, content)
  SELECT DISTINCT ON (p->>'sha2') p->>'sha2', p->>'contentType', pg_catalog.decode(p->>'content', 'hex')
    FROM pg_catalog.jsonb_array_elements(parts) p WHERE length(p->>'sha2') = 64
  ON CONFLICT (sha2) DO NOTHING;
  RETURN NULL;
END
$$;

-- PUT (one statement, its id in ?statementId) and POST (one or an array): validate every
-- statement, then store all or none.
CREATE FUNCTION lms.xapi_statements_write(r lms.xapi_request) RETURNS lms.xapi_response
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  b record;
  stmts jsonb;
  e text;
  ids uuid[];
  sid text := r.query->>'statementId';
BEGIN
  IF r.method = 'PUT' AND sid IS NULL THEN RETURN lms.xapi_bad_request('PUT needs the statementId parameter.', r.ver); END IF;
  IF r.method = 'POST' AND r.query <> '{}' THEN RETURN lms.xapi_bad_request('POST takes no parameter.', r.ver); END IF;
  IF sid IS NOT NULL AND NOT lms.xapi_is_uuid(sid) THEN RETURN lms.xapi_bad_request('statementId must be a UUID.', r.ver); END IF;
  b := lms.xapi_parse_body(r.headers->>'content-type', r.body);
  IF b.err IS NOT NULL THEN RETURN lms.xapi_bad_request(b.err, r.ver); END IF;
  stmts := CASE WHEN pg_catalog.jsonb_typeof(b.statements) = 'array' AND r.method = 'POST' THEN b.statements
                ELSE pg_catalog.jsonb_build_array(b.statements) END;
  IF pg_catalog.jsonb_array_length(stmts) = 0 THEN RETURN lms.xapi_bad_request('No statement was sent.', r.ver); END IF;
  IF r.method = 'PUT' THEN
    IF b.statements ? 'id' AND lower(b.statements->>'id') IS DISTINCT FROM lower(sid) THEN
      RETURN lms.xapi_bad_request('The statement id differs from the statementId parameter.', r.ver);
    END IF;
    stmts := pg_catalog.jsonb_build_array(b.statements || pg_catalog.jsonb_build_object('id', lower(sid)));
  END IF;
  SELECT lms.xapi_statement_error(x, r.ver) INTO e
    FROM pg_catalog.jsonb_array_elements(stmts) x WHERE lms.xapi_statement_error(x, r.ver) IS NOT NULL LIMIT 1;
  IF e IS NOT NULL THEN RETURN lms.xapi_bad_request(e, r.ver); END IF;
  e := lms.xapi_attachments_accept(stmts, b.parts, r.headers->>'content-type' ~* '^multipart/mixed');
  IF e IS NOT NULL THEN RETURN lms.xapi_bad_request(e, r.ver); END IF;
  SELECT pg_catalog.jsonb_agg(lms.xapi_normalize(x) || pg_catalog.jsonb_build_object('id', lower(coalesce(x->>'id', pg_catalog.gen_random_uuid()::text))))
    INTO stmts FROM pg_catalog.jsonb_array_elements(stmts) x;
  BEGIN
    ids := lms.xapi_store(stmts, r.client_id, r.authority, r.ver);
  EXCEPTION
    WHEN unique_violation THEN
      RETURN lms.xapi_problem(409, 'xapi_conflict', 'A different statement with this id is already stored.', r.ver);
    WHEN invalid_parameter_value THEN
      GET STACKED DIAGNOSTICS e = MESSAGE_TEXT;
      RETURN lms.xapi_bad_request(upper(left(e, 1)) || substr(e, 2) || '.', r.ver);
  END;
  -- a trusted activity provider's completions complete lms lessons (89_xapi_lessons.sql)
  IF r.completes_lessons THEN
    PERFORM lms.xapi_complete_lessons(stmts);
  END IF;
  IF r.method = 'PUT' THEN RETURN lms.xapi_empty(204, r.ver); END IF;
  RETURN lms.xapi_json(200, pg_catalog.to_jsonb(ids), r.ver);
END
$$;

-- The ids form of a statement: agents, groups, activities and verbs reduced to their identifiers.
CREATE FUNCTION lms.xapi_ids_ifi(a jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('objectType', a->'objectType',
         'mbox', a->'mbox', 'mbox_sha1sum', a->'mbox_sha1sum', 'openid', a->'openid', 'account', a->'account'));

CREATE FUNCTION lms.xapi_ids_agent(a jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN a IS NULL THEN NULL
            WHEN pg_catalog.jsonb_typeof(a->'member') = 'array' AND lms.xapi_ifi(a) IS NULL
            THEN lms.xapi_ids_ifi(a) || pg_catalog.jsonb_build_object('member',
                   (SELECT coalesce(pg_catalog.jsonb_agg(lms.xapi_ids_ifi(m)), '[]') FROM pg_catalog.jsonb_array_elements(a->'member') m))
            ELSE lms.xapi_ids_ifi(a) END;

CREATE FUNCTION lms.xapi_ids_activity(a jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN pg_catalog.jsonb_build_object('id', a->'id');

CREATE FUNCTION lms.xapi_ids_context(c jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN c IS NULL THEN NULL
            ELSE c || pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                   'instructor', lms.xapi_ids_agent(c->'instructor'), 'team', lms.xapi_ids_agent(c->'team'),
                   'contextActivities', (SELECT pg_catalog.jsonb_object_agg(k, (SELECT pg_catalog.jsonb_agg(lms.xapi_ids_activity(a))
                                                                                  FROM pg_catalog.jsonb_array_elements(v) a))
                                           FROM pg_catalog.jsonb_each(c->'contextActivities') x(k, v)))) END;

CREATE FUNCTION lms.xapi_format_ids(s jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
  RETURN s || pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
    'actor', lms.xapi_ids_agent(s->'actor'),
    'verb', pg_catalog.jsonb_build_object('id', s->'verb'->'id'),
    'authority', lms.xapi_ids_agent(s->'authority'),
    'context', lms.xapi_ids_context(s->'context'),
    'object', CASE WHEN s->'object'->>'objectType' IN ('Agent', 'Group') THEN lms.xapi_ids_agent(s->'object')
                   WHEN s->'object'->>'objectType' = 'StatementRef' THEN s->'object'
                   WHEN s->'object'->>'objectType' = 'SubStatement' THEN lms.xapi_format_ids(s->'object')
                   ELSE lms.xapi_ids_activity(s->'object') END));
END
$$;

-- The canonical form: every language map reduced to the one language the reader prefers
-- (Accept-Language order, then the first the map has).
CREATE FUNCTION lms.xapi_pick_language(m jsonb, langs text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN pg_catalog.jsonb_typeof(m) <> 'object' OR m = '{}' THEN m
            ELSE (SELECT pg_catalog.jsonb_build_object(k, m->k) FROM pg_catalog.jsonb_object_keys(m) k
                   ORDER BY coalesce(pg_catalog.array_position(langs, lower(k)),
                                     pg_catalog.array_position(langs, lower(split_part(k, '-', 1))), 1000), k LIMIT 1) END;

CREATE FUNCTION lms.xapi_format_canonical(j jsonb, langs text[]) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  k text;
  v jsonb;
  out jsonb;
BEGIN
  IF pg_catalog.jsonb_typeof(j) = 'array' THEN
    RETURN (SELECT coalesce(pg_catalog.jsonb_agg(lms.xapi_format_canonical(x, langs) ORDER BY n), '[]')
              FROM pg_catalog.jsonb_array_elements(j) WITH ORDINALITY t(x, n));
  END IF;
  IF pg_catalog.jsonb_typeof(j) <> 'object' THEN RETURN j; END IF;
  out := '{}';
  FOR k, v IN SELECT key, value FROM pg_catalog.jsonb_each(j) LOOP
    out := out || pg_catalog.jsonb_build_object(k,
             CASE WHEN k IN ('display', 'name', 'description') THEN lms.xapi_pick_language(v, langs)
                  WHEN k = 'extensions' THEN v
                  ELSE lms.xapi_format_canonical(v, langs) END);
  END LOOP;
  RETURN out;
END
$$;

-- The preferred languages of an Accept-Language header, best first, lower case.
CREATE FUNCTION lms.xapi_accept_languages(h text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (SELECT coalesce(pg_catalog.array_agg(lower(btrim(split_part(p, ';', 1)))
                        ORDER BY coalesce(nullif(substring(p from 'q=([0-9.]+)'), '')::numeric, 1) DESC, n), '{}')
          FROM pg_catalog.regexp_split_to_table(coalesce(h, ''), ',') WITH ORDINALITY t(p, n)
         WHERE btrim(p) <> '');

-- A statement in the requested format.
CREATE FUNCTION lms.xapi_format(s jsonb, format text, langs text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE format WHEN 'ids' THEN lms.xapi_format_ids(s)
                   WHEN 'canonical' THEN lms.xapi_format_canonical(s, langs)
                   ELSE s END;

-- The start of the oldest transaction of this database that is writing (holds a transaction
-- id), or NULL: min(xact_start) of pg_stat_activity's writers, without building the view.
CREATE FUNCTION lms.xapi_oldest_writer_start() RETURNS timestamptz
LANGUAGE C STABLE PARALLEL RESTRICTED
AS 'MODULE_PATHNAME', 'lms_xapi_oldest_writer_start';

-- X-Experience-API-Consistent-Through: every statement stored up to this instant is visible
-- to the reader. Writers stamp `stored` with their transaction's start, so the instant is
-- the start of the oldest transaction still writing, or now.
CREATE FUNCTION lms.xapi_consistent_through() RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
RETURN lms.iso(LEAST(lms.clock(), pg_catalog.clock_timestamp(), lms.xapi_oldest_writer_start()));

-- Parse and check the query parameters of GET /statements (400 reasons in err).
CREATE FUNCTION lms.xapi_filter_parse(q jsonb, OUT f lms.xapi_filter, OUT err text)
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
  a record;
  k text;
BEGIN
  IF q ? 'agent' THEN
    a := lms.xapi_agent_param(q->>'agent');
    IF a.err IS NOT NULL THEN err := a.err; RETURN; END IF;
    f.agent := a.ifi;
  END IF;
  IF q ? 'verb' THEN
    IF NOT lms.xapi_is_iri(q->'verb') THEN err := 'verb must be an IRI.'; RETURN; END IF;
    f.verb := q->>'verb';
  END IF;
  IF q ? 'activity' THEN
    IF NOT lms.xapi_is_iri(q->'activity') THEN err := 'activity must be an IRI.'; RETURN; END IF;
    f.activity := q->>'activity';
  END IF;
  IF q ? 'registration' THEN
    IF NOT lms.xapi_is_uuid(q->>'registration') THEN err := 'registration must be a UUID.'; RETURN; END IF;
    f.registration := (q->>'registration')::uuid;
  END IF;
  FOREACH k IN ARRAY '{related_activities,related_agents,attachments,ascending}'::text[] LOOP
    IF q ? k AND lower(q->>k) NOT IN ('true', 'false') THEN err := k || ' must be true or false.'; RETURN; END IF;
  END LOOP;
  f.related_activities := coalesce(lower(q->>'related_activities') = 'true', false);
  f.related_agents := coalesce(lower(q->>'related_agents') = 'true', false);
  f.attachments := coalesce(lower(q->>'attachments') = 'true', false);
  f.ascending := coalesce(lower(q->>'ascending') = 'true', false);
  IF q ? 'since' THEN
    f.since := lms.xapi_timestamp(q->'since');
    IF f.since IS NULL THEN err := 'since must be an ISO 8601 timestamp.'; RETURN; END IF;
  END IF;
  IF q ? 'until' THEN
    f.until := lms.xapi_timestamp(q->'until');
    IF f.until IS NULL THEN err := 'until must be an ISO 8601 timestamp.'; RETURN; END IF;
  END IF;
  IF q ? 'limit' AND ((q->>'limit') !~ '^[0-9]{1,9}$') THEN err := 'limit must be a non-negative integer.'; RETURN; END IF;
  f.lim := CASE WHEN coalesce((q->>'limit')::int, 0) = 0 THEN 100 ELSE LEAST((q->>'limit')::int, 500) END;
  f.format := coalesce(q->>'format', 'exact');
  IF f.format NOT IN ('exact', 'ids', 'canonical') THEN err := 'format must be exact, ids or canonical.'; RETURN; END IF;
END
$$;

-- One page of a statement query: (seq, statement) in stored order, one row more than the
-- page when there is a next page. The first filter that has a link table drives the scan
-- (an index range in seq order), the others are probes, so a page costs the same wherever
-- the cursor is.
CREATE FUNCTION lms.xapi_query(f lms.xapi_filter) RETURNS TABLE (seq bigint, statement jsonb)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  sql text;
  src text;
  w text := 'NOT s.voided';
  dir text := CASE WHEN f.ascending THEN 'ASC' ELSE 'DESC' END;
BEGIN
  IF f.agent IS NOT NULL THEN
    src := 'lms.xapi_statement_agents d JOIN lms.xapi_statements s ON s.seq = d.seq';
    w := w || ' AND d.agent = $1' || CASE WHEN f.related_agents THEN '' ELSE ' AND d.direct' END;
    IF f.activity IS NOT NULL THEN
      w := w || ' AND EXISTS (SELECT FROM lms.xapi_statement_activities t WHERE t.activity = $3 AND t.seq = s.seq'
               || CASE WHEN f.related_activities THEN '' ELSE ' AND t.direct' END || ')';
    END IF;
  ELSIF f.activity IS NOT NULL THEN
    src := 'lms.xapi_statement_activities d JOIN lms.xapi_statements s ON s.seq = d.seq';
    w := w || ' AND d.activity = $3' || CASE WHEN f.related_activities THEN '' ELSE ' AND d.direct' END;
  ELSE
    src := 'lms.xapi_statements s';
  END IF;
  IF f.verb IS NOT NULL THEN w := w || ' AND (s.verb_id = $2 OR s.target_verb = $2)'; END IF;
  IF f.registration IS NOT NULL THEN w := w || ' AND s.registration = $4'; END IF;
  IF f.since IS NOT NULL THEN w := w || ' AND s.stored > $5'; END IF;
  IF f.until IS NOT NULL THEN w := w || ' AND s.stored <= $6'; END IF;
  IF f.after IS NOT NULL THEN
    w := w || CASE WHEN f.ascending THEN ' AND s.seq > $7' ELSE ' AND s.seq < $7' END;
  END IF;
  sql := format('SELECT s.seq, s.statement FROM %s WHERE %s ORDER BY %s %s LIMIT $8',
                src, w, CASE WHEN src LIKE '%%d JOIN%%' THEN 'd.seq' ELSE 's.seq' END, dir);
  RETURN QUERY EXECUTE sql USING f.agent, f.verb, f.activity, f.registration, f.since, f.until, f.after, f.lim + 1;
END
$$;

-- The attachments of the statements of an answer as multipart/mixed: the statements (or the
-- one statement) as the first part, then each attachment stored for them once.
CREATE FUNCTION lms.xapi_multipart(doc jsonb, stmts jsonb, ver text, extra jsonb) RETURNS lms.xapi_response
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  boundary text := 'xapi-' || pg_catalog.md5(doc::text);
  crlf bytea := '\x0d0a';
  out bytea;
  a record;
BEGIN
  out := pg_catalog.convert_to('--' || boundary || E'\r\nContent-Type: application/json\r\n\r\n' || doc::text || E'\r\n', 'UTF8');
  FOR a IN SELECT DISTINCT x.sha2, x.content_type, x.content
             FROM pg_catalog.jsonb_array_elements(stmts) st,
                  pg_catalog.jsonb_array_elements(coalesce(st->'attachments', '[]') || coalesce(st->'object'->'attachments', '[]')) at
             JOIN lms.xapi_attachments x ON x.sha2 = lower(at->>'sha2') LOOP
    out := out || pg_catalog.convert_to('--' || boundary || E'\r\nContent-Type: ' || a.content_type
                  || E'\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: ' || a.sha2 || E'\r\n\r\n', 'UTF8')
               || a.content || crlf;
  END LOOP;
  out := out || pg_catalog.convert_to('--' || boundary || '--', 'UTF8');
  RETURN ROW(200, pg_catalog.jsonb_build_object('Content-Type', 'multipart/mixed; boundary=' || boundary)
                  || lms.xapi_version_header(ver) || extra,
             out)::lms.xapi_response;
END
$$;

-- GET: one statement by statementId / voidedStatementId, or a StatementResult page with
-- `more` (a cursor carrying the filters and the last seq: the next page is one index range).
CREATE FUNCTION lms.xapi_statements_read(r lms.xapi_request) RETURNS lms.xapi_response
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  q jsonb := r.query;
  sid text := coalesce(q->>'statementId', q->>'voidedStatementId');
  p record;
  f lms.xapi_filter;
  s record;
  page text;
  last_seq bigint;
  n int := 0;
  langs text[] := lms.xapi_accept_languages(r.headers->>'accept-language');
  hdr jsonb := '{}';
  doc jsonb;
BEGIN
  IF sid IS NOT NULL THEN
    IF q ? 'statementId' AND q ? 'voidedStatementId' OR EXISTS (SELECT FROM pg_catalog.jsonb_object_keys(q) k
                WHERE k NOT IN ('statementId', 'voidedStatementId', 'format', 'attachments')) THEN
      RETURN lms.xapi_bad_request('statementId and voidedStatementId take no other parameter but format and attachments.', r.ver);
    END IF;
    IF NOT lms.xapi_is_uuid(sid) THEN RETURN lms.xapi_bad_request('The statement id must be a UUID.', r.ver); END IF;
    p := lms.xapi_filter_parse(q - '{statementId,voidedStatementId}'::text[]);
    IF p.err IS NOT NULL THEN RETURN lms.xapi_bad_request(p.err, r.ver); END IF;
    SELECT x.statement, x.stored INTO s FROM lms.xapi_statements x
     WHERE x.id = sid::uuid AND x.voided = (q ? 'voidedStatementId');
    IF s.statement IS NULL THEN RETURN lms.xapi_problem(404, 'not_found', 'No such statement.', r.ver); END IF;
    doc := lms.xapi_format(s.statement, (p.f).format, langs);
    hdr := hdr || pg_catalog.jsonb_build_object('Last-Modified', lms.http_date(s.stored));
    IF (p.f).attachments THEN RETURN lms.xapi_multipart(doc, pg_catalog.jsonb_build_array(s.statement), r.ver, hdr); END IF;
    RETURN lms.xapi_json(200, doc, r.ver, hdr);
  END IF;
  IF q ? 'more' THEN
    IF (SELECT count(*) FROM pg_catalog.jsonb_object_keys(q)) > 1 THEN
      RETURN lms.xapi_bad_request('more takes no other parameter.', r.ver);
    END IF;
    BEGIN
      f := pg_catalog.jsonb_populate_record(NULL::lms.xapi_filter,
             pg_catalog.convert_from(lms.base64url_decode(q->>'more'), 'UTF8')::jsonb);
    EXCEPTION WHEN others THEN
      RETURN lms.xapi_bad_request('The more cursor is not one this LRS gave.', r.ver);
    END;
    IF f.lim IS NULL OR f.after IS NULL THEN RETURN lms.xapi_bad_request('The more cursor is not one this LRS gave.', r.ver); END IF;
  ELSE
    p := lms.xapi_filter_parse(q);
    IF p.err IS NOT NULL THEN RETURN lms.xapi_bad_request(p.err, r.ver); END IF;
    f := p.f;
  END IF;
  -- the page and one row more (is there a next page?), in one pass; the answer is written as
  -- text, statement by statement, exactly as jsonb would print {"more": ..., "statements": [...]}
  -- (an aggregate of jsonb values re-reads every token of every statement)
  SELECT coalesce(pg_catalog.string_agg(lms.xapi_format(x.statement, f.format, langs)::text, ', ' ORDER BY x.o) FILTER (WHERE x.o <= f.lim), ''),
         count(*), max(x.seq) FILTER (WHERE x.o = f.lim)
    INTO page, n, last_seq
    FROM lms.xapi_query(f) WITH ORDINALITY x(seq, statement, o);
  page := '{"more": ' || pg_catalog.to_jsonb(
            CASE WHEN n > f.lim THEN '/xapi/statements?more='
                   || lms.base64url_encode(pg_catalog.convert_to(pg_catalog.jsonb_strip_nulls(
                        pg_catalog.to_jsonb(f) || pg_catalog.jsonb_build_object('after', last_seq))::text, 'UTF8'))
                 ELSE '' END)::text
          || ', "statements": [' || page || ']}';
  IF f.attachments THEN
    doc := page::jsonb;
    RETURN lms.xapi_multipart(doc, doc->'statements', r.ver, hdr);
  END IF;
  RETURN lms.xapi_json_text(200, page, r.ver, hdr);
END
$$;

-- /xapi/statements: PUT, POST, GET (HEAD arrives as GET).
CREATE FUNCTION lms.api_xapi_statements(method text, query jsonb, headers jsonb, body bytea)
RETURNS lms.xapi_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r lms.xapi_request := lms.xapi_begin(method, query, headers, body,
    '{statementId,voidedStatementId,agent,verb,activity,registration,related_activities,related_agents,since,until,limit,format,attachments,ascending,more}');
  a lms.xapi_response;
BEGIN
  IF r.method IN ('GET', 'HEAD') THEN
    -- every answer to a GET says how far the reader's view is consistent, refusals included
    a := CASE WHEN (r.problem).status IS NOT NULL THEN r.problem ELSE lms.xapi_statements_read(r) END;
    a.headers := a.headers || pg_catalog.jsonb_build_object('X-Experience-API-Consistent-Through', lms.xapi_consistent_through());
    RETURN a;
  END IF;
  IF (r.problem).status IS NOT NULL THEN RETURN r.problem; END IF;
  RETURN CASE r.method
           WHEN 'PUT' THEN lms.xapi_statements_write(r)
           WHEN 'POST' THEN lms.xapi_statements_write(r)
           ELSE lms.xapi_problem(405, 'method_not_allowed', 'The statement resource answers GET, HEAD, PUT and POST.', r.ver) END;
END
$$;

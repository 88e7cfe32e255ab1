-- xAPI statements: identifiers, storage rules (immutability, conflicts, voiding), the link
-- rows behind the filters, and the query that pages through them by a stable cursor.

-- The inverse functional identifier of an Agent or Group as one string (the key of
-- lms.xapi_statement_agents and of agent documents); NULL for an anonymous Group.
CREATE FUNCTION lms.xapi_ifi(a jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN a ? 'mbox' THEN 'mbox:' || (a->>'mbox')
            WHEN a ? 'mbox_sha1sum' THEN 'mbox_sha1sum:' || lower(a->>'mbox_sha1sum')
            WHEN a ? 'openid' THEN 'openid:' || (a->>'openid')
            WHEN a ? 'account' THEN 'account:' || (a->'account'->>'homePage') || ' ' || (a->'account'->>'name') END;

-- contextActivities values are stored (and returned) as arrays, even when sent as one object.
CREATE FUNCTION lms.xapi_context_as_arrays(c jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN pg_catalog.jsonb_set(c, '{contextActivities}',
         (SELECT coalesce(pg_catalog.jsonb_object_agg(key, CASE WHEN pg_catalog.jsonb_typeof(value) = 'array'
                                                                THEN value ELSE pg_catalog.jsonb_build_array(value) END), '{}')
            FROM pg_catalog.jsonb_each(c->'contextActivities')));

-- A context as it is stored; without a sub-select when nothing changes, so that it inlines.
CREATE FUNCTION lms.xapi_normalize_context(c jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN pg_catalog.jsonb_typeof(c->'contextActivities') = 'object'
             AND pg_catalog.jsonb_path_exists(c->'contextActivities', 'strict $.* ? (@.type() != "array")')
            THEN lms.xapi_context_as_arrays(c)
            ELSE c END;

-- A valid statement as sent, normalized the way it is stored (before id, stored and so on).
CREATE FUNCTION lms.xapi_normalize(s jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN s->'object'->>'objectType' = 'SubStatement' AND s->'object' ? 'context'
            THEN pg_catalog.jsonb_set(s, '{object,context}', lms.xapi_normalize_context(s->'object'->'context'))
            ELSE s END
       || CASE WHEN s ? 'context' THEN pg_catalog.jsonb_build_object('context', lms.xapi_normalize_context(s->'context'))
               ELSE '{}' END;

-- A statement as it is compared: without what the LRS sets itself, and with result.duration
-- cut to hundredths of a second (xAPI 2.0: finer precision is not compared).
CREATE FUNCTION lms.xapi_comparable(s jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN pg_catalog.jsonb_typeof(s->'result'->'duration') = 'string'
            THEN pg_catalog.jsonb_set(s, '{result,duration}', pg_catalog.to_jsonb(
                   pg_catalog.regexp_replace(s->'result'->>'duration', '(\.[0-9]{1,2})[0-9]*S$', '\1S')))
            ELSE s END - '{stored,authority,version,timestamp}'::text[];

-- What two statements with the same id must agree on to be "the same statement".
CREATE FUNCTION lms.xapi_same_statement(stored jsonb, sent jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN lms.xapi_comparable(stored) = lms.xapi_comparable(lms.xapi_normalize(sent))
   AND (NOT sent ? 'timestamp' OR lms.xapi_timestamp(stored->'timestamp') = lms.xapi_timestamp(sent->'timestamp'));

-- The agents a statement is about: (ifi, direct). Direct: the actor, and the object when it is
-- an Agent or Group; related: group members, authority, instructor, team, sub-statement agents.
CREATE FUNCTION lms.xapi_statement_agent_links(s jsonb) RETURNS TABLE (agent text, direct boolean)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT x.ifi, bool_or(x.direct)
    FROM (SELECT lms.xapi_ifi(s->'actor') AS ifi, true AS direct
          UNION ALL SELECT lms.xapi_ifi(s->'object'), true WHERE s->'object'->>'objectType' IN ('Agent', 'Group')
          UNION ALL SELECT lms.xapi_ifi(m), false FROM pg_catalog.jsonb_array_elements(
                      CASE WHEN pg_catalog.jsonb_typeof(s->'actor'->'member') = 'array' THEN s->'actor'->'member' ELSE '[]' END) m
          UNION ALL SELECT lms.xapi_ifi(p), false
            FROM pg_catalog.jsonb_array_elements(pg_catalog.jsonb_build_array(
                   s->'authority', s->'context'->'instructor', s->'context'->'team',
                   s->'object'->'actor', s->'object'->'object', s->'object'->'context'->'instructor',
                   s->'object'->'context'->'team')) p
           WHERE pg_catalog.jsonb_typeof(p) = 'object') x
   WHERE x.ifi IS NOT NULL
   GROUP BY x.ifi;
END;

-- The activities a statement is about: (id, direct). Direct: the object; related: context
-- activities and the sub-statement's object and context activities.
CREATE FUNCTION lms.xapi_statement_activity_links(s jsonb) RETURNS TABLE (activity text, direct boolean)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT x.id, bool_or(x.direct)
    FROM (SELECT s->'object'->>'id' AS id, true AS direct WHERE coalesce(s->'object'->>'objectType', 'Activity') = 'Activity'
          UNION ALL SELECT s->'object'->'object'->>'id', false
           WHERE s->'object'->>'objectType' = 'SubStatement' AND coalesce(s->'object'->'object'->>'objectType', 'Activity') = 'Activity'
          UNION ALL SELECT a->>'id', false
            FROM pg_catalog.jsonb_each(coalesce(s->'context'->'contextActivities', '{}') || '{}') c(k, v),
                 pg_catalog.jsonb_array_elements(c.v) a
          UNION ALL SELECT a->>'id', false
            FROM pg_catalog.jsonb_each(CASE WHEN s->'object'->>'objectType' = 'SubStatement'
                                            THEN coalesce(s->'object'->'context'->'contextActivities', '{}') ELSE '{}' END) c(k, v),
                 pg_catalog.jsonb_array_elements(c.v) a) x
   WHERE x.id IS NOT NULL
   GROUP BY x.id;
END;

-- Remember the richest definition of every activity a stored statement carries (GET
-- /activities answers with it): a new definition's properties overwrite the old ones', and
-- language maps merge, so two statements with different languages give both.
CREATE FUNCTION lms.xapi_merge_definition(old jsonb, new jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (SELECT coalesce(pg_catalog.jsonb_object_agg(k,
          CASE WHEN k IN ('name', 'description') AND pg_catalog.jsonb_typeof(old->k) = 'object' AND pg_catalog.jsonb_typeof(new->k) = 'object'
               THEN (old->k) || (new->k) ELSE coalesce(new->k, old->k) END), '{}')
          FROM (SELECT pg_catalog.jsonb_object_keys(coalesce(old, '{}') || coalesce(new, '{}')) k) ks);

-- The definitions of one activity in one batch, merged in statement order.
CREATE FUNCTION lms.xapi_merge_definitions(defs jsonb[]) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  d jsonb;
  out jsonb := '{}';
BEGIN
  FOREACH d IN ARRAY defs LOOP
    out := lms.xapi_merge_definition(out, d);
  END LOOP;
  RETURN out;
END
$$;

-- Store a batch of valid, normalized statements in one transaction (one statement, no
-- temporary table). Each element of `batch` already has its id. Existing ids: the same
-- statement again is a no-op, a different one is refused (unique_violation, the id in the
-- detail: 409); a voiding statement marks its target voided, and may not target a voiding
-- statement; an id twice in the batch is refused (both invalid_parameter_value: 400).
-- Returns the ids in order.
CREATE FUNCTION lms.xapi_store(batch jsonb, client bigint, authority jsonb, ver text) RETURNS uuid[]
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  now_ts timestamptz := lms.clock();
  stored_txt text := lms.iso(now_ts);
  conflict uuid;
  ids uuid[];
BEGIN
  SELECT pg_catalog.array_agg((e->>'id')::uuid ORDER BY o) INTO ids
    FROM pg_catalog.jsonb_array_elements(batch) WITH ORDINALITY AS t(e, o);
  -- an id twice in one batch is refused; an id already stored must be the same statement
  IF (SELECT count(DISTINCT e->>'id') FROM pg_catalog.jsonb_array_elements(batch) e) < pg_catalog.jsonb_array_length(batch) THEN
    RAISE invalid_parameter_value USING MESSAGE = 'a statement id appears twice in the batch',
      DETAIL = 'Every statement of a batch must have its own id.';
  END IF;
  SELECT x.id INTO conflict FROM pg_catalog.jsonb_array_elements(batch) b(e)
    JOIN lms.xapi_statements x ON x.id = (b.e->>'id')::uuid
   WHERE NOT lms.xapi_same_statement(x.statement, b.e) LIMIT 1;
  IF conflict IS NOT NULL THEN
    RAISE unique_violation USING MESSAGE = 'statement id already used',
      DETAIL = 'A different statement with id ' || conflict || ' is already stored.';
  END IF;
  IF EXISTS (SELECT FROM pg_catalog.jsonb_array_elements(batch) b(e)
               JOIN lms.xapi_statements t ON t.id = (b.e->'object'->>'id')::uuid
              WHERE b.e->'verb'->>'id' = 'http://adlnet.gov/expapi/verbs/voided' AND t.voids IS NOT NULL) THEN
    RAISE invalid_parameter_value USING MESSAGE = 'a voiding statement cannot be voided',
      DETAIL = 'The target of a voiding statement is itself a voiding statement.';
  END IF;
  -- each new statement as it is stored: with stored, authority, version and timestamp set
  WITH b AS (
    SELECT DISTINCT ON ((e->>'id')::uuid) (e->>'id')::uuid AS id,
           e || pg_catalog.jsonb_build_object('stored', stored_txt, 'authority', authority,
                  'version', coalesce(e->>'version', CASE WHEN ver LIKE '2.%' THEN '2.0.0' ELSE '1.0.0' END),
                  'timestamp', coalesce(e->'timestamp', pg_catalog.to_jsonb(stored_txt))) AS s, o
      FROM pg_catalog.jsonb_array_elements(batch) WITH ORDINALITY t(e, o)
     WHERE NOT EXISTS (SELECT FROM lms.xapi_statements x WHERE x.id = (e->>'id')::uuid)
     ORDER BY (e->>'id')::uuid, o),
  ins AS (
    INSERT INTO lms.xapi_statements (id, statement, verb_id, registration, stored, voids, client_id, target_verb)
    SELECT b.id, b.s, b.s->'verb'->>'id', (b.s->'context'->>'registration')::uuid, now_ts,
           CASE WHEN b.s->'verb'->>'id' = 'http://adlnet.gov/expapi/verbs/voided' THEN (b.s->'object'->>'id')::uuid END,
           client, t.verb_id
      FROM b LEFT JOIN lms.xapi_statements t
             ON t.id = CASE WHEN b.s->'object'->>'objectType' = 'StatementRef' THEN (b.s->'object'->>'id')::uuid END
     ORDER BY b.o
    RETURNING seq, statement, voids,
              CASE WHEN statement->'object'->>'objectType' = 'StatementRef' THEN (statement->'object'->>'id')::uuid END AS target),
  tgt AS (
    SELECT ins.seq, t.seq AS target_seq FROM ins JOIN lms.xapi_statements t ON t.id = ins.target),
  ag AS (
    INSERT INTO lms.xapi_statement_agents (agent, seq, direct)
    SELECT x.agent, x.seq, bool_or(x.direct)
      FROM (SELECT l.agent, ins.seq, l.direct FROM ins, lms.xapi_statement_agent_links(ins.statement) l
            UNION ALL
            SELECT a.agent, tgt.seq, a.direct FROM tgt JOIN lms.xapi_statement_agents a ON a.seq = tgt.target_seq) x
     GROUP BY x.agent, x.seq),
  ac AS (
    INSERT INTO lms.xapi_statement_activities (activity, seq, direct)
    SELECT x.activity, x.seq, bool_or(x.direct)
      FROM (SELECT l.activity, ins.seq, l.direct FROM ins, lms.xapi_statement_activity_links(ins.statement) l
            UNION ALL
            SELECT a.activity, tgt.seq, a.direct FROM tgt JOIN lms.xapi_statement_activities a ON a.seq = tgt.target_seq) x
     GROUP BY x.activity, x.seq),
  vd AS (
    UPDATE lms.xapi_statements t SET voided = true
      FROM ins WHERE t.id = ins.voids AND t.voids IS NULL)
  -- an activity already stored is written (and so locked) only when this batch changes its
  -- definition: ON CONFLICT DO UPDATE locks the row even when its WHERE is false, and
  -- concurrent batches naming the same course as parent queued on that row to the end of
  -- their transactions. Definitions are merged only for a new activity or when the batch
  -- brings one that is neither empty nor the stored one (the usual repeat merges nothing).
  INSERT INTO lms.xapi_activities AS a (id, definition, updated_at)
  SELECT n.id, n.def, now_ts
    FROM (SELECT d.id, cur.id IS NULL AS new, cur.definition AS stored_def,
                 lms.xapi_merge_definitions(pg_catalog.array_agg(d.def ORDER BY d.o)) AS def
            FROM (SELECT x->>'id' AS id, coalesce(x->'definition', '{}') AS def, b.o
                    FROM b, pg_catalog.jsonb_array_elements(pg_catalog.jsonb_build_array(b.s->'object')
                           || coalesce(b.s->'context'->'contextActivities'->'parent', '[]')
                           || coalesce(b.s->'context'->'contextActivities'->'grouping', '[]')
                           || coalesce(b.s->'context'->'contextActivities'->'category', '[]')
                           || coalesce(b.s->'context'->'contextActivities'->'other', '[]')) x
                   WHERE coalesce(x->>'objectType', 'Activity') = 'Activity' AND x ? 'id') d
            LEFT JOIN lms.xapi_activities cur ON cur.id = d.id
           GROUP BY d.id, cur.id, cur.definition
          HAVING cur.id IS NULL OR bool_or(d.def <> '{}' AND d.def <> cur.definition)) n
   WHERE n.new
      OR (n.def <> '{}' AND n.def <> n.stored_def AND lms.xapi_merge_definition(n.stored_def, n.def) <> n.stored_def)
   ORDER BY n.id
  ON CONFLICT (id) DO UPDATE SET definition = lms.xapi_merge_definition(a.definition, excluded.definition),
                                 updated_at = excluded.updated_at
   WHERE excluded.definition <> '{}';
  RETURN ids;
END
$$;

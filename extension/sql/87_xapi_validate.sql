-- xAPI data rules: the one home of what makes a statement, an agent, an activity or a
-- parameter valid (xAPI 1.0.3 "Data" part, and 2.0.0 where it differs). Each check returns
-- NULL when the value is valid, else the reason as a sentence (the 400 answer's detail).

-- An IRI/IRL: an absolute reference with a scheme and no white space.
CREATE FUNCTION lms.xapi_is_iri(v jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(pg_catalog.jsonb_typeof(v) = 'string' AND (v #>> '{}') ~ '^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$', false);

-- A UUID in its standard string form (any version).
CREATE FUNCTION lms.xapi_is_uuid(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(v ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$', false);

-- An RFC 5646 language tag (the shape, not the registry).
CREATE FUNCTION lms.xapi_is_language(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(v ~ '^(([A-Za-z]{2,3}(-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?(-([A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*(-[0-9A-WY-Za-wy-z](-[A-Za-z0-9]{2,8})+)*(-[xX](-[A-Za-z0-9]{1,8})+)?|[xX](-[A-Za-z0-9]{1,8})+|i-[A-Za-z]+)$', false);

-- An ISO 8601 duration (PnYnMnDTnHnMnS with at least one part, or PnW alone).
CREATE FUNCTION lms.xapi_is_duration(v jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(pg_catalog.jsonb_typeof(v) = 'string'
   AND ((v #>> '{}') ~ '^P(?=[0-9T])([0-9]+(\.[0-9]+)?Y)?([0-9]+(\.[0-9]+)?M)?([0-9]+(\.[0-9]+)?D)?(T(?=[0-9])([0-9]+(\.[0-9]+)?H)?([0-9]+(\.[0-9]+)?M)?([0-9]+(\.[0-9]+)?S)?)?$'
        OR (v #>> '{}') ~ '^P[0-9]+(\.[0-9]+)?W$'), false);

-- An ISO 8601 date-time with a time zone that PostgreSQL can read; NULL when it is not one.
-- xAPI 1.0.3 forbids the offset -00:00 (RFC 3339's "unknown local offset").
CREATE FUNCTION lms.xapi_timestamp(v jsonb) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  s text := v #>> '{}';
BEGIN
  IF pg_catalog.jsonb_typeof(v) <> 'string'
     OR s !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)$'
     OR s ~ '-00(:?00)?$' THEN
    RETURN NULL;
  END IF;
  RETURN s::timestamptz;
EXCEPTION WHEN others THEN
  RETURN NULL;
END
$$;

-- Unknown keys or null values in an object: the first offending key, else NULL.
CREATE FUNCTION lms.xapi_bad_key_found(o jsonb, allowed text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (SELECT k FROM pg_catalog.jsonb_each(o) AS e(k, v)
         WHERE k <> ALL (allowed) OR pg_catalog.jsonb_typeof(v) = 'null' LIMIT 1);

-- The same, with the answer for a valid object (the usual case) in one expression that the
-- planner inlines: a call of a function with a sub-select costs an executor start each time,
-- ten times per statement.
CREATE FUNCTION lms.xapi_bad_key(o jsonb, allowed text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN pg_catalog.jsonb_typeof(o) = 'object' AND (o OPERATOR(pg_catalog.-) allowed) = '{}'::jsonb
                 AND NOT pg_catalog.jsonb_path_exists(o, 'strict $.* ? (@ == null)')
            THEN NULL ELSE lms.xapi_bad_key_found(o, allowed) END;

-- A language map: an object of language tag -> string.
CREATE FUNCTION lms.xapi_langmap_error(m jsonb, field text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN m IS NULL THEN NULL
            WHEN pg_catalog.jsonb_typeof(m) <> 'object' THEN field || ' must be a language map'
            ELSE (SELECT field || ' has an invalid language tag or a value that is not a string: ' || k
                    FROM pg_catalog.jsonb_each(m) AS e(k, v)
                   WHERE NOT lms.xapi_is_language(k) OR pg_catalog.jsonb_typeof(v) <> 'string' LIMIT 1) END;

-- Extensions: an object whose keys are IRIs (values are free, null included).
CREATE FUNCTION lms.xapi_extensions_error(x jsonb, field text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN x IS NULL THEN NULL
            WHEN pg_catalog.jsonb_typeof(x) <> 'object' THEN field || ' must be an object'
            ELSE (SELECT field || ' keys must be IRIs: ' || k FROM pg_catalog.jsonb_object_keys(x) k
                   WHERE NOT lms.xapi_is_iri(pg_catalog.to_jsonb(k)) LIMIT 1) END;

-- An Agent (group_ok false) or an Agent or Group (group_ok true), with exactly one inverse
-- functional identifier (an anonymous Group may have none but then lists its members).
CREATE FUNCTION lms.xapi_agent_error(a jsonb, field text, group_ok boolean DEFAULT true) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  ot text := a->>'objectType';
  k text;
  n int;
  m jsonb;
  e text;
BEGIN
  IF pg_catalog.jsonb_typeof(a) IS DISTINCT FROM 'object' THEN RETURN field || ' must be an object'; END IF;
  IF ot IS NOT NULL AND ot NOT IN ('Agent', 'Group') OR (ot = 'Group' AND NOT group_ok) THEN
    RETURN field || ' has an invalid objectType';
  END IF;
  k := lms.xapi_bad_key(a, CASE WHEN ot = 'Group'
                                THEN '{objectType,name,mbox,mbox_sha1sum,openid,account,member}'::text[]
                                ELSE '{objectType,name,mbox,mbox_sha1sum,openid,account}'::text[] END);
  IF k IS NOT NULL THEN RETURN field || ' has an unknown or null property: ' || k; END IF;
  IF a ? 'name' AND pg_catalog.jsonb_typeof(a->'name') <> 'string' THEN RETURN field || '.name must be a string'; END IF;
  n := (a ? 'mbox')::int + (a ? 'mbox_sha1sum')::int + (a ? 'openid')::int + (a ? 'account')::int;
  IF n > 1 THEN RETURN field || ' has more than one inverse functional identifier'; END IF;
  IF n = 0 AND NOT (ot = 'Group' AND a ? 'member') THEN
    RETURN field || ' needs exactly one of mbox, mbox_sha1sum, openid, account';
  END IF;
  IF a ? 'mbox' AND (pg_catalog.jsonb_typeof(a->'mbox') <> 'string' OR (a->>'mbox') !~ '^mailto:[^@\s:/]+@[^@\s]+$') THEN
    RETURN field || '.mbox must be a mailto IRI';
  END IF;
  IF a ? 'mbox_sha1sum' AND (pg_catalog.jsonb_typeof(a->'mbox_sha1sum') <> 'string' OR (a->>'mbox_sha1sum') !~ '^[0-9a-fA-F]{40}$') THEN
    RETURN field || '.mbox_sha1sum must be a SHA-1 hex digest';
  END IF;
  IF a ? 'openid' AND NOT lms.xapi_is_iri(a->'openid') THEN RETURN field || '.openid must be a URI'; END IF;
  IF a ? 'account' THEN
    m := a->'account';
    IF pg_catalog.jsonb_typeof(m) <> 'object' OR lms.xapi_bad_key(m, '{homePage,name}') IS NOT NULL
       OR NOT lms.xapi_is_iri(m->'homePage') OR pg_catalog.jsonb_typeof(m->'name') IS DISTINCT FROM 'string' THEN
      RETURN field || '.account must be {homePage (IRL), name (string)}';
    END IF;
  END IF;
  IF ot = 'Group' AND a ? 'member' THEN
    IF pg_catalog.jsonb_typeof(a->'member') <> 'array' THEN RETURN field || '.member must be an array'; END IF;
    FOR m IN SELECT v FROM pg_catalog.jsonb_array_elements(a->'member') v LOOP
      e := lms.xapi_agent_error(m, field || '.member', false);
      IF e IS NOT NULL THEN RETURN e; END IF;
    END LOOP;
  END IF;
  RETURN NULL;
END
$$;

-- One interaction component list (choices, scale, source, target, steps).
CREATE FUNCTION lms.xapi_components_error(c jsonb, field text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN c IS NULL THEN NULL
            WHEN pg_catalog.jsonb_typeof(c) <> 'array' THEN field || ' must be an array'
            ELSE coalesce(
              (SELECT field || ' items must be {id (string), description (language map)}'
                 FROM pg_catalog.jsonb_array_elements(c) x
                WHERE pg_catalog.jsonb_typeof(x) <> 'object' OR lms.xapi_bad_key(x, '{id,description}') IS NOT NULL
                   OR pg_catalog.jsonb_typeof(x->'id') IS DISTINCT FROM 'string'
                   OR lms.xapi_langmap_error(x->'description', field) IS NOT NULL LIMIT 1),
              (SELECT field || ' ids must be unique' WHERE
                 (SELECT count(DISTINCT x->>'id') FROM pg_catalog.jsonb_array_elements(c) x) <> pg_catalog.jsonb_array_length(c))) END;

-- An Activity: {objectType?, id (IRI), definition?}.
CREATE FUNCTION lms.xapi_activity_error(a jsonb, field text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  d jsonb := a->'definition';
  k text;
  it text;
  comp text;
BEGIN
  IF pg_catalog.jsonb_typeof(a) IS DISTINCT FROM 'object' THEN RETURN field || ' must be an object'; END IF;
  k := lms.xapi_bad_key(a, '{objectType,id,definition}');
  IF k IS NOT NULL THEN RETURN field || ' has an unknown or null property: ' || k; END IF;
  IF a ? 'objectType' AND a->>'objectType' IS DISTINCT FROM 'Activity' THEN RETURN field || '.objectType must be Activity'; END IF;
  IF NOT lms.xapi_is_iri(a->'id') THEN RETURN field || '.id must be an IRI'; END IF;
  IF d IS NULL THEN RETURN NULL; END IF;
  IF pg_catalog.jsonb_typeof(d) <> 'object' THEN RETURN field || '.definition must be an object'; END IF;
  k := lms.xapi_bad_key(d, '{name,description,type,moreInfo,extensions,interactionType,correctResponsesPattern,choices,scale,source,target,steps}');
  IF k IS NOT NULL THEN RETURN field || '.definition has an unknown or null property: ' || k; END IF;
  k := coalesce(lms.xapi_langmap_error(d->'name', field || '.definition.name'),
                lms.xapi_langmap_error(d->'description', field || '.definition.description'),
                lms.xapi_extensions_error(d->'extensions', field || '.definition.extensions'));
  IF k IS NOT NULL THEN RETURN k; END IF;
  IF d ? 'type' AND NOT lms.xapi_is_iri(d->'type') THEN RETURN field || '.definition.type must be an IRI'; END IF;
  IF d ? 'moreInfo' AND NOT lms.xapi_is_iri(d->'moreInfo') THEN RETURN field || '.definition.moreInfo must be an IRL'; END IF;
  it := d->>'interactionType';
  IF d ? 'interactionType' AND (pg_catalog.jsonb_typeof(d->'interactionType') <> 'string' OR it NOT IN
      ('true-false', 'choice', 'fill-in', 'long-fill-in', 'matching', 'performance', 'sequencing', 'likert', 'numeric', 'other')) THEN
    RETURN field || '.definition.interactionType is not an interaction type';
  END IF;
  IF d ? 'correctResponsesPattern' THEN
    IF it IS NULL THEN RETURN field || '.definition.correctResponsesPattern needs an interactionType'; END IF;
    IF pg_catalog.jsonb_typeof(d->'correctResponsesPattern') <> 'array'
       OR EXISTS (SELECT FROM pg_catalog.jsonb_array_elements(d->'correctResponsesPattern') x WHERE pg_catalog.jsonb_typeof(x) <> 'string') THEN
      RETURN field || '.definition.correctResponsesPattern must be an array of strings';
    END IF;
  END IF;
  FOREACH comp IN ARRAY '{choices,scale,source,target,steps}'::text[] LOOP
    IF d ? comp THEN
      IF it IS NULL THEN RETURN field || '.definition.' || comp || ' needs an interactionType'; END IF;
      IF NOT ((comp = 'choices' AND it IN ('choice', 'sequencing')) OR (comp = 'scale' AND it = 'likert')
              OR (comp IN ('source', 'target') AND it = 'matching') OR (comp = 'steps' AND it = 'performance')) THEN
        RETURN field || '.definition.' || comp || ' is not used by interactionType ' || it;
      END IF;
      k := lms.xapi_components_error(d->comp, field || '.definition.' || comp);
      IF k IS NOT NULL THEN RETURN k; END IF;
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;

-- A StatementRef: {objectType: "StatementRef", id: UUID}.
CREATE FUNCTION lms.xapi_statementref_error(o jsonb, field text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN pg_catalog.jsonb_typeof(o) IS DISTINCT FROM 'object' THEN field || ' must be an object'
            WHEN lms.xapi_bad_key(o, '{objectType,id}') IS NOT NULL OR o->>'objectType' IS DISTINCT FROM 'StatementRef'
              OR pg_catalog.jsonb_typeof(o->'id') IS DISTINCT FROM 'string' OR NOT lms.xapi_is_uuid(o->>'id')
              THEN field || ' must be {objectType: StatementRef, id: UUID}' END;

-- Result: score, success, completion, response, duration, extensions.
CREATE FUNCTION lms.xapi_result_error(r jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  s jsonb := r->'score';
  k text;
BEGIN
  IF r IS NULL THEN RETURN NULL; END IF;
  IF pg_catalog.jsonb_typeof(r) <> 'object' THEN RETURN 'result must be an object'; END IF;
  k := lms.xapi_bad_key(r, '{score,success,completion,response,duration,extensions}');
  IF k IS NOT NULL THEN RETURN 'result has an unknown or null property: ' || k; END IF;
  IF r ? 'success' AND pg_catalog.jsonb_typeof(r->'success') <> 'boolean' THEN RETURN 'result.success must be a boolean'; END IF;
  IF r ? 'completion' AND pg_catalog.jsonb_typeof(r->'completion') <> 'boolean' THEN RETURN 'result.completion must be a boolean'; END IF;
  IF r ? 'response' AND pg_catalog.jsonb_typeof(r->'response') <> 'string' THEN RETURN 'result.response must be a string'; END IF;
  IF r ? 'duration' AND NOT lms.xapi_is_duration(r->'duration') THEN RETURN 'result.duration must be an ISO 8601 duration'; END IF;
  k := lms.xapi_extensions_error(r->'extensions', 'result.extensions');
  IF k IS NOT NULL THEN RETURN k; END IF;
  IF s IS NULL THEN RETURN NULL; END IF;
  IF pg_catalog.jsonb_typeof(s) <> 'object' THEN RETURN 'result.score must be an object'; END IF;
  k := lms.xapi_bad_key(s, '{scaled,raw,min,max}');
  IF k IS NOT NULL THEN RETURN 'result.score has an unknown or null property: ' || k; END IF;
  IF EXISTS (SELECT FROM pg_catalog.jsonb_each(s) e WHERE pg_catalog.jsonb_typeof(e.value) <> 'number') THEN
    RETURN 'result.score values must be numbers';
  END IF;
  IF s ? 'scaled' AND (s->>'scaled')::numeric NOT BETWEEN -1 AND 1 THEN RETURN 'result.score.scaled must be between -1 and 1'; END IF;
  IF s ? 'min' AND s ? 'max' AND (s->>'min')::numeric >= (s->>'max')::numeric THEN RETURN 'result.score.min must be less than max'; END IF;
  IF s ? 'raw' AND s ? 'min' AND (s->>'raw')::numeric < (s->>'min')::numeric THEN RETURN 'result.score.raw must not be below min'; END IF;
  IF s ? 'raw' AND s ? 'max' AND (s->>'raw')::numeric > (s->>'max')::numeric THEN RETURN 'result.score.raw must not be above max'; END IF;
  RETURN NULL;
END
$$;

-- xAPI 2.0 context.contextAgents / context.contextGroups: arrays of {objectType, agent|group,
-- relevantTypes?}; a contextAgent holds an Agent, a contextGroup a Group.
CREATE FUNCTION lms.xapi_context_actors_error(list jsonb, object_type text, member text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  field text := 'context.' || object_type || 's';
  x jsonb;
  e text;
BEGIN
  IF list IS NULL THEN RETURN NULL; END IF;
  IF pg_catalog.jsonb_typeof(list) <> 'array' THEN RETURN field || ' must be an array'; END IF;
  FOR x IN SELECT v FROM pg_catalog.jsonb_array_elements(list) v LOOP
    IF pg_catalog.jsonb_typeof(x) <> 'object' OR lms.xapi_bad_key(x, ARRAY['objectType', member, 'relevantTypes']) IS NOT NULL
       OR x->>'objectType' IS DISTINCT FROM object_type
       OR (member = 'group' AND x->'group'->>'objectType' IS DISTINCT FROM 'Group') THEN
      RETURN field || ' items must be ' || object_type || ' objects';
    END IF;
    e := lms.xapi_agent_error(x->member, field || '.' || member, member = 'group');
    IF e IS NOT NULL THEN RETURN e; END IF;
    IF x ? 'relevantTypes' AND (pg_catalog.jsonb_typeof(x->'relevantTypes') <> 'array' OR pg_catalog.jsonb_array_length(x->'relevantTypes') = 0
        OR EXISTS (SELECT FROM pg_catalog.jsonb_array_elements(x->'relevantTypes') t WHERE NOT lms.xapi_is_iri(t))) THEN
      RETURN field || '.relevantTypes must be a non-empty array of IRIs';
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;

-- Context; object_is_activity: revision and platform are only allowed on an Activity object.
CREATE FUNCTION lms.xapi_context_error(c jsonb, object_is_activity boolean, ver text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  ca jsonb := c->'contextActivities';
  k text;
  e text;
  x jsonb;
BEGIN
  IF c IS NULL THEN RETURN NULL; END IF;
  IF pg_catalog.jsonb_typeof(c) <> 'object' THEN RETURN 'context must be an object'; END IF;
  k := lms.xapi_bad_key(c, CASE WHEN ver LIKE '2.%'
         THEN '{registration,instructor,team,contextActivities,contextAgents,contextGroups,revision,platform,language,statement,extensions}'::text[]
         ELSE '{registration,instructor,team,contextActivities,revision,platform,language,statement,extensions}'::text[] END);
  IF k IS NOT NULL THEN RETURN 'context has an unknown or null property: ' || k; END IF;
  IF c ? 'registration' AND (pg_catalog.jsonb_typeof(c->'registration') <> 'string' OR NOT lms.xapi_is_uuid(c->>'registration')) THEN
    RETURN 'context.registration must be a UUID';
  END IF;
  IF c ? 'instructor' THEN
    e := lms.xapi_agent_error(c->'instructor', 'context.instructor');
    IF e IS NOT NULL THEN RETURN e; END IF;
  END IF;
  IF c ? 'team' THEN
    IF c->'team'->>'objectType' IS DISTINCT FROM 'Group' THEN RETURN 'context.team must be a Group'; END IF;
    e := lms.xapi_agent_error(c->'team', 'context.team');
    IF e IS NOT NULL THEN RETURN e; END IF;
  END IF;
  IF ca IS NOT NULL THEN
    IF pg_catalog.jsonb_typeof(ca) <> 'object' THEN RETURN 'context.contextActivities must be an object'; END IF;
    k := lms.xapi_bad_key(ca, '{parent,grouping,category,other}');
    IF k IS NOT NULL THEN RETURN 'context.contextActivities has an unknown or null property: ' || k; END IF;
    FOR k, x IN SELECT key, value FROM pg_catalog.jsonb_each(ca) LOOP
      IF pg_catalog.jsonb_typeof(x) = 'array' THEN
        SELECT lms.xapi_activity_error(v, 'context.contextActivities.' || k) INTO e
          FROM pg_catalog.jsonb_array_elements(x) v WHERE lms.xapi_activity_error(v, 'context.contextActivities.' || k) IS NOT NULL LIMIT 1;
      ELSE
        e := lms.xapi_activity_error(x, 'context.contextActivities.' || k);
      END IF;
      IF e IS NOT NULL THEN RETURN e; END IF;
    END LOOP;
  END IF;
  IF c ? 'revision' AND (pg_catalog.jsonb_typeof(c->'revision') <> 'string' OR NOT object_is_activity) THEN
    RETURN 'context.revision must be a string and is only allowed when the object is an Activity';
  END IF;
  IF c ? 'platform' AND (pg_catalog.jsonb_typeof(c->'platform') <> 'string' OR NOT object_is_activity) THEN
    RETURN 'context.platform must be a string and is only allowed when the object is an Activity';
  END IF;
  IF c ? 'language' AND (pg_catalog.jsonb_typeof(c->'language') <> 'string' OR NOT lms.xapi_is_language(c->>'language')) THEN
    RETURN 'context.language must be a language tag';
  END IF;
  IF c ? 'statement' THEN
    e := lms.xapi_statementref_error(c->'statement', 'context.statement');
    IF e IS NOT NULL THEN RETURN e; END IF;
  END IF;
  e := coalesce(lms.xapi_context_actors_error(c->'contextAgents', 'contextAgent', 'agent'),
                lms.xapi_context_actors_error(c->'contextGroups', 'contextGroup', 'group'));
  IF e IS NOT NULL THEN RETURN e; END IF;
  RETURN lms.xapi_extensions_error(c->'extensions', 'context.extensions');
END
$$;

-- Attachments: [{usageType, display, description?, contentType, length, sha2, fileUrl?}].
CREATE FUNCTION lms.xapi_attachments_error(a jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  x jsonb;
  k text;
BEGIN
  IF a IS NULL THEN RETURN NULL; END IF;
  IF pg_catalog.jsonb_typeof(a) <> 'array' THEN RETURN 'attachments must be an array'; END IF;
  FOR x IN SELECT v FROM pg_catalog.jsonb_array_elements(a) v LOOP
    IF pg_catalog.jsonb_typeof(x) <> 'object' THEN RETURN 'attachments items must be objects'; END IF;
    k := lms.xapi_bad_key(x, '{usageType,display,description,contentType,length,sha2,fileUrl}');
    IF k IS NOT NULL THEN RETURN 'attachment has an unknown or null property: ' || k; END IF;
    IF NOT lms.xapi_is_iri(x->'usageType') THEN RETURN 'attachment.usageType must be an IRI'; END IF;
    IF NOT x ? 'display' THEN RETURN 'attachment.display is required'; END IF;
    k := coalesce(lms.xapi_langmap_error(x->'display', 'attachment.display'),
                  lms.xapi_langmap_error(x->'description', 'attachment.description'));
    IF k IS NOT NULL THEN RETURN k; END IF;
    IF pg_catalog.jsonb_typeof(x->'contentType') IS DISTINCT FROM 'string'
       OR (x->>'contentType') !~ '^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(\s*;.*)?$' THEN
      RETURN 'attachment.contentType must be an Internet media type';
    END IF;
    IF pg_catalog.jsonb_typeof(x->'length') IS DISTINCT FROM 'number' OR (x->>'length') !~ '^[0-9]+$' THEN
      RETURN 'attachment.length must be a non-negative integer';
    END IF;
    IF pg_catalog.jsonb_typeof(x->'sha2') IS DISTINCT FROM 'string' OR (x->>'sha2') !~ '^[0-9a-fA-F]{56,128}$' THEN
      RETURN 'attachment.sha2 must be a SHA-2 hex digest';
    END IF;
    IF x ? 'fileUrl' AND NOT lms.xapi_is_iri(x->'fileUrl') THEN RETURN 'attachment.fileUrl must be an IRL'; END IF;
  END LOOP;
  RETURN NULL;
END
$$;

-- A whole statement (sub true: a SubStatement, which has no id, stored, version or authority
-- and may not nest). ver: the X-Experience-API-Version of the request ('1.0.x' or '2.0.x').
CREATE FUNCTION lms.xapi_statement_error(s jsonb, ver text, sub boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  o jsonb := s->'object';
  ot text := s->'object'->>'objectType';
  k text;
  e text;
BEGIN
  IF pg_catalog.jsonb_typeof(s) IS DISTINCT FROM 'object' THEN RETURN 'a statement must be a JSON object'; END IF;
  k := lms.xapi_bad_key(s, CASE WHEN sub THEN '{objectType,actor,verb,object,result,context,timestamp,attachments}'::text[]
                                ELSE '{id,actor,verb,object,result,context,timestamp,stored,authority,version,attachments}'::text[] END);
  IF k IS NOT NULL THEN RETURN CASE WHEN sub THEN 'sub-statement' ELSE 'statement' END || ' has an unknown or null property: ' || k; END IF;
  IF s ? 'id' AND (pg_catalog.jsonb_typeof(s->'id') <> 'string' OR NOT lms.xapi_is_uuid(s->>'id')) THEN RETURN 'id must be a UUID'; END IF;
  IF NOT (s ? 'actor' AND s ? 'verb' AND s ? 'object') THEN RETURN 'actor, verb and object are required'; END IF;
  e := lms.xapi_agent_error(s->'actor', 'actor');
  IF e IS NOT NULL THEN RETURN e; END IF;
  -- verb
  IF pg_catalog.jsonb_typeof(s->'verb') <> 'object' OR lms.xapi_bad_key(s->'verb', '{id,display}') IS NOT NULL THEN
    RETURN 'verb must be {id, display?}';
  END IF;
  IF NOT lms.xapi_is_iri(s->'verb'->'id') THEN RETURN 'verb.id must be an IRI'; END IF;
  e := lms.xapi_langmap_error(s->'verb'->'display', 'verb.display');
  IF e IS NOT NULL THEN RETURN e; END IF;
  -- object
  IF pg_catalog.jsonb_typeof(o) <> 'object' THEN RETURN 'object must be an object'; END IF;
  IF ot IS NULL OR ot = 'Activity' THEN
    e := lms.xapi_activity_error(o, 'object');
  ELSIF ot IN ('Agent', 'Group') THEN
    e := lms.xapi_agent_error(o, 'object');
  ELSIF ot = 'StatementRef' THEN
    e := lms.xapi_statementref_error(o, 'object');
  ELSIF ot = 'SubStatement' THEN
    e := CASE WHEN sub THEN 'a sub-statement may not contain a sub-statement' ELSE lms.xapi_statement_error(o, ver, true) END;
  ELSE
    e := 'object.objectType is not one of Activity, Agent, Group, StatementRef, SubStatement';
  END IF;
  IF e IS NOT NULL THEN RETURN e; END IF;
  IF s->'verb'->>'id' = 'http://adlnet.gov/expapi/verbs/voided' AND NOT sub AND ot IS DISTINCT FROM 'StatementRef' THEN
    RETURN 'a voiding statement must have a StatementRef object';
  END IF;
  e := coalesce(lms.xapi_result_error(s->'result'),
                lms.xapi_context_error(s->'context', ot IS NULL OR ot = 'Activity', ver),
                lms.xapi_attachments_error(s->'attachments'));
  IF e IS NOT NULL THEN RETURN e; END IF;
  IF s ? 'timestamp' AND lms.xapi_timestamp(s->'timestamp') IS NULL THEN RETURN 'timestamp must be an ISO 8601 date-time with a time zone'; END IF;
  IF sub THEN RETURN NULL; END IF;
  IF s ? 'stored' AND lms.xapi_timestamp(s->'stored') IS NULL THEN RETURN 'stored must be an ISO 8601 date-time'; END IF;
  IF s ? 'version' AND (pg_catalog.jsonb_typeof(s->'version') <> 'string' OR (s->>'version') !~ '^(1\.0(\.[0-9]+)?|2\.0(\.[0-9]+)?)$'
                        OR (ver LIKE '1.%' AND (s->>'version') LIKE '2.%')) THEN
    RETURN 'version must be a supported xAPI version';
  END IF;
  IF s ? 'authority' THEN
    e := lms.xapi_agent_error(s->'authority', 'authority');
    IF e IS NOT NULL THEN RETURN e; END IF;
    IF s->'authority'->>'objectType' = 'Group' AND (lms.xapi_ifi(s->'authority') IS NOT NULL
        OR pg_catalog.jsonb_array_length(coalesce(s->'authority'->'member', '[]')) <> 2) THEN
      RETURN 'an authority Group must be an anonymous OAuth pair of two Agents';
    END IF;
  END IF;
  RETURN NULL;
END
$$;

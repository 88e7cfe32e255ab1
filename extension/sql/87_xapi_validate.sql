-- xAPI data rules (xAPI 1.0.3 "Data" part, and 2.0.0 where it differs): what makes a statement,
-- an agent, an activity or a parameter valid. The rules live in C (extension/xapi_validate.c,
-- their one home): a batch of statements is checked in one walk of its jsonb. Each check
-- returns NULL when the value is valid, else the reason as a sentence (the 400 answer's detail).

-- An IRI/IRL: an absolute reference with a scheme and no white space (false for NULL).
CREATE FUNCTION lms.xapi_is_iri(v jsonb) RETURNS boolean
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'lms_xapi_is_iri';

-- A UUID in its standard string form (any version).
CREATE FUNCTION lms.xapi_is_uuid(v text) RETURNS boolean
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'lms_xapi_is_uuid';

-- An RFC 5646 language tag (the shape, not the registry).
CREATE FUNCTION lms.xapi_is_language(v text) RETURNS boolean
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'lms_xapi_is_language';

-- An ISO 8601 duration (PnYnMnDTnHnMnS with at least one part, or PnW alone).
CREATE FUNCTION lms.xapi_is_duration(v jsonb) RETURNS boolean
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'lms_xapi_is_duration';

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

-- An Agent (group_ok false) or an Agent or Group (group_ok true), with exactly one inverse
-- functional identifier (an anonymous Group may have none but then lists its members).
CREATE FUNCTION lms.xapi_agent_error(a jsonb, field text, group_ok boolean DEFAULT true) RETURNS text
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'lms_xapi_agent_error';

-- A whole statement (sub true: a SubStatement, which has no id, stored, version or authority
-- and may not nest). ver: the X-Experience-API-Version of the request ('1.0.x' or '2.0.x').
CREATE FUNCTION lms.xapi_statement_error(s jsonb, ver text, sub boolean DEFAULT false) RETURNS text
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'lms_xapi_statement_error';

-- lms install script (current version), assembled by the Makefile from extension/sql/NN_*.sql (one concept each).
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

-- True when the name is an IANA time zone name as pg_timezone_names lists it ('Europe/Paris',
-- 'UTC', ...); POSIX strings such as 'GMT+99' are refused. Defined in C (timezone.c).
CREATE FUNCTION lms.is_valid_timezone(name text) RETURNS boolean
  AS 'MODULE_PATHNAME', 'lms_is_valid_timezone' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The calendar day an instant counts as for a learner in that zone (streaks): the local date,
-- never outside [UTC date - 1, UTC date + 1]. Defined in C (timezone.c).
CREATE FUNCTION lms.active_day(zone text, at timestamptz) RETURNS date
  AS 'MODULE_PATHNAME', 'lms_active_day_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- ISO 8601 UTC with milliseconds and a Z, the contract's timestamp format.
CREATE FUNCTION lms.iso(ts timestamptz) RETURNS text
  LANGUAGE sql STABLE STRICT PARALLEL SAFE
  RETURN pg_catalog.to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');

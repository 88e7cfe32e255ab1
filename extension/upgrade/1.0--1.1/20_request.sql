-- The opening every route shares (lms.request, 15_api_common.sql) returns this type: a type is
-- not redefined with the functions, so it is created here.
CREATE TYPE lms.request AS (who lms.caller, id bigint, body jsonb, problem lms.api_response);

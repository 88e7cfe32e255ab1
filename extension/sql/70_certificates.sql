-- Certificates: issued once per learner and completed course, verified by anyone by their code.

-- A new certificate code: 128 bits from the server's strong random source (gen_random_uuid uses
-- pg_strong_random; two UUIDs carry 244 random bits, hashed down to 16 bytes), written in
-- base64url without padding: 22 characters, safe in a URL path.
CREATE FUNCTION lms.new_certificate_code() RETURNS text
LANGUAGE sql VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.translate(
         pg_catalog.encode(
           pg_catalog.substring(pg_catalog.sha256(pg_catalog.uuid_send(pg_catalog.gen_random_uuid())
                                                  || pg_catalog.uuid_send(pg_catalog.gen_random_uuid())), 1, 16),
           'base64'),
         '+/=', '-_');

CREATE FUNCTION lms.certificate_json(c lms.certificates) RETURNS jsonb
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT pg_catalog.jsonb_build_object(
                 'code', c.code, 'user_id', c.user_id, 'course_id', c.course_id,
                 'course_title', co.title, 'display_name', u.display_name,
                 'issued_at', lms.iso(c.issued_at))
          FROM lms.courses co, lms.users u
         WHERE co.id = c.course_id AND u.id = c.user_id);

-- POST /certificates/courses/{id}: the learner whose enrollment in the course is completed.
-- 201 with a new certificate, 200 with the same one when it was already issued (concurrent
-- requests included: UNIQUE (user_id, course_id) decides, then the winner's row is read).
-- 403 not_enrolled without any enrollment; 409 course_not_completed otherwise.
CREATE FUNCTION lms.api_certificate_issue(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true);
  me lms.caller := req.who;
  cid bigint := req.id;
  st text;
  cert lms.certificates;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  PERFORM 1 FROM lms.courses WHERE id = cid;
  IF NOT FOUND THEN RETURN lms.not_found('Course'); END IF;
  SELECT e.status INTO st FROM lms.enrollments e WHERE e.user_id = me.user_id AND e.course_id = cid;
  IF NOT FOUND THEN
    RETURN lms.problem(403, 'not_enrolled', 'You are not enrolled in this course.');
  END IF;
  IF st <> 'completed' THEN
    RETURN lms.problem(409, 'course_not_completed', 'A certificate is issued once every lesson of the course is completed.');
  END IF;
  FOR attempt IN 1 .. 3 LOOP
    INSERT INTO lms.certificates (code, user_id, course_id, issued_at)
    VALUES (lms.new_certificate_code(), me.user_id, cid, lms.clock())
    ON CONFLICT DO NOTHING
    RETURNING * INTO cert;
    IF cert.id IS NOT NULL THEN RETURN lms.ok(201, lms.certificate_json(cert)); END IF;
    SELECT * INTO cert FROM lms.certificates c WHERE c.user_id = me.user_id AND c.course_id = cid;
    IF FOUND THEN RETURN lms.ok(200, lms.certificate_json(cert)); END IF;
    -- only a clash of random codes gets here (2^-128): draw again
  END LOOP;
  RAISE EXCEPTION 'could not issue a certificate code';
END
$$;

-- GET /certificates/{code}: anyone may verify a certificate.
CREATE FUNCTION lms.api_certificate_get(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  cert lms.certificates;
  doc jsonb;
BEGIN
  SELECT * INTO cert FROM lms.certificates c WHERE c.code = path;
  IF NOT FOUND THEN RETURN lms.not_found('Certificate'); END IF;
  doc := lms.certificate_json(cert);
  RETURN lms.ok(200, pg_catalog.jsonb_build_object('code', doc->'code', 'display_name', doc->'display_name',
                                        'course_title', doc->'course_title', 'issued_at', doc->'issued_at',
                                        'valid', true));
END
$$;

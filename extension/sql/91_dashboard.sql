-- GET /me/dashboard: the learner's home page in one call (docs/dashboard.md).
-- It is made of the answers of the routes it replaces, never a second copy of their rules:
-- profile = GET /users/me, gamification = GET /gamification/me (points, level, streak,
-- achievements, ranks), enrollments = GET /enrollments/me?status=active (with progress),
-- plus where the learner stopped last (the enrollment with the newest activity).
-- VOLATILE like /gamification/me: a rank read may refresh a stale board.
CREATE FUNCTION lms.api_me_dashboard(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  uid bigint := (lms.caller(token)).user_id;
  profile lms.api_response;
  game lms.api_response;
  enr lms.api_response;
  g jsonb;
  resume jsonb;
BEGIN
  IF uid IS NULL THEN RETURN lms.unauthenticated(); END IF;
  IF query IS NOT NULL AND query <> '{}' THEN
    RETURN lms.invalid((SELECT k FROM pg_catalog.jsonb_object_keys(query) k LIMIT 1), 'unknown parameter');
  END IF;
  profile := lms.api_users_me_get(token, NULL, '{}', NULL);
  game := lms.api_gamification_me(token, NULL, '{}', NULL);
  enr := lms.api_enrollments_me(token, NULL, '{"status": "active", "limit": "100"}', NULL);
  IF profile.status <> 200 THEN RETURN profile; END IF;
  IF game.status <> 200 THEN RETURN game; END IF;
  IF enr.status <> 200 THEN RETURN enr; END IF;
  g := game.body::jsonb;
  SELECT pg_catalog.jsonb_build_object('course_id', e.course_id, 'course_title', c.title,
           'lesson_id', l.id, 'lesson_title', l.title, 'lesson_kind', l.kind,
           'last_position_seconds', e.last_position_seconds, 'last_activity_at', lms.iso(e.last_activity_at))
    INTO resume
    FROM lms.enrollments e
    JOIN lms.courses c ON c.id = e.course_id
    JOIN lms.lessons l ON l.id = e.last_lesson_id
   WHERE e.user_id = uid AND lms.effective_status(e.status, e.expires_at) = 'active'
   ORDER BY e.last_activity_at DESC NULLS LAST, e.id DESC
   LIMIT 1;
  RETURN lms.ok(200, pg_catalog.jsonb_build_object(
    'user', profile.body::jsonb,
    'gamification', g - 'achievements',
    'newest_achievements', coalesce((SELECT pg_catalog.jsonb_agg(a ORDER BY n DESC)
                                       FROM pg_catalog.jsonb_array_elements(g->'achievements') WITH ORDINALITY t(a, n)
                                      WHERE n > pg_catalog.jsonb_array_length(g->'achievements') - 5), '[]'),
    'enrollments', enr.body::jsonb->'items',
    'active_enrollments', (enr.body::jsonb)->'total',
    'continue', resume));
END
$$;

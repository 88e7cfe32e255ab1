-- Quizzes: authoring (POST /lessons/{id}/quiz), reading without the answers (GET /quizzes/{id})
-- and attempts (POST /quizzes/{id}/attempts). A pass completes the quiz's lesson through the
-- same exactly-once completion path as any other lesson (lms.complete_lesson).

-- The quiz as the API shows it: never the answers.
CREATE FUNCTION lms.quiz_json(quiz_id bigint) RETURNS jsonb
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (
  SELECT pg_catalog.jsonb_build_object(
           'id', q.id, 'lesson_id', q.lesson_id, 'title', q.title,
           'pass_score', q.pass_score, 'max_attempts', q.max_attempts,
           'questions', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                                           'id', qq.id, 'prompt', qq.prompt, 'choices', qq.choices)
                                         ORDER BY qq.position)
                                  FROM lms.quiz_questions qq WHERE qq.quiz_id = q.id), '[]'))
  FROM lms.quizzes q WHERE q.id = quiz_json.quiz_id);

-- The JSON value as an integer, NULL unless it is an integral number (1 and 1.0 both count)
-- within the int range.
CREATE FUNCTION lms.json_int(v jsonb) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE WHEN pg_catalog.jsonb_typeof(v) = 'number' THEN
         CASE WHEN (v::text)::numeric = pg_catalog.trunc((v::text)::numeric)
                   AND pg_catalog.abs((v::text)::numeric) < 2147483648
              THEN (v::text)::numeric::int END
       END;

-- POST /lessons/{id}/quiz: owner or admin, on a lesson of kind quiz that has no quiz yet.
-- Every field is validated and every failure is reported at once (errors[] with paths such as
-- questions[1].answer). Limits: title 1..200 chars, pass_score integer 0..100, max_attempts an
-- integer >= 1 or null (unlimited), 1..200 questions, each with a non-blank prompt, 2..20
-- non-blank string choices and a 0-based answer index inside choices.
CREATE FUNCTION lms.api_quiz_create(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true);
  me lms.caller := req.who;
  l record;
  b jsonb := req.body;
  errs jsonb := '[]';
  qs jsonb;
  q jsonb;
  c jsonb;
  i int;
  j int;
  f text;
  new_id bigint;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  SELECT le.id, le.kind, co.instructor_id INTO l
    FROM lms.lessons le JOIN lms.courses co ON co.id = le.course_id
   WHERE le.id = lms.path_id(path);
  IF NOT FOUND THEN RETURN lms.not_found('Lesson'); END IF;
  IF me.role <> 'admin' AND l.instructor_id <> me.user_id THEN
    RETURN lms.forbidden('Only the course owner or an admin may add a quiz.');
  END IF;
  IF b IS NULL THEN RETURN lms.invalid_body(); END IF;
  IF l.kind <> 'quiz' THEN
    RETURN lms.problem(400, 'lesson_not_quiz',
                       pg_catalog.format('A quiz can only be added to a lesson of kind quiz; this lesson is a %s lesson.', l.kind));
  END IF;

  -- title
  IF pg_catalog.jsonb_typeof(b->'title') IS DISTINCT FROM 'string'
     OR pg_catalog.length(pg_catalog.btrim(b->>'title')) NOT BETWEEN 1 AND 200 THEN
    errs := errs || pg_catalog.jsonb_build_object('field', 'title', 'message', 'required, a string of 1 to 200 characters');
  END IF;
  -- pass_score
  IF NOT coalesce(lms.json_int(b->'pass_score') BETWEEN 0 AND 100, false) THEN
    errs := errs || pg_catalog.jsonb_build_object('field', 'pass_score', 'message', 'required, an integer percentage between 0 and 100');
  END IF;
  -- max_attempts (absent or null: unlimited)
  IF b ? 'max_attempts' AND pg_catalog.jsonb_typeof(b->'max_attempts') <> 'null'
     AND NOT coalesce(lms.json_int(b->'max_attempts') >= 1, false) THEN
    errs := errs || pg_catalog.jsonb_build_object('field', 'max_attempts', 'message', 'must be an integer >= 1, or null for unlimited attempts');
  END IF;
  -- questions
  qs := b->'questions';
  IF pg_catalog.jsonb_typeof(qs) IS DISTINCT FROM 'array'
     OR pg_catalog.jsonb_array_length(qs) NOT BETWEEN 1 AND 200 THEN
    errs := errs || pg_catalog.jsonb_build_object('field', 'questions', 'message', 'required, an array of 1 to 200 questions');
  ELSE
    FOR i IN 0 .. pg_catalog.jsonb_array_length(qs) - 1 LOOP
      q := qs->i;
      f := pg_catalog.format('questions[%s]', i);
      IF pg_catalog.jsonb_typeof(q) <> 'object' THEN
        errs := errs || pg_catalog.jsonb_build_object('field', f, 'message', 'must be an object {prompt,choices,answer}');
        CONTINUE;
      END IF;
      IF pg_catalog.jsonb_typeof(q->'prompt') IS DISTINCT FROM 'string'
         OR pg_catalog.length(pg_catalog.btrim(q->>'prompt')) NOT BETWEEN 1 AND 2000 THEN
        errs := errs || pg_catalog.jsonb_build_object('field', f || '.prompt', 'message', 'required, a string of 1 to 2000 characters');
      END IF;
      c := q->'choices';
      IF pg_catalog.jsonb_typeof(c) IS DISTINCT FROM 'array' OR pg_catalog.jsonb_array_length(c) NOT BETWEEN 2 AND 20 THEN
        errs := errs || pg_catalog.jsonb_build_object('field', f || '.choices', 'message', 'required, an array of 2 to 20 strings');
        c := NULL;
      ELSE
        FOR j IN 0 .. pg_catalog.jsonb_array_length(c) - 1 LOOP
          IF pg_catalog.jsonb_typeof(c->j) <> 'string' OR pg_catalog.length(pg_catalog.btrim(c->>j)) NOT BETWEEN 1 AND 500 THEN
            errs := errs || pg_catalog.jsonb_build_object('field', pg_catalog.format('%s.choices[%s]', f, j),
                                               'message', 'must be a string of 1 to 500 characters');
          END IF;
        END LOOP;
      END IF;
      IF lms.json_int(q->'answer') IS NULL THEN
        errs := errs || pg_catalog.jsonb_build_object('field', f || '.answer', 'message', 'required, the 0-based index of the right choice');
      ELSIF c IS NOT NULL AND lms.json_int(q->'answer') NOT BETWEEN 0 AND pg_catalog.jsonb_array_length(c) - 1 THEN
        errs := errs || pg_catalog.jsonb_build_object('field', f || '.answer',
                                           'message', pg_catalog.format('must be a 0-based index into choices (0 to %s)', pg_catalog.jsonb_array_length(c) - 1));
      END IF;
    END LOOP;
  END IF;
  IF pg_catalog.jsonb_array_length(errs) > 0 THEN
    RETURN lms.validation_failed(errs);
  END IF;

  -- UNIQUE (lesson_id) decides between concurrent creators: no check-then-insert
  INSERT INTO lms.quizzes (lesson_id, title, pass_score, max_attempts)
  VALUES (l.id, pg_catalog.btrim(b->>'title'), lms.json_int(b->'pass_score'), lms.json_int(b->'max_attempts'))
  ON CONFLICT (lesson_id) DO NOTHING
  RETURNING id INTO new_id;
  IF new_id IS NULL THEN
    RETURN lms.problem(409, 'quiz_exists', 'This lesson already has a quiz.');
  END IF;
  INSERT INTO lms.quiz_questions (quiz_id, position, prompt, choices, answer)
  SELECT new_id, t.n, pg_catalog.btrim(t.q->>'prompt'), t.q->'choices', lms.json_int(t.q->'answer')
    FROM pg_catalog.jsonb_array_elements(qs) WITH ORDINALITY AS t(q, n);
  PERFORM lms.audit(me.user_id, 'quiz.create', 'quiz', new_id,
                    pg_catalog.jsonb_build_object('lesson_id', l.id, 'questions', pg_catalog.jsonb_array_length(qs)));
  RETURN lms.ok(201, lms.quiz_json(new_id));
END
$$;

-- What a caller may see of a quiz: the verdict of lms.lesson_access on its lesson ('ok',
-- 'not_found', 'not_enrolled', 'lesson_locked'; owner and admins always 'ok'), so a quiz is
-- exactly as visible as its lesson; 'not_found' as well for an unknown quiz.
CREATE FUNCTION lms.quiz_access(me lms.caller, quiz_id bigint,
                                OUT verdict text, OUT lesson_id bigint, OUT course_id bigint,
                                OUT pass_score int, OUT max_attempts int)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  SELECT q.lesson_id, le.course_id, q.pass_score, q.max_attempts
    INTO lesson_id, course_id, pass_score, max_attempts
    FROM lms.quizzes q JOIN lms.lessons le ON le.id = q.lesson_id
   WHERE q.id = quiz_access.quiz_id;
  IF NOT FOUND THEN verdict := 'not_found'; RETURN; END IF;
  verdict := lms.lesson_access(me.user_id, lesson_id);
END
$$;

CREATE FUNCTION lms.quiz_access_problem(verdict text) RETURNS lms.api_response
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE verdict
         WHEN 'not_found' THEN lms.not_found('Quiz')
         WHEN 'not_enrolled' THEN lms.problem(403, 'not_enrolled', 'You are not enrolled in this course.')
         WHEN 'lesson_locked' THEN lms.problem(403, 'lesson_locked', 'This lesson is not available yet.')
         WHEN 'unauthenticated' THEN lms.unauthenticated()
         ELSE lms.forbidden()
       END;

-- GET /quizzes/{id}: enrolled learners (lesson available), the owner and admins. No answers.
CREATE FUNCTION lms.api_quiz_get(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true);
  me lms.caller := req.who;
  a record;
  qid bigint := req.id;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  a := lms.quiz_access(me, qid);
  IF a.verdict <> 'ok' THEN RETURN lms.quiz_access_problem(a.verdict); END IF;
  RETURN lms.ok(200, lms.quiz_json(qid));
END
$$;

-- POST /quizzes/{id}/attempts {answers:{"<question id>":<choice index>}}: the enrolled learner.
-- The learner's enrollment row is locked before the attempts are counted, so max_attempts holds
-- under concurrent submissions (UNIQUE (quiz_id, user_id, attempt_no) is the last line of defence);
-- a pass that may complete the lesson locks the course row before it (the house lock order).
-- score = correct / questions * 100 (2 decimals; unanswered = wrong); passed = score >= pass_score.
-- A pass completes the lesson (exactly once) and lets gamification award the quiz points.
-- lesson_completed says whether the quiz's lesson is completed after this attempt.
CREATE FUNCTION lms.api_quiz_attempt(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body, signed_in => true);
  me lms.caller := req.who;
  qid bigint := req.id;
  a record;
  b jsonb := req.body;
  ans jsonb;
  errs jsonb := '[]';
  k text;
  v jsonb;
  nchoices int;
  total int;
  correct int;
  used int;
  sc numeric(5,2);
  ok boolean;
  attempt bigint;
  points bigint := 0;
  done boolean;
  r jsonb;
BEGIN
  IF (req.problem).status IS NOT NULL THEN RETURN req.problem; END IF;
  a := lms.quiz_access(me, qid);
  IF a.verdict = 'not_found' THEN RETURN lms.quiz_access_problem(a.verdict); END IF;
  -- the owner and admins may read a quiz, but only an enrolled learner takes it
  IF a.verdict = 'ok' AND NOT lms.is_enrolled(me.user_id, a.course_id) THEN a.verdict := 'not_enrolled'; END IF;
  IF a.verdict <> 'ok' THEN RETURN lms.quiz_access_problem(a.verdict); END IF;

  IF b IS NULL THEN RETURN lms.invalid_body(); END IF;
  ans := b->'answers';
  IF pg_catalog.jsonb_typeof(ans) IS DISTINCT FROM 'object' THEN
    RETURN lms.invalid('answers', 'required, an object {"<question id>": <choice index>}');
  END IF;
  FOR k, v IN SELECT e.key, e.value FROM pg_catalog.jsonb_each(ans) e ORDER BY e.key LOOP
    SELECT pg_catalog.jsonb_array_length(qq.choices) INTO nchoices
      FROM lms.quiz_questions qq
     WHERE qq.quiz_id = qid AND k ~ '^[0-9]{1,18}$' AND qq.id = k::bigint;
    IF NOT FOUND THEN
      errs := errs || pg_catalog.jsonb_build_object('field', 'answers.' || k, 'message', 'not a question of this quiz');
    ELSIF NOT coalesce(lms.json_int(v) BETWEEN 0 AND nchoices - 1, false) THEN
      errs := errs || pg_catalog.jsonb_build_object('field', 'answers.' || k,
                                         'message', pg_catalog.format('must be a 0-based choice index (0 to %s)', nchoices - 1));
    END IF;
  END LOOP;
  IF pg_catalog.jsonb_array_length(errs) > 0 THEN
    RETURN lms.validation_failed(errs);
  END IF;

  SELECT count(*), count(*) FILTER (WHERE lms.json_int(ans->(qq.id::text)) = qq.answer)
    INTO total, correct
    FROM lms.quiz_questions qq WHERE qq.quiz_id = qid;
  sc := CASE WHEN total > 0 THEN pg_catalog.round(correct * 100.0 / total, 2) ELSE 0 END;
  ok := sc >= a.pass_score;

  -- House lock order: the course row before the enrollment row. A pass that may complete the
  -- lesson (and so perhaps the course) takes the course row first, as lms.complete_lesson
  -- would; completion only ever goes one way, so a read saying "already completed" is final.
  IF ok AND NOT coalesce((SELECT lp.is_completed FROM lms.lesson_progress lp
                           WHERE lp.user_id = me.user_id AND lp.lesson_id = a.lesson_id), false)
        AND EXISTS (SELECT FROM lms.enrollments e
                     WHERE e.user_id = me.user_id AND e.course_id = a.course_id AND e.status = 'active') THEN
    PERFORM 1 FROM lms.courses c WHERE c.id = a.course_id FOR NO KEY UPDATE;
  END IF;
  -- serialize this learner's attempts on the course: max_attempts holds under concurrency
  PERFORM 1 FROM lms.enrollments e WHERE e.user_id = me.user_id AND e.course_id = a.course_id FOR UPDATE;
  IF NOT lms.is_enrolled(me.user_id, a.course_id) THEN
    RETURN lms.quiz_access_problem('not_enrolled');
  END IF;
  SELECT count(*) INTO used FROM lms.quiz_attempts qa WHERE qa.quiz_id = qid AND qa.user_id = me.user_id;
  IF a.max_attempts IS NOT NULL AND used >= a.max_attempts THEN
    RETURN lms.problem(409, 'max_attempts_reached',
                       pg_catalog.format('All %s attempts allowed for this quiz have been used.', a.max_attempts));
  END IF;

  INSERT INTO lms.quiz_attempts (quiz_id, user_id, attempt_no, answers, score, passed)
  VALUES (qid, me.user_id, used + 1, ans, sc, ok)
  RETURNING id INTO attempt;
  -- lms's own xAPI statement: passed or failed, with the score (89_xapi_lms_events.sql)
  PERFORM lms.xapi_emit_attempt(attempt);

  IF ok THEN
    r := lms.complete_lesson(me.user_id, a.lesson_id);
    points := points + coalesce((r->>'points_awarded')::bigint, 0);
  END IF;
  IF pg_catalog.to_regprocedure('lms.award_quiz(bigint,bigint,bigint,numeric,boolean)') IS NOT NULL THEN
    points := points + coalesce(lms.award_quiz(me.user_id, qid, a.course_id, sc, ok), 0);
  END IF;
  SELECT lp.is_completed INTO done FROM lms.lesson_progress lp
   WHERE lp.user_id = me.user_id AND lp.lesson_id = a.lesson_id;

  RETURN lms.ok(201, pg_catalog.jsonb_build_object(
    'attempt_id', attempt, 'score', pg_catalog.trim_scale(sc), 'passed', ok, 'attempts_used', used + 1,
    'points_awarded', points, 'lesson_completed', coalesce(done, false)));
END
$$;

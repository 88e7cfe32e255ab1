-- How the writes keep the summaries of 74_summary_schema.sql, which GET /courses/{id}/analytics
-- reads (75_analytics.sql); the heartbeats of a video touch none of them.

-- Progress rows coming (a learner's first write on a lesson, a bulk load, a restore's COPY) and
-- going (a user or lesson deleted) count per statement, from the statement's transition table:
-- each summary row moves once per statement whatever its number of rows. (Row by row, a
-- statement of a million rows moved each of a lesson's four rows a quarter of that many times
-- in one transaction, each update walking the chain of that transaction's own earlier
-- versions: quadratic, minutes for one INSERT ... SELECT or one pg_restore.) Summary rows are
-- taken in key order, so two bulk statements cannot deadlock on them.
CREATE FUNCTION lms.lesson_stats_rows() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO lms.lesson_stats AS s (course_id, lesson_id, shard, started, completed)
    SELECT a.course_id, a.lesson_id, (a.user_id % 4)::int, count(*), count(*) FILTER (WHERE a.is_completed)
      FROM added a GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (course_id, lesson_id, shard) DO UPDATE
      SET started = s.started + EXCLUDED.started, completed = s.completed + EXCLUDED.completed;
  ELSE
    UPDATE lms.lesson_stats s SET started = s.started - r.n, completed = s.completed - r.c
      FROM (SELECT d.course_id, d.lesson_id, (d.user_id % 4)::int AS shard, count(*) AS n,
                   count(*) FILTER (WHERE d.is_completed) AS c
              FROM removed d GROUP BY 1, 2, 3) r
     WHERE s.course_id = r.course_id AND s.lesson_id = r.lesson_id AND s.shard = r.shard;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER lesson_progress_counted_insert AFTER INSERT ON lms.lesson_progress
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION lms.lesson_stats_rows();
CREATE TRIGGER lesson_progress_counted_delete AFTER DELETE ON lms.lesson_progress
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION lms.lesson_stats_rows();

-- A completion flipping moves the learner between completed and not (row by row: an UPDATE OF
-- trigger cannot have a transition table; the progress write flips one row per statement).
CREATE FUNCTION lms.lesson_stats_follow() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  UPDATE lms.lesson_stats s SET completed = s.completed + CASE WHEN NEW.is_completed THEN 1 ELSE -1 END
   WHERE s.course_id = NEW.course_id AND s.lesson_id = NEW.lesson_id AND s.shard = (NEW.user_id % 4)::int;
  RETURN NULL;
END
$$;
CREATE TRIGGER lesson_progress_completion_counted AFTER UPDATE OF is_completed ON lms.lesson_progress
  FOR EACH ROW WHEN (OLD.is_completed IS DISTINCT FROM NEW.is_completed)
  EXECUTE FUNCTION lms.lesson_stats_follow();

-- An enrollment's last activity moving from one hour to another (old_hour NULL: its first), as
-- the progress write records it (progress_store.c) and as rows come and go (the trigger below).
-- Rows of hours older than 8 days before the new one are dropped on the way: no read needs them.
CREATE FUNCTION lms.course_activity_move(course_id bigint, user_id bigint, old_hour bigint, new_hour bigint)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  UPDATE lms.course_activity a SET learners = a.learners - 1
   WHERE a.course_id = course_activity_move.course_id AND a.hour = course_activity_move.old_hour
     AND a.shard = (course_activity_move.user_id % 4)::int;
  INSERT INTO lms.course_activity AS a (course_id, hour, shard, learners)
  SELECT course_activity_move.course_id, course_activity_move.new_hour, (course_activity_move.user_id % 4)::int, 1
   WHERE course_activity_move.new_hour IS NOT NULL
  ON CONFLICT (course_id, hour, shard) DO UPDATE SET learners = a.learners + 1;
  DELETE FROM lms.course_activity a
   WHERE a.course_id = course_activity_move.course_id AND a.hour < course_activity_move.new_hour - 192;
END;

-- Enrollments coming and going count per statement, as progress rows do (above): in their
-- course's (status, completed lessons) row, and in their last activity's hour when they have one.
CREATE FUNCTION lms.enrollment_stats_rows() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO lms.course_enrollment_stats AS s (course_id, status, completed_lessons, shard, learners)
    SELECT a.course_id, a.status, a.completed_lessons, (a.user_id % 4)::int, count(*)
      FROM added a GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (course_id, status, completed_lessons, shard) DO UPDATE SET learners = s.learners + EXCLUDED.learners;
    INSERT INTO lms.course_activity AS c (course_id, hour, shard, learners)
    SELECT a.course_id, a.last_active_hour, (a.user_id % 4)::int, count(*)
      FROM added a WHERE a.last_active_hour IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (course_id, hour, shard) DO UPDATE SET learners = c.learners + EXCLUDED.learners;
  ELSE
    UPDATE lms.course_enrollment_stats s SET learners = s.learners - r.n
      FROM (SELECT d.course_id, d.status, d.completed_lessons, (d.user_id % 4)::int AS shard, count(*) AS n
              FROM removed d GROUP BY 1, 2, 3, 4) r
     WHERE s.course_id = r.course_id AND s.status = r.status AND s.completed_lessons = r.completed_lessons
       AND s.shard = r.shard;
    UPDATE lms.course_activity c SET learners = c.learners - r.n
      FROM (SELECT d.course_id, d.last_active_hour AS hour, (d.user_id % 4)::int AS shard, count(*) AS n
              FROM removed d WHERE d.last_active_hour IS NOT NULL GROUP BY 1, 2, 3) r
     WHERE c.course_id = r.course_id AND c.hour = r.hour AND c.shard = r.shard;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER enrollments_counted_insert AFTER INSERT ON lms.enrollments
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION lms.enrollment_stats_rows();
CREATE TRIGGER enrollments_counted_delete AFTER DELETE ON lms.enrollments
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION lms.enrollment_stats_rows();

-- An enrollment's status or completed lessons changing moves it between (status, completed
-- lessons) rows.
CREATE FUNCTION lms.enrollment_stats_follow() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  UPDATE lms.course_enrollment_stats s SET learners = s.learners - 1
   WHERE s.course_id = OLD.course_id AND s.status = OLD.status
     AND s.completed_lessons = OLD.completed_lessons AND s.shard = (OLD.user_id % 4)::int;
  INSERT INTO lms.course_enrollment_stats AS s (course_id, status, completed_lessons, shard, learners)
  VALUES (NEW.course_id, NEW.status, NEW.completed_lessons, (NEW.user_id % 4)::int, 1)
  ON CONFLICT (course_id, status, completed_lessons, shard) DO UPDATE SET learners = s.learners + 1;
  RETURN NULL;
END
$$;
CREATE TRIGGER enrollments_status_counted AFTER UPDATE OF status, completed_lessons ON lms.enrollments
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.completed_lessons IS DISTINCT FROM NEW.completed_lessons)
  EXECUTE FUNCTION lms.enrollment_stats_follow();

-- A learner's course points, summed per course (one statement per award, set-based for
-- recompute and restores).
CREATE FUNCTION lms.course_points_follow() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO lms.course_points AS p (course_id, shard, points)
    SELECT a.course_id, (a.user_id % 4)::int, sum(a.points) FROM added a GROUP BY 1, 2
    ON CONFLICT (course_id, shard) DO UPDATE SET points = p.points + EXCLUDED.points;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO lms.course_points AS p (course_id, shard, points)
    SELECT r.course_id, (r.user_id % 4)::int, -sum(r.points) FROM removed r GROUP BY 1, 2
    ON CONFLICT (course_id, shard) DO UPDATE SET points = p.points + EXCLUDED.points;
  ELSE
    INSERT INTO lms.course_points AS p (course_id, shard, points)
    SELECT x.course_id, x.shard, sum(x.points) FROM
      (SELECT a.course_id, (a.user_id % 4)::int AS shard, a.points FROM added a
       UNION ALL SELECT r.course_id, (r.user_id % 4)::int, -r.points FROM removed r) x
     GROUP BY 1, 2 HAVING sum(x.points) <> 0
    ON CONFLICT (course_id, shard) DO UPDATE SET points = p.points + EXCLUDED.points;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER course_scores_counted_insert AFTER INSERT ON lms.course_scores
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION lms.course_points_follow();
CREATE TRIGGER course_scores_counted_update AFTER UPDATE ON lms.course_scores
  REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION lms.course_points_follow();
CREATE TRIGGER course_scores_counted_delete AFTER DELETE ON lms.course_scores
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION lms.course_points_follow();

-- Every summary rebuilt from its rows (the 1.1 update, the load-test data generator; never
-- needed otherwise): lesson starts and completions, enrollments by status and progress, the
-- hours of their last activity, course points, and the users per role and status (80_admin.sql).
CREATE FUNCTION lms.recount_analytics() RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  DELETE FROM lms.lesson_stats;
  INSERT INTO lms.lesson_stats (course_id, lesson_id, shard, started, completed)
  SELECT p.course_id, p.lesson_id, (p.user_id % 4)::int, count(*), count(*) FILTER (WHERE p.is_completed)
    FROM lms.lesson_progress p GROUP BY 1, 2, 3;
  DELETE FROM lms.course_enrollment_stats;
  INSERT INTO lms.course_enrollment_stats (course_id, status, completed_lessons, shard, learners)
  SELECT e.course_id, e.status, e.completed_lessons, (e.user_id % 4)::int, count(*)
    FROM lms.enrollments e GROUP BY 1, 2, 3, 4;
  DELETE FROM lms.course_activity;
  INSERT INTO lms.course_activity (course_id, hour, shard, learners)
  SELECT e.course_id, e.last_active_hour, (e.user_id % 4)::int, count(*)
    FROM lms.enrollments e WHERE e.last_active_hour IS NOT NULL GROUP BY 1, 2, 3;
  DELETE FROM lms.course_points;
  INSERT INTO lms.course_points (course_id, shard, points)
  SELECT c.course_id, (c.user_id % 4)::int, sum(c.points) FROM lms.course_scores c GROUP BY 1, 2;
  DELETE FROM lms.user_counts;
  INSERT INTO lms.user_counts (role, status, shard, users)
  SELECT u.role, u.status, (u.id % 8)::int, count(*) FROM lms.users u GROUP BY 1, 2, 3;
END;

-- A course's enrollments by the status they read as at an instant (an active one past its
-- expires_at reads expired: the few such rows are found through enrollments_overdue), and the
-- sum of their progress percentages (lms.analytics_progress) over active and completed ones:
-- the definitions of the view lms.course_stats, from the summary instead of the rows.
CREATE FUNCTION lms.course_enrollment_figures(course_id bigint, lesson_count int, at timestamptz,
  OUT active int, OUT completed int, OUT dropped int, OUT expired int, OUT progress_sum numeric)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  WITH h AS (SELECT s.status, s.completed_lessons, sum(s.learners) AS n FROM lms.course_enrollment_stats s
              WHERE s.course_id = course_enrollment_figures.course_id GROUP BY 1, 2),
       overdue AS (SELECT e.completed_lessons, count(*) AS n FROM lms.enrollments e
                    WHERE e.course_id = course_enrollment_figures.course_id AND e.status = 'active'
                      AND e.expires_at IS NOT NULL AND e.expires_at <= course_enrollment_figures.at GROUP BY 1)
  SELECT (coalesce((SELECT sum(h.n) FROM h WHERE h.status = 'active'), 0) - coalesce((SELECT sum(o.n) FROM overdue o), 0))::int,
         coalesce((SELECT sum(h.n) FROM h WHERE h.status = 'completed'), 0)::int,
         coalesce((SELECT sum(h.n) FROM h WHERE h.status = 'dropped'), 0)::int,
         (coalesce((SELECT sum(h.n) FROM h WHERE h.status = 'expired'), 0) + coalesce((SELECT sum(o.n) FROM overdue o), 0))::int,
         coalesce((SELECT sum(h.n * lms.analytics_progress(h.completed_lessons, course_enrollment_figures.lesson_count))
                     FROM h WHERE h.status IN ('active', 'completed')), 0)
         - coalesce((SELECT sum(o.n * lms.analytics_progress(o.completed_lessons, course_enrollment_figures.lesson_count))
                       FROM overdue o), 0);
END;

-- Learners of a course whose last activity is after `since`: the hours after since's hour from
-- the summary, and since's own hour counted exactly (enrollments_active_hour).
CREATE FUNCTION lms.course_active_learners(course_id bigint, since timestamptz) RETURNS int
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  SELECT (coalesce((SELECT sum(a.learners) FROM lms.course_activity a
                     WHERE a.course_id = course_active_learners.course_id
                       AND a.hour > lms.hour_of(course_active_learners.since)), 0)
          + (SELECT count(*) FROM lms.enrollments e
              WHERE e.course_id = course_active_learners.course_id
                AND e.last_active_hour = lms.hour_of(course_active_learners.since)
                AND e.last_activity_at > course_active_learners.since))::int;
END;


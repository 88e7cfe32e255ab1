-- Compares a restored cluster with the log of acknowledged writes (writes.sql output, loaded
-- into pg_temp.acked by the caller) and the phases expected to survive (:'kept', e.g. 'A,B').
-- One line per check: name and number of mismatches (0 is the healthy answer).
\set ON_ERROR_STOP on
CREATE TEMP TABLE expect AS
SELECT a.*, a.phase = ANY (string_to_array(:'kept', ',')) AS kept FROM pg_temp.acked a;
SELECT 'acknowledged progress writes missing', count(*)
  FROM expect a WHERE a.kind = 'progress' AND a.kept
   AND NOT EXISTS (SELECT FROM lms.lesson_progress p
                    WHERE p.user_id = a.user_id AND p.lesson_id = a.key::bigint AND p.is_completed)
UNION ALL
SELECT 'acknowledged awards missing or changed', count(*)
  FROM expect a WHERE a.kind = 'award' AND a.kept
   AND NOT EXISTS (SELECT FROM lms.points_ledger x
                    WHERE x.id = a.answer::bigint AND x.source_key = a.key AND x.user_id = a.user_id)
UNION ALL
SELECT 'progress writes after the target present', count(*)
  FROM expect a WHERE a.kind = 'progress' AND NOT a.kept
   AND EXISTS (SELECT FROM lms.lesson_progress p
                WHERE p.user_id = a.user_id AND p.lesson_id = a.key::bigint AND p.is_completed)
UNION ALL
SELECT 'awards after the target present', count(*)
  FROM expect a WHERE a.kind = 'award' AND NOT a.kept
   AND EXISTS (SELECT FROM lms.points_ledger x WHERE x.source_key = a.key)
ORDER BY 1;

-- Privileges, applied after every object exists.
-- PUBLIC runs nothing of ours; the gateway runs the API functions only; analysts read views only.
REVOKE ALL ON SCHEMA lms FROM PUBLIC;
GRANT USAGE ON SCHEMA lms TO lms_gateway, lms_analyst;
REVOKE ALL ON ALL TABLES IN SCHEMA lms FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA lms FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA lms FROM PUBLIC;

DO $$
DECLARE
  f regprocedure;
  v regclass;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
           WHERE p.pronamespace = 'lms'::regnamespace AND p.proname LIKE 'api\_%'
  LOOP
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO lms_gateway', f);
  END LOOP;
  FOR v IN SELECT c.oid::regclass FROM pg_catalog.pg_class c
           WHERE c.relnamespace = 'lms'::regnamespace AND c.relkind = 'v'
  LOOP
    EXECUTE format('GRANT SELECT ON %s TO lms_analyst', v);
  END LOOP;
END
$$;

-- Every table and sequence is user data: pg_dump must dump its rows (extension tables are
-- skipped by default), but for the derived summaries listed below. Tables that the install
-- script seeds pass a filter in their own file.
DO $$
DECLARE
  r regclass;
BEGIN
  FOR r IN SELECT c.oid::regclass FROM pg_catalog.pg_class c
           WHERE c.relnamespace = 'lms'::regnamespace AND c.relkind IN ('r', 'S')
             -- derived summaries kept by triggers: a restore rebuilds them as it loads the rows
             -- (dumping them too would count every row twice)
             AND c.relname NOT IN ('lesson_stats', 'course_enrollment_stats', 'course_activity',
                                   'course_points', 'user_counts')
             AND NOT EXISTS (SELECT FROM pg_catalog.pg_extension e
                             WHERE e.extname = 'lms' AND c.oid = ANY (e.extconfig))
  LOOP
    PERFORM pg_catalog.pg_extension_config_dump(r, '');
  END LOOP;
END
$$;

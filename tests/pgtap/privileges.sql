-- Privileges: the gateway executes API functions and nothing else; analysts read views only;
-- PUBLIC runs nothing; every function that crosses a privilege line pins its search_path.
BEGIN;
SELECT plan(17);

SELECT is(
  (SELECT count(*) FROM pg_class c
    WHERE c.relnamespace = 'lms'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'S', 'p')
      AND (has_table_privilege('lms_gateway', c.oid, 'SELECT') OR has_table_privilege('lms_gateway', c.oid, 'INSERT')
        OR has_table_privilege('lms_gateway', c.oid, 'UPDATE') OR has_table_privilege('lms_gateway', c.oid, 'DELETE'))),
  0::bigint, 'lms_gateway has no privilege on any table, view or sequence');

SELECT cmp_ok(
  (SELECT count(*) FROM pg_proc p WHERE p.pronamespace = 'lms'::regnamespace AND p.proname LIKE 'api\_%'),
  '>=', 30::bigint, 'the API functions exist');

SELECT is(
  (SELECT count(*) FROM pg_proc p WHERE p.pronamespace = 'lms'::regnamespace AND p.proname LIKE 'api\_%'
      AND NOT has_function_privilege('lms_gateway', p.oid, 'EXECUTE')),
  0::bigint, 'lms_gateway may execute every API function');

SELECT is(
  (SELECT array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text) FROM pg_proc p
    WHERE p.pronamespace = 'lms'::regnamespace AND p.proname NOT LIKE 'api\_%'
      AND has_function_privilege('lms_gateway', p.oid, 'EXECUTE')),
  NULL, 'lms_gateway may execute nothing but API functions');

SELECT is(
  (SELECT array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text) FROM pg_proc p
    WHERE p.pronamespace = 'lms'::regnamespace
      AND (p.proacl IS NULL OR EXISTS (SELECT FROM aclexplode(p.proacl) a WHERE a.grantee = 0))),
  NULL, 'PUBLIC may execute no function of the extension');

SELECT is(
  (SELECT array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text) FROM pg_proc p
    WHERE p.pronamespace = 'lms'::regnamespace AND p.proname LIKE 'api\_%' AND NOT p.prosecdef),
  NULL, 'every API function is SECURITY DEFINER');

SELECT is(
  (SELECT array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text) FROM pg_proc p
    WHERE p.pronamespace = 'lms'::regnamespace AND p.prosecdef
      AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)),
  NULL, 'every SECURITY DEFINER function pins search_path = pg_catalog, pg_temp');

SELECT is(
  (SELECT array_agg(c.relname::text ORDER BY c.relname) FROM pg_class c
    WHERE c.relnamespace = 'lms'::regnamespace AND has_table_privilege('lms_analyst', c.oid, 'SELECT')),
  ARRAY['course_stats', 'learner_activity', 'ops_metrics'], 'lms_analyst reads exactly the analyst views (and the monitoring row)');

SELECT is(
  (SELECT count(*) FROM pg_class c
    WHERE c.relnamespace = 'lms'::regnamespace
      AND (has_table_privilege('lms_analyst', c.oid, 'INSERT') OR has_table_privilege('lms_analyst', c.oid, 'UPDATE')
        OR has_table_privilege('lms_analyst', c.oid, 'DELETE'))),
  0::bigint, 'lms_analyst writes nothing');

SELECT is(
  (SELECT count(*) FROM pg_proc p WHERE p.pronamespace = 'lms'::regnamespace
      AND has_function_privilege('lms_analyst', p.oid, 'EXECUTE')),
  0::bigint, 'lms_analyst executes no function');

-- what the checks above say, seen from the roles themselves
SET LOCAL ROLE lms_gateway;
SELECT throws_ok('SELECT * FROM lms.users', '42501', NULL, 'lms_gateway cannot read lms.users');
SELECT throws_ok($$SELECT lms.create_user('x@example.com', 'password123', 'X')$$, '42501', NULL,
                 'lms_gateway cannot create users directly');
SELECT lives_ok($$SELECT * FROM lms.api_courses_list(NULL, NULL, '{}', NULL)$$, 'lms_gateway can call an API function');
RESET ROLE;
SET LOCAL ROLE lms_analyst;
SELECT throws_ok('SELECT * FROM lms.enrollments', '42501', NULL, 'lms_analyst cannot read tables');
-- views run their functions as the caller: they may use only pg_catalog's
SELECT lives_ok('SELECT * FROM lms.course_stats', 'lms_analyst reads lms.course_stats');
SELECT lives_ok('SELECT * FROM lms.learner_activity', 'lms_analyst reads lms.learner_activity');
SELECT lives_ok('SELECT * FROM lms.ops_metrics', 'lms_analyst (and a monitoring role in it) reads lms.ops_metrics');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

-- Statements for the LRS benchmark (bench/xapi.sh), set-based: :n statements of :agents
-- learners on :activities activities (100 per course), 5 verbs, stored over the last year,
-- each with the link rows the LRS writes (actor direct, authority related; object direct,
-- course parent related). The three big tables' keys and indexes are dropped during the load
-- and rebuilt from their own definitions (read from the catalog, not written twice here).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET maintenance_work_mem = '1GB';
SET max_parallel_maintenance_workers = 2;
CREATE TEMP TABLE saved_ddl AS
SELECT 1 AS ord, format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid)) AS ddl,
       format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname) AS drop_ddl, c.contype
  FROM pg_constraint c
 WHERE c.conrelid IN ('lms.xapi_statements'::regclass, 'lms.xapi_statement_agents'::regclass, 'lms.xapi_statement_activities'::regclass)
   AND c.contype IN ('p', 'u', 'f') AND c.confrelid IS DISTINCT FROM 'lms.xapi_clients'::regclass
UNION ALL
SELECT 2, pg_get_indexdef(i.indexrelid), format('DROP INDEX %s', i.indexrelid::regclass), 'i'
  FROM pg_index i
 WHERE i.indrelid IN ('lms.xapi_statements'::regclass, 'lms.xapi_statement_agents'::regclass, 'lms.xapi_statement_activities'::regclass)
   AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid);
DO $$
DECLARE d record;
BEGIN
  FOR d IN SELECT * FROM saved_ddl ORDER BY contype = 'f' DESC, ord LOOP EXECUTE d.drop_ddl; END LOOP;
END $$;

SELECT jsonb_build_object('objectType', 'Agent', 'name', 'bench', 'account', jsonb_build_object('homePage', 'urn:lms:xapi-client', 'name', 'bench')) AS auth \gset
SELECT now() AS t_end \gset
INSERT INTO lms.xapi_statements (seq, id, statement, verb_id, registration, stored, voided)
SELECT g.i, g.id,
       jsonb_build_object('id', g.id,
         'actor', jsonb_build_object('mbox', 'mailto:learner' || g.a || '@bench.example', 'name', 'Learner ' || g.a),
         'verb', jsonb_build_object('id', g.verb),
         'object', jsonb_build_object('id', 'http://bench.example/activity/' || g.act,
                                      'definition', jsonb_build_object('name', jsonb_build_object('en-US', 'Activity ' || g.act))),
         'result', jsonb_build_object('completion', true, 'score', jsonb_build_object('scaled', (g.i % 100) / 100.0)),
         'context', jsonb_build_object('contextActivities', jsonb_build_object('parent',
                      jsonb_build_array(jsonb_build_object('id', 'http://bench.example/course/' || (g.act / 100))))),
         'stored', lms.iso(g.stored), 'timestamp', lms.iso(g.stored), 'authority', :'auth'::jsonb, 'version', '1.0.0'),
       g.verb, NULL, g.stored, false
  FROM (SELECT i, gen_random_uuid() AS id,
               1 + (hashint8(i) & 2147483647) % :agents AS a,
               1 + (hashint8(i + 7919) & 2147483647) % :activities AS act,
               (ARRAY['http://adlnet.gov/expapi/verbs/experienced', 'http://adlnet.gov/expapi/verbs/progressed',
                      'http://adlnet.gov/expapi/verbs/completed', 'http://adlnet.gov/expapi/verbs/answered',
                      'http://adlnet.gov/expapi/verbs/attempted'])[1 + i % 5] AS verb,
               :'t_end'::timestamptz - (:n - i) * interval '3 seconds' AS stored
          FROM generate_series(1, :n) i) g;
SELECT setval(pg_get_serial_sequence('lms.xapi_statements', 'seq'), :n);
INSERT INTO lms.xapi_statement_agents (agent, seq, direct)
SELECT 'mbox:mailto:learner' || (1 + (hashint8(i) & 2147483647) % :agents) || '@bench.example', i, true FROM generate_series(1, :n) i
UNION ALL
SELECT 'account:urn:lms:xapi-client bench', i, false FROM generate_series(1, :n) i;
INSERT INTO lms.xapi_statement_activities (activity, seq, direct)
SELECT 'http://bench.example/activity/' || (1 + (hashint8(i + 7919) & 2147483647) % :activities), i, true FROM generate_series(1, :n) i
UNION ALL
SELECT 'http://bench.example/course/' || ((1 + (hashint8(i + 7919) & 2147483647) % :activities) / 100), i, false FROM generate_series(1, :n) i;
INSERT INTO lms.xapi_activities (id, definition)
SELECT 'http://bench.example/activity/' || a, jsonb_build_object('name', jsonb_build_object('en-US', 'Activity ' || a))
  FROM generate_series(1, :activities) a ON CONFLICT DO NOTHING;

DO $$
DECLARE d record;
BEGIN
  FOR d IN SELECT * FROM saved_ddl ORDER BY contype = 'f', ord, contype = 'u' LOOP EXECUTE d.ddl; END LOOP;
END $$;
VACUUM ANALYZE lms.xapi_statements, lms.xapi_statement_agents, lms.xapi_statement_activities;

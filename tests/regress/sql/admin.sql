\i tests/regress/setup.psql
-- Administration: an admin lists users, changes a role, suspends a learner (whose tokens stop
-- working at once), reads the audit log page by page and looks at the performance page.
SELECT lms.create_user('root@example.org', 'admin-pass-1', 'Root Admin', 'admin') AS admin_id,
       lms.create_user('ines@example.org', 'teach-pass-1', 'Ines Instructor', 'instructor') AS ines_id,
       lms.create_user('sam@example.org', 'learn-pass-1', 'Sam Student') AS sam_id,
       lms.create_user('sally@example.org', 'learn-pass-2', 'Sally 100%_Student') AS sally_id \gset
SELECT body::jsonb->>'access_token' AS admin_tok
  FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"root@example.org","password":"admin-pass-1"}') \gset
SELECT body::jsonb->>'access_token' AS ines_tok
  FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"ines@example.org","password":"teach-pass-1"}') \gset
SELECT body::jsonb->>'access_token' AS sam_tok
  FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"sam@example.org","password":"learn-pass-1"}') \gset
SELECT body::jsonb->>'access_token' AS sam_tok2
  FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"sam@example.org","password":"learn-pass-1"}') \gset

-- GET /admin/users: every user in id order, paged
SELECT status, jsonb_pretty(body::jsonb) FROM lms.api_admin_users_list(:'admin_tok', NULL, '{"limit":"2"}', NULL);
SELECT status, body::jsonb->'total' AS total, jsonb_path_query_array(body::jsonb, '$.items[*].email') AS emails
  FROM lms.api_admin_users_list(:'admin_tok', NULL, '{"page":"2","limit":"2"}', NULL);
SELECT status, body::jsonb->'total' AS total, jsonb_path_query_array(body::jsonb, '$.items[*].email') AS emails
  FROM lms.api_admin_users_list(:'admin_tok', NULL, '{"page":"9"}', NULL);
-- filters: role, status, q (a part of the email or name, case-insensitive, wildcards literal)
SELECT status, body::jsonb->'total' AS total, jsonb_path_query_array(body::jsonb, '$.items[*].email') AS emails
  FROM lms.api_admin_users_list(:'admin_tok', NULL, '{"role":"student"}', NULL);
SELECT status, body::jsonb->'total' AS total, jsonb_path_query_array(body::jsonb, '$.items[*].email') AS emails
  FROM lms.api_admin_users_list(:'admin_tok', NULL, '{"q":"INSTRUCTOR"}', NULL);
SELECT status, body::jsonb->'total' AS total, jsonb_path_query_array(body::jsonb, '$.items[*].email') AS emails
  FROM lms.api_admin_users_list(:'admin_tok', NULL, '{"q":"100%_"}', NULL);
SELECT status, body::jsonb->'total' AS total, jsonb_path_query_array(body::jsonb, '$.items[*].email') AS emails
  FROM lms.api_admin_users_list(:'admin_tok', NULL, '{"q":"%"}', NULL);
SELECT status, body::jsonb->'total' AS total FROM lms.api_admin_users_list(:'admin_tok', NULL, '{"status":"suspended"}', NULL);
-- bad paging and filters
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_admin_users_list(:'admin_tok', NULL, '{"limit":"0"}', NULL);
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_admin_users_list(:'admin_tok', NULL, '{"limit":"101"}', NULL);
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_admin_users_list(:'admin_tok', NULL, '{"page":"0"}', NULL);
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_admin_users_list(:'admin_tok', NULL, '{"page":"-1"}', NULL);
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_admin_users_list(:'admin_tok', NULL, '{"role":"teacher"}', NULL);
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_admin_users_list(:'admin_tok', NULL, '{"status":"gone"}', NULL);
-- only admins
SELECT status, body FROM lms.api_admin_users_list(NULL, NULL, '{}', NULL);
SELECT status, body FROM lms.api_admin_users_list('not-a-token', NULL, '{}', NULL);
SELECT status, body FROM lms.api_admin_users_list(:'ines_tok', NULL, '{}', NULL);
SELECT status, body FROM lms.api_admin_users_list(:'sam_tok', NULL, '{}', NULL);

-- PATCH /admin/users/{id}: promote Sally to instructor (one audit row)
SELECT status, jsonb_pretty(body::jsonb) FROM lms.api_admin_user_patch(:'admin_tok', :'sally_id', '{}', '{"role":"instructor"}');
SELECT role FROM lms.users WHERE id = :sally_id;
-- suspend Sam: both of his live tokens are revoked at once
SELECT count(*) AS sam_live_tokens FROM lms.sessions WHERE user_id = :sam_id AND revoked_at IS NULL;
SELECT status, body::jsonb->>'status' AS user_status
  FROM lms.api_admin_user_patch(:'admin_tok', :'sam_id', '{}', '{"status":"suspended"}');
SELECT count(*) FILTER (WHERE revoked_at IS NULL) AS live, count(*) FILTER (WHERE revoked_at = lms.clock()) AS revoked
  FROM lms.sessions WHERE user_id = :sam_id;
-- his tokens now get 401 everywhere, and he cannot log in again
SELECT status, body::jsonb->>'code' AS code FROM lms.api_users_me_get(:'sam_tok', NULL, '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_users_me_get(:'sam_tok2', NULL, '{}', NULL);
SELECT status, body::jsonb->>'code' AS code
  FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"sam@example.org","password":"learn-pass-1"}');
SELECT status, body::jsonb->'total' AS total, jsonb_path_query_array(body::jsonb, '$.items[*].email') AS emails
  FROM lms.api_admin_users_list(:'admin_tok', NULL, '{"status":"suspended"}', NULL);
-- reactivated, he logs in again (the old tokens stay revoked)
SELECT status, body::jsonb->>'status' AS user_status
  FROM lms.api_admin_user_patch(:'admin_tok', :'sam_id', '{}', '{"status":"active"}');
SELECT status, body::jsonb->>'code' AS code FROM lms.api_users_me_get(:'sam_tok', NULL, '{}', NULL);
SELECT status, body::jsonb->>'access_token' AS sam_tok3
  FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"sam@example.org","password":"learn-pass-1"}') \gset
SELECT :status AS login_status, body::jsonb->>'id' AS me FROM lms.api_users_me_get(:'sam_tok3', NULL, '{}', NULL);
-- both fields at once
SELECT status, body::jsonb->>'role' AS role, body::jsonb->>'status' AS user_status
  FROM lms.api_admin_user_patch(:'admin_tok', :'ines_id', '{}', '{"role":"admin","status":"active"}');
-- an admin may not demote or suspend themself
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_admin_user_patch(:'admin_tok', :'admin_id', '{}', '{"role":"student"}');
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_admin_user_patch(:'admin_tok', :'admin_id', '{}', '{"status":"suspended"}');
-- keeping one's own admin role is fine
SELECT status, body::jsonb->>'role' AS role FROM lms.api_admin_user_patch(:'admin_tok', :'admin_id', '{}', '{"role":"admin"}');
-- bad bodies and fields
SELECT status, body FROM lms.api_admin_user_patch(:'admin_tok', :'sam_id', '{}', NULL);
SELECT status, body FROM lms.api_admin_user_patch(:'admin_tok', :'sam_id', '{}', '[{"role":"admin"}]');
SELECT status, body FROM lms.api_admin_user_patch(:'admin_tok', :'sam_id', '{}', '"admin"');
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_admin_user_patch(:'admin_tok', :'sam_id', '{}', '{}');
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_admin_user_patch(:'admin_tok', :'sam_id', '{}', '{"role":"superuser"}');
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_admin_user_patch(:'admin_tok', :'sam_id', '{}', '{"role":null}');
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_admin_user_patch(:'admin_tok', :'sam_id', '{}', '{"status":"banned","email":"x@y.z"}');
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_admin_user_patch(:'admin_tok', :'sam_id', '{}', '{"status":1}');
-- unknown user, wrong roles, no token
SELECT status, body FROM lms.api_admin_user_patch(:'admin_tok', '999', '{}', '{"role":"student"}');
SELECT status, body FROM lms.api_admin_user_patch(:'admin_tok', 'abc', '{}', '{"role":"student"}');
SELECT status, body::jsonb->>'code' AS code FROM lms.api_admin_user_patch(:'sam_tok3', :'sam_id', '{}', '{"role":"admin"}');
SELECT body::jsonb->>'access_token' AS sally_tok
  FROM lms.api_auth_login(NULL, NULL, '{}', '{"email":"sally@example.org","password":"learn-pass-2"}') \gset
SELECT status, body::jsonb->>'code' AS code FROM lms.api_admin_user_patch(:'sally_tok', :'sam_id', '{}', '{"role":"admin"}');
SELECT status, body::jsonb->>'code' AS code FROM lms.api_admin_user_patch(NULL, :'sam_id', '{}', '{"role":"admin"}');
-- nothing changed by the refused requests
SELECT id, role, status FROM lms.users ORDER BY id;

-- GET /admin/audit: newest first, one row per change, a cursor to the next page
SELECT id, actor_id, action, entity, entity_id, data FROM lms.audit_log ORDER BY id;
SELECT status, jsonb_pretty(body::jsonb) FROM lms.api_admin_audit(:'admin_tok', NULL, '{"limit":"2"}', NULL);
SELECT body::jsonb->>'next_cursor' AS cur FROM lms.api_admin_audit(:'admin_tok', NULL, '{"limit":"2"}', NULL) \gset
SELECT status, jsonb_path_query_array(body::jsonb, '$.items[*].id') AS ids, body::jsonb->'next_cursor' AS next_cursor
  FROM lms.api_admin_audit(:'admin_tok', NULL, jsonb_build_object('after', :'cur', 'limit', '2'), NULL);
SELECT status, jsonb_path_query_array(body::jsonb, '$.items[*].id') AS ids, body::jsonb->'next_cursor' AS next_cursor
  FROM lms.api_admin_audit(:'admin_tok', NULL, '{"after":"2","limit":"2"}', NULL);
SELECT status, jsonb_path_query_array(body::jsonb, '$.items[*].id') AS ids, body::jsonb->'next_cursor' AS next_cursor
  FROM lms.api_admin_audit(:'admin_tok', NULL, '{}', NULL);
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_admin_audit(:'admin_tok', NULL, '{"after":"abc"}', NULL);
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_admin_audit(:'admin_tok', NULL, '{"after":"-5"}', NULL);
SELECT status, body::jsonb->'errors' AS errors FROM lms.api_admin_audit(:'admin_tok', NULL, '{"limit":"1000"}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_admin_audit(:'sally_tok', NULL, '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_admin_audit(NULL, NULL, '{}', NULL);

-- GET /admin/performance: database figures, the gateway's figures embedded as given, board freshness
SELECT status,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(body::jsonb) k) AS keys,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(body::jsonb->'database') k) AS database_keys,
       (body::jsonb #>> '{database,cache_hit_ratio}')::numeric BETWEEN 0 AND 1 AS ratio_ok,
       (body::jsonb #>> '{database,connections}')::int >= 1 AS connections_ok,
       (body::jsonb #>> '{database,size_bytes}')::bigint > 0 AS size_ok,
       jsonb_typeof(body::jsonb #> '{database,top_queries}') AS top_queries,
       jsonb_typeof(body::jsonb #> '{database,unused_indexes}') AS unused_indexes,
       body::jsonb #> '{database,tables}' @> '[{"table":"users"}]' AS lists_users_table,
       body::jsonb->'gateway' AS gateway
  FROM lms.api_admin_performance(:'admin_tok', NULL, '{}',
         '{"requests_total":10,"errors_total":1,"routes":[{"route":"GET /health","count":10,"p50_ms":0.1,"p95_ms":0.2,"p99_ms":0.3}],"pool":{"size":4,"in_use":1,"waiting":0}}');
SELECT status, body::jsonb->'gateway' AS gateway,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(body::jsonb->'leaderboards') k) AS leaderboards_keys
  FROM lms.api_admin_performance(:'admin_tok', NULL, '{}', NULL);
-- after a refresh, generated_at says when the global board was built
SELECT count(*) > 0 AS refreshed FROM (SELECT lms.refresh_leaderboards()) r;
SELECT status, body::jsonb #>> '{leaderboards,generated_at}' AS generated_at
  FROM lms.api_admin_performance(:'admin_tok', NULL, '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_admin_performance(:'sally_tok', NULL, '{}', NULL);
SELECT status, body::jsonb->>'code' AS code FROM lms.api_admin_performance(NULL, NULL, '{}', NULL);

-- Administration and operations: users, the audit log and the performance page (admins only).

-- 401 without a valid token, 403 for anyone but an admin; NULL when the caller is an admin.
CREATE FUNCTION lms.admin_check(me lms.caller) RETURNS lms.api_response
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE WHEN me.user_id IS NULL THEN lms.unauthenticated()
            WHEN me.role IS DISTINCT FROM 'admin' THEN lms.forbidden('Only an admin may do this.') END;

-- lms.user_counts (74_summary_schema.sql) follows the users, per statement.
CREATE FUNCTION lms.user_counts_follow() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO lms.user_counts AS c (role, status, shard, users)
    SELECT a.role, a.status, (a.id % 8)::int, count(*) FROM added a GROUP BY 1, 2, 3
    ON CONFLICT (role, status, shard) DO UPDATE SET users = c.users + EXCLUDED.users;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO lms.user_counts AS c (role, status, shard, users)
    SELECT r.role, r.status, (r.id % 8)::int, -count(*) FROM removed r GROUP BY 1, 2, 3
    ON CONFLICT (role, status, shard) DO UPDATE SET users = c.users + EXCLUDED.users;
  ELSE
    INSERT INTO lms.user_counts AS c (role, status, shard, users)
    SELECT x.role, x.status, x.shard, sum(x.d) FROM
      (SELECT a.role, a.status, (a.id % 8)::int AS shard, 1 AS d FROM added a
       UNION ALL SELECT r.role, r.status, (r.id % 8)::int, -1 FROM removed r) x
     GROUP BY 1, 2, 3 HAVING sum(x.d) <> 0
    ON CONFLICT (role, status, shard) DO UPDATE SET users = c.users + EXCLUDED.users;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER users_counted_insert AFTER INSERT ON lms.users
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION lms.user_counts_follow();
CREATE TRIGGER users_counted_update AFTER UPDATE ON lms.users
  REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION lms.user_counts_follow();
CREATE TRIGGER users_counted_delete AFTER DELETE ON lms.users
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION lms.user_counts_follow();


-- GET /admin/users ?page,limit,role,status,q: every user in id order; role and status filter
-- exactly, q matches a part of the email or display name (case-insensitive).
CREATE FUNCTION lms.api_admin_users_list(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  p lms.api_response := lms.admin_check(lms.caller(token));
  pg lms.paging := lms.paging(query);
  r text := query->>'role';
  st text := query->>'status';
  pat text;
  n bigint;
  items jsonb;
BEGIN
  IF p.status IS NOT NULL THEN RETURN p; END IF;
  IF (pg.problem).status IS NOT NULL THEN RETURN pg.problem; END IF;
  IF r IS NOT NULL AND r NOT IN ('student', 'instructor', 'admin') THEN
    RETURN lms.invalid('role', 'must be one of student, instructor, admin');
  END IF;
  IF st IS NOT NULL AND st NOT IN ('active', 'suspended') THEN
    RETURN lms.invalid('status', 'must be one of active, suspended');
  END IF;
  IF pg_catalog.length(query->>'q') > 200 THEN
    RETURN lms.invalid('q', 'must be at most 200 characters');
  END IF;
  -- q is matched literally: escape LIKE's wildcards
  pat := '%' || pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(nullif(query->>'q', ''), '\', '\\'), '%', '\%'), '_', '\_') || '%';
  IF pat IS NULL THEN
    SELECT coalesce(sum(c.users), 0) INTO n FROM lms.user_counts c
     WHERE (r IS NULL OR c.role = r) AND (st IS NULL OR c.status = st);
  ELSE
    SELECT count(*) INTO n FROM lms.users u
     WHERE (r IS NULL OR u.role = r) AND (st IS NULL OR u.status = st)
       AND (u.email ILIKE pat OR u.display_name ILIKE pat);
  END IF;
  SELECT coalesce(pg_catalog.jsonb_agg(lms.user_json(x) ORDER BY x.id), '[]') INTO items
    FROM (SELECT u.* FROM lms.users u
           WHERE (r IS NULL OR u.role = r) AND (st IS NULL OR u.status = st)
             AND (pat IS NULL OR u.email ILIKE pat OR u.display_name ILIKE pat)
           ORDER BY u.id
           LIMIT pg.lim OFFSET (pg.page - 1)::bigint * pg.lim) x;
  RETURN lms.ok(200, pg_catalog.jsonb_build_object('items', items, 'page', pg.page, 'limit', pg.lim, 'total', n));
END
$$;

-- PATCH /admin/users/{id} {role?,status?}: an admin changes a user's role or status.
-- Suspending revokes every live token of the user at once (their next request gets 401).
-- An admin may not suspend or demote themself (400 validation_failed): that keeps at least the
-- acting admin able to undo a mistake. Unknown fields and an empty object are 400 too.
CREATE FUNCTION lms.api_admin_user_patch(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  req lms.request := lms.request(token, path, body);
  me lms.caller := req.who;
  p lms.api_response := lms.admin_check(me);
  b jsonb := req.body;
  u lms.users;
  errs jsonb := '[]';
  k text;
  new_role text;
  new_status text;
  revoked int := 0;
  changes jsonb := '{}';
BEGIN
  IF p.status IS NOT NULL THEN RETURN p; END IF;
  SELECT * INTO u FROM lms.users x WHERE x.id = lms.path_id(path) FOR UPDATE;
  IF NOT FOUND THEN RETURN lms.not_found('User'); END IF;
  IF b IS NULL THEN RETURN lms.invalid_body(); END IF;

  FOR k IN SELECT pg_catalog.jsonb_object_keys(b) LOOP
    IF k NOT IN ('role', 'status') THEN
      errs := errs || pg_catalog.jsonb_build_object('field', k, 'message', 'unknown field (role and status may be changed)');
    END IF;
  END LOOP;
  IF b ? 'role' THEN
    IF pg_catalog.jsonb_typeof(b->'role') IS DISTINCT FROM 'string' OR b->>'role' NOT IN ('student', 'instructor', 'admin') THEN
      errs := errs || pg_catalog.jsonb_build_object('field', 'role', 'message', 'must be one of student, instructor, admin');
    ELSE
      new_role := b->>'role';
      IF u.id = me.user_id AND new_role <> 'admin' THEN
        errs := errs || pg_catalog.jsonb_build_object('field', 'role', 'message', 'an admin may not demote themself');
      END IF;
    END IF;
  END IF;
  IF b ? 'status' THEN
    IF pg_catalog.jsonb_typeof(b->'status') IS DISTINCT FROM 'string' OR b->>'status' NOT IN ('active', 'suspended') THEN
      errs := errs || pg_catalog.jsonb_build_object('field', 'status', 'message', 'must be one of active, suspended');
    ELSE
      new_status := b->>'status';
      IF u.id = me.user_id AND new_status = 'suspended' THEN
        errs := errs || pg_catalog.jsonb_build_object('field', 'status', 'message', 'an admin may not suspend themself');
      END IF;
    END IF;
  END IF;
  IF NOT (b ? 'role' OR b ? 'status') AND pg_catalog.jsonb_array_length(errs) = 0 THEN
    errs := errs || pg_catalog.jsonb_build_object('field', 'body', 'message', 'nothing to change: send role and/or status');
  END IF;
  IF pg_catalog.jsonb_array_length(errs) > 0 THEN
    RETURN lms.validation_failed(errs);
  END IF;

  IF new_role IS NOT NULL THEN
    changes := changes || pg_catalog.jsonb_build_object('role', pg_catalog.jsonb_build_object('from', u.role, 'to', new_role));
  END IF;
  IF new_status IS NOT NULL THEN
    changes := changes || pg_catalog.jsonb_build_object('status', pg_catalog.jsonb_build_object('from', u.status, 'to', new_status));
  END IF;
  UPDATE lms.users x
     SET role = coalesce(new_role, x.role), status = coalesce(new_status, x.status), updated_at = lms.clock()
   WHERE x.id = u.id
  RETURNING * INTO u;
  IF new_status = 'suspended' THEN
    UPDATE lms.sessions s SET revoked_at = lms.clock()
     WHERE s.user_id = u.id AND s.revoked_at IS NULL;
    GET DIAGNOSTICS revoked = ROW_COUNT;
    changes := changes || pg_catalog.jsonb_build_object('tokens_revoked', revoked);
  END IF;
  PERFORM lms.audit(me.user_id, 'user.update', 'user', u.id, changes);
  RETURN lms.ok(200, lms.user_json(u));
END
$$;

-- GET /admin/audit ?after,limit: the audit log newest first. The cursor is opaque to clients
-- (today the id of the last row of the previous page, as text); a cursor that is not one -> 400.
CREATE FUNCTION lms.api_admin_audit(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  p lms.api_response := lms.admin_check(lms.caller(token));
  pg lms.paging := lms.paging(pg_catalog.jsonb_build_object('limit', query->'limit'));
  cur text := query->>'after';
  after_id bigint;
  items jsonb;
  n int;
BEGIN
  IF p.status IS NOT NULL THEN RETURN p; END IF;
  IF (pg.problem).status IS NOT NULL THEN RETURN pg.problem; END IF;
  IF cur IS NOT NULL THEN
    after_id := lms.path_id(cur);
    IF after_id IS NULL THEN RETURN lms.invalid('after', 'not a cursor returned by this list'); END IF;
  END IF;
  SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'id', a.id, 'actor_id', a.actor_id, 'action', a.action, 'entity', a.entity,
           'entity_id', a.entity_id, 'data', a.data, 'created_at', lms.iso(a.created_at)) ORDER BY a.id DESC), '[]'),
         count(*)
    INTO items, n
    FROM (SELECT * FROM lms.audit_log a
           WHERE after_id IS NULL OR a.id < after_id
           ORDER BY a.id DESC LIMIT pg.lim + 1) a;
  IF n > pg.lim THEN
    items := items - pg.lim;
    RETURN lms.ok(200, pg_catalog.jsonb_build_object('items', items, 'next_cursor', (items->(pg.lim - 1)->>'id')));
  END IF;
  RETURN lms.ok(200, pg_catalog.jsonb_build_object('items', items, 'next_cursor', NULL));
END
$$;

-- GET /admin/performance: database figures, the gateway's own figures (passed as body by the
-- gateway and embedded as is; null when there is none) and the leaderboards' freshness.
-- top_queries come from pg_stat_statements when that extension is installed in this database
-- and loaded; otherwise [].
CREATE FUNCTION lms.api_admin_performance(token text, path text, query jsonb, body jsonb)
RETURNS lms.api_response
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  p lms.api_response := lms.admin_check(lms.caller(token));
  db jsonb;
  top jsonb := '[]';
  pss_schema name;
  boards jsonb;
BEGIN
  IF p.status IS NOT NULL THEN RETURN p; END IF;
  SELECT pg_catalog.jsonb_build_object(
           'cache_hit_ratio', CASE WHEN d.blks_hit + d.blks_read > 0
                                   THEN pg_catalog.round(d.blks_hit::numeric / (d.blks_hit + d.blks_read), 4) END,
           'connections', (SELECT count(*) FROM pg_stat_activity a WHERE a.datid = d.datid),
           'size_bytes', pg_catalog.pg_database_size(d.datid),
           'transactions_committed', d.xact_commit,
           'transactions_rolled_back', d.xact_rollback,
           'deadlocks', d.deadlocks)
    INTO db
    FROM pg_stat_database d WHERE d.datname = pg_catalog.current_database();

  SELECT e.extnamespace::regnamespace::name INTO pss_schema
    FROM pg_extension e WHERE e.extname = 'pg_stat_statements';
  IF pss_schema IS NOT NULL THEN
    BEGIN
      EXECUTE pg_catalog.format($q$
        SELECT coalesce(pg_catalog.jsonb_agg(t ORDER BY t.total_ms DESC), '[]')
          FROM (SELECT left(s.query, 500) AS query, s.calls,
                       pg_catalog.round(s.total_exec_time::numeric, 3) AS total_ms,
                       pg_catalog.round(s.mean_exec_time::numeric, 3) AS mean_ms, s.rows
                  FROM %I.pg_stat_statements s
                 WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = pg_catalog.current_database())
                 ORDER BY s.total_exec_time DESC LIMIT 10) t$q$, pss_schema)
        INTO top;
    EXCEPTION WHEN OTHERS THEN
      top := '[]';   -- installed but not loaded (shared_preload_libraries), or an older version
    END;
  END IF;

  db := db || pg_catalog.jsonb_build_object(
    'top_queries', top,
    'unused_indexes', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                                 'table', i.relname, 'index', i.indexrelname,
                                 'size_bytes', pg_catalog.pg_relation_size(i.indexrelid)) ORDER BY i.relname, i.indexrelname), '[]')
                         FROM pg_stat_user_indexes i JOIN pg_index x ON x.indexrelid = i.indexrelid
                        WHERE i.schemaname = 'lms' AND i.idx_scan = 0
                          AND NOT x.indisunique AND NOT x.indisprimary),
    'tables', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                        'table', t.relname, 'rows', t.n_live_tup,
                        'size_bytes', pg_catalog.pg_total_relation_size(t.relid),
                        'seq_scan', t.seq_scan, 'idx_scan', coalesce(t.idx_scan, 0))
                      ORDER BY t.relname), '[]')
                 FROM pg_stat_user_tables t WHERE t.schemaname = 'lms'));

  -- board freshness from the leaderboard metadata (lms.boards, when gamification is installed):
  -- generated_at of the global all-time board, the stalest board's, and how many boards exist
  IF pg_catalog.to_regclass('lms.boards') IS NOT NULL THEN
    EXECUTE $q$SELECT pg_catalog.jsonb_build_object(
                 'generated_at', lms.iso(max(b.generated_at) FILTER (WHERE b.board = 'global' AND b.win = 'all')),
                 'oldest_generated_at', lms.iso(min(b.generated_at)),
                 'boards', count(*))
               FROM lms.boards b$q$ INTO boards;
  END IF;

  RETURN lms.ok(200, pg_catalog.jsonb_build_object(
    'database', db,
    'gateway', body,
    'leaderboards', coalesce(boards, pg_catalog.jsonb_build_object('generated_at', NULL))));
END
$$;

-- A normalized listing of everything the lms extension owns, for comparing two installs.
SELECT 'object ' || pg_describe_object(d.classid, d.objid, 0)
  FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
 WHERE e.extname = 'lms' AND d.deptype = 'e'
UNION ALL
SELECT 'function ' || p.oid::regprocedure || ' ' || md5(pg_get_functiondef(p.oid)) || ' ' || coalesce(p.proacl::text, '')
  FROM pg_proc p WHERE p.pronamespace = 'lms'::regnamespace AND p.prokind IN ('f', 'p')
UNION ALL
SELECT 'column ' || a.attrelid::regclass || '.' || a.attnum || ' ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END || ' ' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '')
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
 WHERE c.relnamespace = 'lms'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace = 'lms'::regnamespace
UNION ALL
SELECT 'index ' || pg_get_indexdef(indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE c.relnamespace = 'lms'::regnamespace
UNION ALL
SELECT 'view ' || c.oid::regclass || ' ' || md5(pg_get_viewdef(c.oid)) || ' ' || coalesce(c.relacl::text, '')
  FROM pg_class c WHERE c.relnamespace = 'lms'::regnamespace AND c.relkind IN ('v', 'm')
UNION ALL
SELECT 'table acl ' || c.oid::regclass || ' ' || coalesce(c.relacl::text, '')
  FROM pg_class c WHERE c.relnamespace = 'lms'::regnamespace AND c.relkind IN ('r', 'S')
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 'lms'::regnamespace AND NOT t.tgisinternal
UNION ALL
SELECT 'comment ' || pg_describe_object(d.classoid, d.objoid, d.objsubid) || ' ' || md5(d.description)
  FROM pg_description d
 WHERE (d.classoid = 'pg_class'::regclass AND d.objoid IN (SELECT oid FROM pg_class WHERE relnamespace = 'lms'::regnamespace))
    OR (d.classoid = 'pg_proc'::regclass AND d.objoid IN (SELECT oid FROM pg_proc WHERE pronamespace = 'lms'::regnamespace))
    OR (d.classoid = 'pg_type'::regclass AND d.objoid IN (SELECT oid FROM pg_type WHERE typnamespace = 'lms'::regnamespace))
UNION ALL
SELECT 'dump config ' || x::regclass || ' ' || coalesce(w, '') FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS u(x, w) WHERE e.extname = 'lms'
ORDER BY 1;

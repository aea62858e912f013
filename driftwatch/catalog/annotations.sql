-- Owners, grants and comments: left out by default because they differ between environments
-- on purpose (UAT runs on test credentials); read only for the [schema] compare_* opt-ins.
-- One row per object: kind and key as the snapshot names them.
SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized_view'
                      WHEN 'S' THEN 'sequence' ELSE 'table' END AS kind,
       ns.nspname || '.' || c.relname AS key,
       pg_catalog.pg_get_userbyid(c.relowner) AS owner,
       ARRAY(SELECT a::text FROM unnest(c.relacl) AS a ORDER BY 1) AS grants,
       pg_catalog.obj_description(c.oid, 'pg_class') AS comment
FROM pg_catalog.pg_class c
JOIN ns ON ns.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S')
UNION ALL
SELECT 'column', ns.nspname || '.' || c.relname || '.' || a.attname, NULL,
       ARRAY(SELECT x::text FROM unnest(a.attacl) AS x ORDER BY 1),
       pg_catalog.col_description(c.oid, a.attnum)
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN ns ON ns.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'f') AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'function', ns.nspname || '.' || p.proname || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')',
       pg_catalog.pg_get_userbyid(p.proowner),
       ARRAY(SELECT x::text FROM unnest(p.proacl) AS x ORDER BY 1),
       pg_catalog.obj_description(p.oid, 'pg_proc')
FROM pg_catalog.pg_proc p
JOIN ns ON ns.oid = p.pronamespace
UNION ALL
SELECT 'type', ns.nspname || '.' || t.typname, pg_catalog.pg_get_userbyid(t.typowner),
       ARRAY(SELECT x::text FROM unnest(t.typacl) AS x ORDER BY 1),
       pg_catalog.obj_description(t.oid, 'pg_type')
FROM pg_catalog.pg_type t
JOIN ns ON ns.oid = t.typnamespace
WHERE t.typtype IN ('e', 'd', 'c', 'r')
UNION ALL
SELECT 'schema', ns.nspname, pg_catalog.pg_get_userbyid(n.nspowner),
       ARRAY(SELECT x::text FROM unnest(n.nspacl) AS x ORDER BY 1),
       pg_catalog.obj_description(n.oid, 'pg_namespace')
FROM ns
JOIN pg_catalog.pg_namespace n ON n.oid = ns.oid

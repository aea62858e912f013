-- Tables: regular, partitioned, unlogged and foreign, with partitioning, inheritance and RLS.
SELECT ns.nspname AS schema,
       c.relname AS name,
       CASE
         WHEN c.relkind = 'p' THEN 'partitioned'
         WHEN c.relkind = 'f' THEN 'foreign'
         WHEN c.relpersistence = 'u' THEN 'unlogged'
         ELSE 'regular'
       END AS relkind,
       (SELECT pn.nspname || '.' || pc.relname
        FROM pg_catalog.pg_inherits i
        JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent
        JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
        WHERE i.inhrelid = c.oid AND c.relispartition) AS partition_of,
       CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END
         AS partition_bound,
       CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END AS partition_key,
       ARRAY(SELECT pn.nspname || '.' || pc.relname
             FROM pg_catalog.pg_inherits i
             JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent
             JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
             WHERE i.inhrelid = c.oid AND NOT c.relispartition
             ORDER BY i.inhseqno) AS inherits,
       c.relrowsecurity AS rls_enabled,
       c.relforcerowsecurity AS rls_forced
FROM pg_catalog.pg_class c
JOIN ns ON ns.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'f')
  AND NOT EXISTS (SELECT 1 FROM ext_members e
              WHERE e.classid = 'pg_catalog.pg_class'::regclass AND e.objid = c.oid)

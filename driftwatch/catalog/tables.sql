-- Tables: regular, partitioned, unlogged and foreign; one row each.
SELECT ns.nspname AS schema,
       c.relname AS name,
       CASE
         WHEN c.relkind = 'p' THEN 'partitioned'
         WHEN c.relkind = 'f' THEN 'foreign'
         WHEN c.relpersistence = 'u' THEN 'unlogged'
         ELSE 'regular'
       END AS relkind
FROM pg_catalog.pg_class c
JOIN ns ON ns.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'f')
  AND NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_depend d
    WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
  )

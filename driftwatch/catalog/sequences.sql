-- Standalone sequences. A serial or identity sequence depends on its column ('a' or 'i')
-- and belongs to its table, so it is not an object of its own here.
SELECT ns.nspname AS schema,
       c.relname AS name,
       pg_catalog.format_type(s.seqtypid, NULL) AS data_type,
       s.seqstart AS start,
       s.seqincrement AS increment,
       s.seqmin AS min_value,
       s.seqmax AS max_value,
       s.seqcache AS cache,
       s.seqcycle AS cycle
FROM pg_catalog.pg_sequence s
JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
JOIN ns ON ns.oid = c.relnamespace
WHERE NOT EXISTS (SELECT 1 FROM ext_members e
                  WHERE e.classid = 'pg_catalog.pg_class'::regclass AND e.objid = c.oid)
  AND NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_depend d
    WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
      AND d.deptype IN ('a', 'i') AND d.refclassid = 'pg_catalog.pg_class'::regclass
  )

-- User triggers (not the internal ones behind foreign keys, nor partitions' clones).
-- tgtype bits: 1 row, 2 before, 4 insert, 8 delete, 16 update, 32 truncate, 64 instead of.
SELECT ns.nspname || '.' || c.relname AS "table",
       t.tgname AS name,
       CASE WHEN t.tgtype & 2 = 2 THEN 'before' WHEN t.tgtype & 64 = 64 THEN 'instead of'
            ELSE 'after' END AS timing,
       array_remove(ARRAY[
         CASE WHEN t.tgtype & 4 = 4 THEN 'insert' END,
         CASE WHEN t.tgtype & 16 = 16 THEN 'update' ||
           COALESCE(' of ' || (SELECT string_agg(a.attname, ', ' ORDER BY a.attname)
                               FROM pg_catalog.pg_attribute a
                               WHERE a.attrelid = t.tgrelid AND a.attnum = ANY (t.tgattr)), '')
         END,
         CASE WHEN t.tgtype & 8 = 8 THEN 'delete' END,
         CASE WHEN t.tgtype & 32 = 32 THEN 'truncate' END], NULL) AS events,
       CASE WHEN t.tgtype & 1 = 1 THEN 'row' ELSE 'statement' END AS level,
       fn.nspname || '.' || p.proname AS function,
       substring(pg_catalog.pg_get_triggerdef(t.oid, true) FROM '\sWHEN \((.*)\) EXECUTE ') AS "when",
       CASE t.tgenabled WHEN 'O' THEN 'origin' WHEN 'A' THEN 'always' WHEN 'R' THEN 'replica'
                        ELSE 'disabled' END AS enabled
FROM pg_catalog.pg_trigger t
JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
JOIN ns ON ns.oid = c.relnamespace
JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
JOIN pg_catalog.pg_namespace fn ON fn.oid = p.pronamespace
WHERE NOT t.tgisinternal
  AND t.tgparentid = 0
  AND NOT EXISTS (SELECT 1 FROM ext_members e
              WHERE e.classid = 'pg_catalog.pg_class'::regclass AND e.objid = c.oid)

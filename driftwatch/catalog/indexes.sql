-- Indexes that do not back a constraint (those are reported as the constraint), and that
-- are not a partition's copy of a partitioned index.
SELECT ns.nspname AS schema,
       ic.relname AS name,
       ns_t.nspname || '.' || tc.relname AS "table",
       am.amname AS method,
       i.indisunique AS unique,
       ARRAY(SELECT pg_catalog.pg_get_indexdef(i.indexrelid, k.n::int, true)
                    || CASE WHEN opc.opcdefault THEN '' ELSE ' ' || opc.opcname END
                    || CASE WHEN i.indoption[k.n - 1] & 1 = 1 THEN ' DESC' ELSE '' END
                    || CASE (i.indoption[k.n - 1] & 3)
                         WHEN 2 THEN ' NULLS FIRST' WHEN 1 THEN ' NULLS LAST' ELSE '' END
             FROM generate_series(1, i.indnkeyatts) AS k(n)
             LEFT JOIN pg_catalog.pg_opclass opc ON opc.oid = i.indclass[k.n - 1]
             ORDER BY k.n) AS keys,
       ARRAY(SELECT pg_catalog.pg_get_indexdef(i.indexrelid, k.n::int, true)
             FROM generate_series(i.indnkeyatts + 1, i.indnatts) AS k(n)
             ORDER BY k.n) AS include,
       pg_catalog.pg_get_expr(i.indpred, i.indrelid) AS predicate,
       COALESCE((to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false) AS nulls_not_distinct
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN ns ON ns.oid = ic.relnamespace
JOIN pg_catalog.pg_class tc ON tc.oid = i.indrelid
JOIN pg_catalog.pg_namespace ns_t ON ns_t.oid = tc.relnamespace
JOIN pg_catalog.pg_am am ON am.oid = ic.relam
WHERE NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_constraint con
    WHERE con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x')
  )
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h WHERE h.inhrelid = i.indexrelid)
  AND NOT EXISTS (SELECT 1 FROM ext_members e
              WHERE e.classid = 'pg_catalog.pg_class'::regclass AND e.objid = tc.oid)

-- Indexes that do not back a constraint (those are reported as the constraint), and that
-- are not a partition's copy of a partitioned index. Key columns are resolved set-based;
-- only expression keys (indkey 0) ask the server to deparse them. Each key column's name is
-- one index probe on pg_attribute (`OFFSET 0` keeps the planner from hashing all of
-- pg_attribute instead: 700,000 rows at 20,000 tables).
, scoped AS (
  SELECT i.*, ns.nspname, ic.relname, ic.relam,
         ns_t.nspname || '.' || tc.relname AS qualified_table
  FROM pg_catalog.pg_index i
  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
  JOIN ns ON ns.oid = ic.relnamespace
  JOIN pg_catalog.pg_class tc ON tc.oid = i.indrelid
  JOIN pg_catalog.pg_namespace ns_t ON ns_t.oid = tc.relnamespace
  WHERE NOT EXISTS (
      SELECT 1 FROM pg_catalog.pg_constraint con
      WHERE con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x')
    )
    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h WHERE h.inhrelid = i.indexrelid)
    AND NOT EXISTS (SELECT 1 FROM ext_members e
                    WHERE e.classid = 'pg_catalog.pg_class'::regclass AND e.objid = tc.oid)
), parts AS (
  SELECT s.indexrelid, k.n,
         CASE WHEN k.attnum <> 0 THEN quote_ident(a.attname)
              ELSE pg_catalog.pg_get_indexdef(s.indexrelid, k.n::int, true) END
         || CASE WHEN k.n > s.indnkeyatts OR opc.opcdefault THEN '' ELSE ' ' || opc.opcname END
         || CASE WHEN k.n > s.indnkeyatts THEN ''
                 ELSE CASE WHEN s.indoption[k.n - 1] & 1 = 1 THEN ' DESC' ELSE '' END
                      || CASE (s.indoption[k.n - 1] & 3)
                           WHEN 2 THEN ' NULLS FIRST' WHEN 1 THEN ' NULLS LAST' ELSE '' END
            END AS part,
         k.n > s.indnkeyatts AS included
  FROM scoped s
  CROSS JOIN LATERAL unnest(s.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
  LEFT JOIN LATERAL (SELECT a.attname FROM pg_catalog.pg_attribute a
                     WHERE a.attrelid = s.indrelid AND a.attnum = k.attnum OFFSET 0) a ON true
  LEFT JOIN pg_catalog.pg_opclass opc ON opc.oid = s.indclass[k.n - 1]
), grouped AS (
  SELECT indexrelid,
         array_agg(part ORDER BY n) FILTER (WHERE NOT included) AS keys,
         COALESCE(array_agg(part ORDER BY n) FILTER (WHERE included), '{}') AS include
  FROM parts
  GROUP BY indexrelid
)
SELECT s.nspname AS schema,
       s.relname AS name,
       s.qualified_table AS "table",
       am.amname AS method,
       s.indisunique AS unique,
       g.keys,
       g.include,
       pg_catalog.pg_get_expr(s.indpred, s.indrelid) AS predicate,
       COALESCE(io.nulls_not_distinct, false) AS nulls_not_distinct
FROM scoped s
JOIN grouped g ON g.indexrelid = s.indexrelid
JOIN pg_catalog.pg_am am ON am.oid = s.relam
LEFT JOIN index_options io ON io.indexrelid = s.indexrelid

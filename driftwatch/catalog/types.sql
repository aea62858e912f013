-- User-defined enums, domains, composite and range types (not array or table row types).
SELECT ns.nspname AS schema,
       t.typname AS name,
       CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain'
                      WHEN 'c' THEN 'composite' ELSE 'range' END AS type_kind,
       ARRAY(SELECT e.enumlabel::text FROM pg_catalog.pg_enum e
             WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS values,
       CASE t.typtype
         WHEN 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod)
         WHEN 'r' THEN (SELECT pg_catalog.format_type(r.rngsubtype, NULL)
                        FROM pg_catalog.pg_range r WHERE r.rngtypid = t.oid)
       END AS base_type,
       pg_catalog.pg_get_expr(t.typdefaultbin, 0) AS default,
       t.typnotnull AS not_null,
       -- contype 'c' only: PostgreSQL 17+ also stores a domain's NOT NULL as a constraint row.
       ARRAY(SELECT pg_catalog.pg_get_constraintdef(con.oid, true) FROM pg_catalog.pg_constraint con
             WHERE con.contypid = t.oid AND con.contype = 'c' ORDER BY 1) AS checks,
       ARRAY(SELECT a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
             FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum) AS attributes
FROM pg_catalog.pg_type t
JOIN ns ON ns.oid = t.typnamespace
LEFT JOIN pg_catalog.pg_class c ON c.oid = t.typrelid
WHERE (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND c.relkind = 'c'))
  AND NOT EXISTS (SELECT 1 FROM ext_members e
              WHERE e.classid = 'pg_catalog.pg_type'::regclass AND e.objid = t.oid)

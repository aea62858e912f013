-- Table constraints: primary key, unique, foreign key, check, exclusion. NOT NULL rows
-- (contype 'n', PostgreSQL 18) are folded into column nullability instead, and constraints
-- cloned onto partitions (conparentid <> 0) are implied by the parent's.
SELECT ns.nspname || '.' || c.relname AS "table",
       con.conname AS name,
       CASE con.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique'
                        WHEN 'f' THEN 'foreign key' WHEN 'c' THEN 'check'
                        ELSE 'exclusion' END AS constraint_type,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, n)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.n) AS columns,
       -- NOT VALID is the `validated` attribute; keep it out of the expression text.
       CASE WHEN con.contype IN ('c', 'x')
            THEN regexp_replace(pg_catalog.pg_get_constraintdef(con.oid, true), ' NOT VALID$', '')
       END AS expression,
       CASE WHEN con.contype = 'f' THEN
         (SELECT rn.nspname || '.' || rc.relname || '(' ||
                 (SELECT string_agg(ra.attname, ', ' ORDER BY k.n)
                  FROM unnest(con.confkey) WITH ORDINALITY k(attnum, n)
                  JOIN pg_catalog.pg_attribute ra
                    ON ra.attrelid = con.confrelid AND ra.attnum = k.attnum) || ')'
          FROM pg_catalog.pg_class rc JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
          WHERE rc.oid = con.confrelid) END AS "references",
       CASE WHEN con.contype = 'f' THEN
         CASE con.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'
           WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END END AS on_delete,
       CASE WHEN con.contype = 'f' THEN
         CASE con.confupdtype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'
           WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END END AS on_update,
       CASE WHEN con.contype = 'f' THEN
         CASE con.confmatchtype WHEN 'f' THEN 'FULL' WHEN 'p' THEN 'PARTIAL' ELSE 'SIMPLE' END
       END AS match,
       -- indnullsnotdistinct exists from PostgreSQL 15 on; read through to_jsonb so the same
       -- query runs on 13 and 14, where it is simply absent (false).
       COALESCE((SELECT (to_jsonb(i) ->> 'indnullsnotdistinct')::boolean
                 FROM pg_catalog.pg_index i
                 WHERE i.indexrelid = con.conindid AND con.contype = 'u'), false)
         AS nulls_not_distinct,
       con.condeferrable AS deferrable,
       con.condeferred AS initially_deferred,
       con.convalidated AS validated,
       pg_catalog.pg_get_constraintdef(con.oid, true) AS definition
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
JOIN ns ON ns.oid = c.relnamespace
WHERE con.contype IN ('p', 'u', 'f', 'c', 'x')
  AND con.conparentid = 0
  AND con.conislocal
  AND NOT EXISTS (SELECT 1 FROM ext_members e
              WHERE e.classid = 'pg_catalog.pg_class'::regclass AND e.objid = c.oid)

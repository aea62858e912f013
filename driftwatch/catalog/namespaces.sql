-- The schemas in scope: user schemas only, narrowed by [schema] include/exclude.
-- Every catalog query is prefixed with this as the CTE `ns`, so the filter lives in one place.
SELECT n.oid, n.nspname
FROM pg_catalog.pg_namespace n
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname !~ '^pg_(toast_)?temp_'
  AND (cardinality(%(include)s::text[]) = 0 OR n.nspname = ANY (%(include)s::text[]))
  AND NOT (n.nspname = ANY (%(exclude)s::text[]))
  -- A schema created by an extension is part of that extension, not of the application.
  AND NOT EXISTS (SELECT 1 FROM ext_members e
              WHERE e.classid = 'pg_catalog.pg_namespace'::regclass AND e.objid = n.oid)

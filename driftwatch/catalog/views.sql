-- Views with their definition as the server deparses it (normalised again in Python), one
-- batch at a time (see read_schema): `batch` picks the next %(batch)s views by oid after
-- %(after)s first, MATERIALIZED so that pg_get_viewdef, which locks the view and every
-- relation it reads until the (sub)transaction ends, runs for those views only. The oid
-- comes last, after the dataclass's fields, for the next batch's %(after)s.
, batch AS MATERIALIZED (
  SELECT c.oid
  FROM pg_catalog.pg_class c
  JOIN ns ON ns.oid = c.relnamespace
  WHERE c.relkind = 'v' AND c.oid > %(after)s::pg_catalog.oid
    AND NOT EXISTS (SELECT 1 FROM ext_members e
                WHERE e.classid = 'pg_catalog.pg_class'::regclass AND e.objid = c.oid)
  ORDER BY c.oid
  LIMIT %(batch)s
)
SELECT ns.nspname AS schema, c.relname AS name, pg_catalog.pg_get_viewdef(c.oid, true) AS definition,
       c.oid
FROM batch
JOIN pg_catalog.pg_class c ON c.oid = batch.oid
JOIN ns ON ns.oid = c.relnamespace

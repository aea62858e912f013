-- Functions, procedures, aggregates and window functions; extension members left out.
SELECT ns.nspname AS schema,
       p.proname AS name,
       pg_catalog.oidvectortypes(p.proargtypes) AS arguments,
       CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate'
                      WHEN 'w' THEN 'window' ELSE 'function' END AS function_kind,
       CASE WHEN p.prokind <> 'p' THEN pg_catalog.pg_get_function_result(p.oid) END AS returns,
       l.lanname AS language,
       CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable'
                          ELSE 'volatile' END AS volatility,
       p.proisstrict AS strict,
       p.prosecdef AS security_definer,
       -- SQL-standard bodies (BEGIN ATOMIC, PostgreSQL 14+) live in prosqlbody, not prosrc.
       COALESCE(pg_catalog.pg_get_function_sqlbody(p.oid), p.prosrc) AS body
FROM pg_catalog.pg_proc p
JOIN ns ON ns.oid = p.pronamespace
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
WHERE NOT EXISTS (SELECT 1 FROM ext_members e
                  WHERE e.classid = 'pg_catalog.pg_proc'::regclass AND e.objid = p.oid)
  -- Made implicitly with another object (a range type's constructors): the type is the
  -- difference, not its functions.
  AND NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_depend d
    WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'i'
  )

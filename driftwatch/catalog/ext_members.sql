-- Objects that belong to an extension: a `CREATE EXTENSION pg_trgm` is one difference, not
-- forty functions. Every catalog query is prefixed with this as the CTE `ext_members`; the
-- `[schema] include_extension_objects` opt-in empties it.
SELECT d.classid, d.objid
FROM pg_catalog.pg_depend d
WHERE d.deptype = 'e' AND NOT %(extension_objects)s::boolean

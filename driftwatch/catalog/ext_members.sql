-- Objects that belong to an extension: a `CREATE EXTENSION pg_trgm` is one difference, not
-- forty functions. Every catalog query is prefixed with this as the CTE `ext_members`; the
-- `[schema] include_extension_objects` opt-in empties it.
-- An extension membership always points at the extension (refclassid pg_extension), so the
-- lookup uses pg_depend's index on the referenced object: a 20,000-table database has
-- 600,000 pg_depend rows, and every query of a snapshot starts with this CTE.
SELECT d.classid, d.objid
FROM pg_catalog.pg_depend d
WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass
  AND d.deptype = 'e' AND NOT %(extension_objects)s::boolean

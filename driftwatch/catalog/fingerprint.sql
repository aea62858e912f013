-- A cheap fingerprint of the whole catalog, for the hourly path: one small query.
--
-- Why it cannot miss a change the full snapshot sees: every object driftwatch reads comes
-- from the catalogs listed here. Any committed DDL inserts, deletes or updates rows in them;
-- an UPDATE writes a new row version with a new xmin. So for each catalog, (number of visible
-- rows, sum of their xmins) changes with every committed change: an insert or delete changes
-- the count, an update replaces one xmin by another (a transaction id is never reused for a
-- row that was visible before it). Freezing keeps xmin (PostgreSQL 9.4+), and the only
-- in-place updates (VACUUM/ANALYZE statistics in pg_class) touch nothing driftwatch compares.
-- It covers the whole database, not just the schemas in scope: a change elsewhere only costs
-- one extra full snapshot, never a missed one. Role names (owners, policy roles) come from
-- pg_roles, hashed as text because a view has no xmin.
SELECT md5(string_agg(part, ',' ORDER BY part)) AS fingerprint
FROM (
  SELECT 'pg_namespace:' || count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM pg_catalog.pg_namespace
  UNION ALL SELECT 'pg_extension:' || count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM pg_catalog.pg_extension
  UNION ALL SELECT 'pg_type:' || count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM pg_catalog.pg_type
  UNION ALL SELECT 'pg_enum:' || count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM pg_catalog.pg_enum
  UNION ALL SELECT 'pg_range:' || count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM pg_catalog.pg_range
  UNION ALL SELECT 'pg_class:' || count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM pg_catalog.pg_class
  UNION ALL SELECT 'pg_attribute:' || count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM pg_catalog.pg_attribute
  UNION ALL SELECT 'pg_attrdef:' || count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM pg_catalog.pg_attrdef
  UNION ALL SELECT 'pg_constraint:' || count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM pg_catalog.pg_constraint
  UNION ALL SELECT 'pg_index:' || count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM pg_catalog.pg_index
  UNION ALL SELECT 'pg_inherits:' || count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM pg_catalog.pg_inherits
  UNION ALL SELECT 'pg_sequence:' || count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM pg_catalog.pg_sequence
  UNION ALL SELECT 'pg_rewrite:' || count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM pg_catalog.pg_rewrite
  UNION ALL SELECT 'pg_proc:' || count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM pg_catalog.pg_proc
  UNION ALL SELECT 'pg_trigger:' || count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM pg_catalog.pg_trigger
  UNION ALL SELECT 'pg_policy:' || count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM pg_catalog.pg_policy
  UNION ALL SELECT 'pg_depend:' || count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM pg_catalog.pg_depend
  UNION ALL SELECT 'pg_description:' || count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM pg_catalog.pg_description
  UNION ALL SELECT 'pg_collation:' || count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM pg_catalog.pg_collation
  UNION ALL SELECT 'pg_opclass:' || count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM pg_catalog.pg_opclass
  UNION ALL SELECT 'pg_language:' || count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM pg_catalog.pg_language
  UNION ALL SELECT 'pg_roles:' || md5(string_agg(oid::text || '=' || rolname, ',' ORDER BY oid)) FROM pg_catalog.pg_roles
) AS catalogs(part)

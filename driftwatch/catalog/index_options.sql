-- Per-index options that depend on the server version, shared by constraints.sql and
-- indexes.sql as the CTE `index_options`. NULLS NOT DISTINCT exists from PostgreSQL 15 on;
-- index_options.pg14.sql is the same for 13 and 14, where it is always false.
SELECT i.indexrelid, i.indnullsnotdistinct AS nulls_not_distinct
FROM pg_catalog.pg_index i

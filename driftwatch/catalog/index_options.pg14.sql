-- index_options.sql for PostgreSQL 13 and 14, which have no NULLS NOT DISTINCT.
SELECT i.indexrelid, false AS nulls_not_distinct
FROM pg_catalog.pg_index i

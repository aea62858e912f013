-- Schemas in scope (the `ns` CTE already applies include/exclude and drops system schemas).
SELECT ns.nspname AS name
FROM ns

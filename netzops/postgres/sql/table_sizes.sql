-- Runbook "List tables" / "Check table sizes" / "Check bloat": the tables pg_tables lists
-- (relkind r and p), outside the system schemas, largest first. By oid, not by
-- schemaname||'.'||tablename, which breaks on names that need quoting.
SELECT n.nspname AS schema,
       c.relname AS table_name,
       pg_total_relation_size(c.oid) AS total_bytes,
       pg_table_size(c.oid) AS table_bytes,
       pg_indexes_size(c.oid) AS index_bytes,
       pg_size_pretty(pg_total_relation_size(c.oid)) AS total_size,
       greatest(c.reltuples, 0)::bigint AS estimated_rows
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
 ORDER BY total_bytes DESC, schema, table_name

-- Runbook "Check index usage", with the view's real column names (relname and
-- indexrelname; the runbook's tablename/indexname do not exist there), least used
-- first; PostgreSQL 16+ also knows when each index was last scanned.
SELECT s.schemaname AS schema,
       s.relname AS table_name,
       s.indexrelname AS index_name,
       s.idx_scan,
       s.idx_tup_read,
       pg_relation_size(s.indexrelid) AS size_bytes,
       i.indisunique AS is_unique,
       i.indisprimary AS is_primary,
       s.last_idx_scan
  FROM pg_stat_user_indexes s
  JOIN pg_index i ON i.indexrelid = s.indexrelid
 ORDER BY s.idx_scan, size_bytes DESC, schema, index_name

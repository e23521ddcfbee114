-- Runbook "Check active connections", counting client backends only: pg_stat_activity
-- also lists background workers (checkpointer, walwriter, autovacuum ...). Our own
-- session is left out. Cluster-wide, like max_connections.
SELECT coalesce(state, 'unknown') AS state,
       count(*)::int AS connections
  FROM pg_stat_activity
 WHERE backend_type = 'client backend'
   AND pid <> pg_backend_pid()
 GROUP BY 1
 ORDER BY 1

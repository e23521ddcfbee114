-- Runbook "Check slow queries" for PostgreSQL 13+: total_time/mean_time were split into
-- planning and execution; the runbook's columns are total_exec_time/mean_exec_time now.
-- {statements} is the extension's view, schema-qualified.
SELECT s.queryid,
       s.query,
       s.calls,
       s.total_exec_time AS total_ms,
       s.mean_exec_time AS mean_ms,
       s.rows,
       100.0 * s.shared_blks_hit / nullif(s.shared_blks_hit + s.shared_blks_read, 0)
           AS hit_percent
  FROM {statements} s
 WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
 ORDER BY s.mean_exec_time DESC, s.queryid
 LIMIT %(limit)s

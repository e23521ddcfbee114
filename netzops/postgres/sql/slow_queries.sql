-- Runbook "Check slow queries" as written, for servers before 13 (total_time, mean_time):
-- the statements of this database with the highest mean time. {statements} is the
-- extension's view, schema-qualified.
SELECT s.queryid,
       s.query,
       s.calls,
       s.total_time AS total_ms,
       s.mean_time AS mean_ms,
       s.rows,
       100.0 * s.shared_blks_hit / nullif(s.shared_blks_hit + s.shared_blks_read, 0)
           AS hit_percent
  FROM {statements} s
 WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
 ORDER BY s.mean_time DESC, s.queryid
 LIMIT %(limit)s

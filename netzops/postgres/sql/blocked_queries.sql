-- Sessions waiting for a lock, who blocks them (pg_blocking_pids) and what those run.
SELECT a.pid,
       a.usename AS username,
       a.application_name,
       pg_blocking_pids(a.pid) AS blocked_by,
       a.wait_event_type,
       a.wait_event,
       now() - a.state_change AS waiting,
       a.query,
       (SELECT string_agg(b.pid || ': ' || left(b.query, 200), ' | ' ORDER BY b.pid)
          FROM pg_stat_activity b
         WHERE b.pid = ANY(pg_blocking_pids(a.pid))) AS blocking_queries
  FROM pg_stat_activity a
 WHERE a.wait_event_type = 'Lock'
   AND cardinality(pg_blocking_pids(a.pid)) > 0
 ORDER BY waiting DESC, a.pid

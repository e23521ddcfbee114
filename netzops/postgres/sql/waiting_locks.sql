-- Lock requests not granted (before PostgreSQL 14: the wait is measured from the state
-- change of the waiting session).
SELECT l.pid,
       l.locktype,
       l.mode,
       coalesce(l.relation::regclass::text, '') AS relation,
       now() - a.state_change AS waiting,
       coalesce(a.query, '') AS query
  FROM pg_locks l
  LEFT JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE NOT l.granted
 ORDER BY waiting DESC NULLS LAST, l.pid

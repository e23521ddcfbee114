-- Lock requests not granted, with how long each has waited (pg_locks.waitstart, 14+).
SELECT l.pid,
       l.locktype,
       l.mode,
       coalesce(l.relation::regclass::text, '') AS relation,
       now() - coalesce(l.waitstart, a.state_change) AS waiting,
       coalesce(a.query, '') AS query
  FROM pg_locks l
  LEFT JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE NOT l.granted
 ORDER BY waiting DESC NULLS LAST, l.pid

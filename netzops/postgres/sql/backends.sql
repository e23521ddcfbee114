-- The backends a cancel/terminate would signal, with what tells them apart: their type
-- (only client backends qualify), whether it is our own session, and what they run.
SELECT pid,
       backend_type,
       usename AS username,
       application_name,
       state,
       backend_start,
       query_start,
       query,
       pid = pg_backend_pid() AS own
  FROM pg_stat_activity
 WHERE pid = ANY(%(pids)s::int[])
 ORDER BY pid

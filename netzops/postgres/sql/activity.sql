-- Runbook "Check database performance" (pg_stat_activity WHERE state = 'active') and
-- "Kill long-running query": client backends in the given states for at least
-- min_duration (time since the last state change; for 'active' that is the query's age).
SELECT pid,
       usename AS username,
       datname AS database,
       application_name,
       host(client_addr) AS client_addr,
       state,
       wait_event_type,
       wait_event,
       backend_start,
       xact_start,
       query_start,
       state_change,
       now() - state_change AS duration,
       query
  FROM pg_stat_activity
 WHERE backend_type = 'client backend'
   AND pid <> pg_backend_pid()
   AND state = ANY(%(states)s::text[])
   AND now() - state_change >= %(min_duration)s::interval
 ORDER BY state_change, pid

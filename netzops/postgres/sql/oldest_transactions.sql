-- Client sessions with an open transaction, whatever their state (active, idle in
-- transaction, waiting), oldest first; our own session left out. backend_xmin_age: how far
-- back this session holds the horizon VACUUM may clean up to.
SELECT pid,
       usename AS username,
       datname AS database,
       coalesce(application_name, '') AS application_name,
       coalesce(state, 'unknown') AS state,
       xact_start,
       now() - xact_start AS age,
       age(backend_xmin)::bigint AS backend_xmin_age,
       coalesce(query, '') AS query
  FROM pg_stat_activity
 WHERE backend_type = 'client backend'
   AND xact_start IS NOT NULL
   AND pid <> pg_backend_pid()
 ORDER BY xact_start

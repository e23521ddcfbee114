-- End every other client session in a database (a restore's last step before pg_restore).
SELECT count(*)::int AS row_count
  FROM (SELECT pg_terminate_backend(pid)
          FROM pg_stat_activity
         WHERE datname = %(dbname)s
           AND pid <> pg_backend_pid()
           AND backend_type = 'client backend') AS ended

-- Commits and rollbacks per database since the statistics reset.
SELECT datname AS database,
       xact_commit::bigint AS commits,
       xact_rollback::bigint AS rollbacks,
       stats_reset
  FROM pg_stat_database
 WHERE datname IS NOT NULL
 ORDER BY datname

-- Per user table: the latest (auto)vacuum and (auto)analyze, the changes waiting for them
-- and when the statistics were last reset (times are NULL for "never since the reset").
SELECT s.schemaname AS schema,
       s.relname AS table_name,
       greatest(s.last_vacuum, s.last_autovacuum) AS last_vacuum,
       greatest(s.last_analyze, s.last_autoanalyze) AS last_analyze,
       s.n_dead_tup,
       s.n_mod_since_analyze,
       d.stats_reset
  FROM pg_stat_user_tables s
  CROSS JOIN (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()) d
 ORDER BY schema, table_name

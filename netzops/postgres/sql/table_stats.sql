-- Per user table: scans, live/dead tuples, maintenance times, and the point at which
-- autovacuum would vacuum it (threshold + scale_factor * pg_class.reltuples, per-table
-- reloptions first, then the server settings: what autovacuum.c's relation_needs_vacanalyze
-- uses), and whether autovacuum may. reltuples survives a statistics reset; n_live_tup
-- does not (it restarts near 0 after a crash or pg_stat_reset()). -1: never analyzed.
SELECT s.schemaname AS schema,
       s.relname AS table_name,
       s.seq_scan,
       s.seq_tup_read,
       s.idx_scan,
       s.n_live_tup,
       s.n_dead_tup,
       greatest(c.reltuples, 0)::float8 AS reltuples,
       pg_table_size(s.relid) AS table_bytes,
       s.last_vacuum,
       s.last_autovacuum,
       s.last_analyze,
       s.last_autoanalyze,
       coalesce(o.enabled::bool, current_setting('autovacuum')::bool) AS autovacuum_enabled,
       coalesce(o.threshold::float8, current_setting('autovacuum_vacuum_threshold')::float8)
           + coalesce(o.scale_factor::float8,
                      current_setting('autovacuum_vacuum_scale_factor')::float8)
             * greatest(c.reltuples, 0) AS vacuum_threshold
  FROM pg_stat_user_tables s
  JOIN pg_class c ON c.oid = s.relid
  CROSS JOIN LATERAL (
        SELECT max(option_value) FILTER (WHERE option_name = 'autovacuum_enabled') AS enabled,
               max(option_value) FILTER (WHERE option_name = 'autovacuum_vacuum_threshold')
                   AS threshold,
               max(option_value) FILTER (WHERE option_name = 'autovacuum_vacuum_scale_factor')
                   AS scale_factor
          FROM pg_options_to_table(c.reloptions)
       ) AS o
 ORDER BY schema, table_name

-- Per user table, what a bloat estimate needs: the heap's size now (main fork), the live
-- rows as autovacuum sees them (pg_class.reltuples, -1 when never analyzed), fillfactor,
-- and per column in attnum order its stored length, alignment and the sampled average width
-- and null share (pg_stats shows only columns this role may read: NULL otherwise).
-- Whether pgstattuple is installed decides the method (pgstattuple_approx when it is).
SELECT n.nspname AS schema,
       c.relname AS table_name,
       pg_relation_size(c.oid) AS heap_bytes,
       current_setting('block_size')::int AS block_size,
       c.reltuples::float8 AS reltuples,
       coalesce((SELECT o.option_value::int
                   FROM pg_options_to_table(c.reloptions) AS o
                  WHERE o.option_name = 'fillfactor'), 100) AS fillfactor,
       array_agg(a.attlen::int ORDER BY a.attnum) AS attlens,
       array_agg(a.attalign::text ORDER BY a.attnum) AS attaligns,
       array_agg(s.avg_width ORDER BY a.attnum) AS avg_widths,
       array_agg(coalesce(s.null_frac, 0)::float8 ORDER BY a.attnum) AS null_fracs,
       EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pgstattuple') AS has_pgstattuple
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_stats s
         ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = a.attname
        AND NOT s.inherited
 WHERE c.relkind IN ('r', 'm')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname !~ '^pg_toast'
 GROUP BY n.nspname, c.relname, c.oid
 ORDER BY schema, table_name

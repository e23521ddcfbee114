-- Share of block reads served from shared_buffers, cumulative since the statistics
-- reset: the whole database, its user tables (heap) and its user indexes.
SELECT scope, hits, reads,
       round(100.0 * hits / nullif(hits + reads, 0), 3)::float8 AS hit_percent
  FROM (SELECT 'database' AS scope, blks_hit AS hits, blks_read AS reads
          FROM pg_stat_database
         WHERE datname = current_database()
        UNION ALL
        SELECT 'tables', coalesce(sum(heap_blks_hit), 0)::bigint,
               coalesce(sum(heap_blks_read), 0)::bigint
          FROM pg_statio_user_tables
        UNION ALL
        SELECT 'indexes', coalesce(sum(idx_blks_hit), 0)::bigint,
               coalesce(sum(idx_blks_read), 0)::bigint
          FROM pg_statio_user_indexes) AS blocks

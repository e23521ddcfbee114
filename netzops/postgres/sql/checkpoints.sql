-- Checkpoints since the statistics reset, before PostgreSQL 17 (pg_stat_bgwriter).
SELECT checkpoints_timed AS timed,
       checkpoints_req AS requested,
       stats_reset
  FROM pg_stat_bgwriter

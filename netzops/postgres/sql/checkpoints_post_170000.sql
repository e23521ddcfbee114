-- Checkpoints since the statistics reset: PostgreSQL 17 moved them to pg_stat_checkpointer.
SELECT num_timed AS timed,
       num_requested AS requested,
       stats_reset
  FROM pg_stat_checkpointer

-- The last checkpoint (pg_control), how much WAL was written since its redo point, and
-- checkpoint_timeout. An idle server skips checkpoints: age alone means nothing.
SELECT checkpoint_time,
       now() - checkpoint_time AS age,
       pg_wal_lsn_diff(pg_current_wal_lsn(), redo_lsn)::bigint AS wal_since_bytes,
       current_setting('checkpoint_timeout')::interval AS checkpoint_timeout
  FROM pg_control_checkpoint()

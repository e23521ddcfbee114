-- Replication slots and the WAL each keeps (from its restart_lsn to now): a slot nobody
-- consumes keeps WAL until the disk fills (unless max_slot_wal_keep_size caps it).
SELECT slot_name,
       slot_type,
       coalesce(database, '') AS database,
       active,
       coalesce(wal_status, '') AS wal_status,
       coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::bigint
           AS retained_bytes
  FROM pg_replication_slots
 ORDER BY retained_bytes DESC, slot_name

-- WAL archiving: archive_mode, the archiver's counters and the segments waiting for it.
SELECT current_setting('archive_mode') AS archive_mode,
       archived_count::bigint,
       failed_count::bigint,
       last_archived_wal,
       last_archived_time,
       last_failed_wal,
       last_failed_time,
       (SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready')::int
           AS ready_count
  FROM pg_stat_archiver

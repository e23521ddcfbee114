-- Exact row count of one table (backups: in the dump's snapshot, and after a restore).
SELECT count(*) AS row_count FROM {table}

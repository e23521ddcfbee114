-- The snapshot of this repeatable-read transaction, for pg_dump --snapshot.
SELECT pg_export_snapshot() AS snapshot

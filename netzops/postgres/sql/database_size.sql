-- Runbook "Check database size": the target's database (the runbook names it literally).
SELECT current_database() AS database,
       pg_database_size(current_database()) AS size_bytes,
       pg_size_pretty(pg_database_size(current_database())) AS size

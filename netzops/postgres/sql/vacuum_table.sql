-- Runbook "Vacuum and analyze", one table. Cannot run inside a transaction block.
VACUUM (ANALYZE) {table}

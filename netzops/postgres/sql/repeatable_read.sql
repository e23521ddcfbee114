-- First statement of the transaction whose snapshot a backup exports (pg_dump --snapshot).
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY

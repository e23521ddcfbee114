-- Applied by every `netzops sandbox up` (idempotent), after the service is healthy.

-- Least privilege for the monitoring role, also on databases seeded before it changed.
\ir grants.sql

-- Deliberate trouble for the runbook's checks: the alerts table keeps dead tuples
-- (autovacuum is off for it). Statistics are lost when PostgreSQL is killed rather than
-- stopped, so recreate dead tuples whenever the statistics show none.
UPDATE alerts SET resolved_at = resolved_at
 WHERE id % 4 = 0
   AND (SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'alerts') = 0;

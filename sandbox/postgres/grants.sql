-- Read access of the monitoring role netzops_monitor (idempotent; applied by the seed and
-- by every `netzops sandbox up`). It reads every application table except the password
-- hashes; pg_monitor (granted in the seed) covers the statistics views.
GRANT SELECT ON sites, measurements, alerts TO netzops_monitor;
REVOKE SELECT ON users FROM netzops_monitor;
GRANT SELECT (id, username, email, role, is_active, created_at) ON users TO netzops_monitor;
-- Sequence values for the sequence-exhaustion check (SELECT on a sequence reads last_value,
-- it cannot advance it); check_postgres's `sequence` action needs the same.
GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO netzops_monitor;

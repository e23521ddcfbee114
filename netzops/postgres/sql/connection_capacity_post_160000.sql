-- Client connections against max_connections, PostgreSQL 16+: besides the superuser reserve,
-- reserved_connections slots are kept for roles with pg_use_reserved_connections; normal
-- roles may open neither. Cluster-wide like the limit; our own session holds a slot.
SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int
           AS connections,
       current_setting('max_connections')::int AS max_connections,
       (current_setting('superuser_reserved_connections')::int
        + current_setting('reserved_connections')::int) AS reserved_connections

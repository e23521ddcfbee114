-- Client connections against max_connections (what is left for normal roles after the
-- superuser reserve), cluster-wide like the limit. Our own session counts: it holds a slot.
SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int
           AS connections,
       current_setting('max_connections')::int AS max_connections,
       current_setting('superuser_reserved_connections')::int AS reserved_connections

-- Cancel the backend's current query; its session stays.
SELECT pg_cancel_backend(%(pid)s) AS signalled

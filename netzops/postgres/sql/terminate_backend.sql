-- End the backend's session (its open transaction rolls back).
SELECT pg_terminate_backend(%(pid)s) AS signalled

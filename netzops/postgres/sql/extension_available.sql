-- Whether the server can install an extension (amcheck ships with contrib).
SELECT count(*) > 0 AS present FROM pg_available_extensions WHERE name = %(name)s

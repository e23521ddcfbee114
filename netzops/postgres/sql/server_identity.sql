-- Server version and the database this session is in (a backup's manifest).
SELECT current_setting('server_version') AS server_version,
       current_setting('server_version_num')::int AS server_version_num,
       current_database() AS database

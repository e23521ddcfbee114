-- Connectivity probe: what pg_isready tells, plus who and where we are.
SELECT current_setting('server_version_num')::int AS server_version_num,
       current_setting('server_version') AS server_version,
       current_database() AS database,
       current_user AS role,
       pg_is_in_recovery() AS in_recovery,
       pg_postmaster_start_time() AS started_at

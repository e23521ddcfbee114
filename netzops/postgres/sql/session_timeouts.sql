-- Session-level limits for a maintenance statement (SET cannot take parameters).
SELECT set_config('statement_timeout', %(statement_timeout)s, false) AS statement_timeout,
       set_config('lock_timeout', %(lock_timeout)s, false) AS lock_timeout

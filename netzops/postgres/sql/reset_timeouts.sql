-- Back to the session's connection-time limits.
SELECT set_config('statement_timeout', (SELECT reset_val FROM pg_settings
                                        WHERE name = 'statement_timeout'), false)
           AS statement_timeout,
       set_config('lock_timeout', (SELECT reset_val FROM pg_settings
                                   WHERE name = 'lock_timeout'), false) AS lock_timeout

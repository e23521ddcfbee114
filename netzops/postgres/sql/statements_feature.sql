-- In which schema pg_stat_statements was created in this database (NULL: not created).
-- Whether it is loaded is asked of the view itself (statements_answer.sql), not read from
-- the spelling of shared_preload_libraries.
SELECT (SELECT n.nspname
          FROM pg_extension e
          JOIN pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname = 'pg_stat_statements') AS schema

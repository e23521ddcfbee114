-- Is pg_stat_statements usable here? Created in this database (and in which schema),
-- and loaded through shared_preload_libraries (else its view raises an error).
SELECT (SELECT n.nspname
          FROM pg_extension e
          JOIN pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname = 'pg_stat_statements') AS schema,
       'pg_stat_statements' = ANY(regexp_split_to_array(
           current_setting('shared_preload_libraries'), '\s*,\s*')) AS preloaded

-- Does the pg_stat_statements view answer? Reading one row runs its function, which raises
-- 55000 (object_not_in_prerequisite_state) when the library is not loaded — however
-- shared_preload_libraries spells it ('pg_stat_statements', '$libdir/pg_stat_statements').
SELECT count(*)::int AS answered FROM (SELECT 1 FROM {statements} LIMIT 1) AS one

-- Per table (and its TOAST table): age(relfrozenxid) against the autovacuum_freeze_max_age
-- that applies to it (reloption first, then the server setting). Past it, autovacuum must
-- run an anti-wraparound VACUUM; far past it, autovacuum is not keeping up.
SELECT n.nspname AS schema,
       c.relname AS table_name,
       greatest(age(c.relfrozenxid), coalesce(age(t.relfrozenxid), 0))::bigint AS xid_age,
       coalesce((SELECT o.option_value::bigint
                   FROM pg_options_to_table(c.reloptions) AS o
                  WHERE o.option_name = 'autovacuum_freeze_max_age'),
                current_setting('autovacuum_freeze_max_age')::bigint) AS freeze_max_age
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
 WHERE c.relkind IN ('r', 'm')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
 ORDER BY xid_age DESC, schema, table_name

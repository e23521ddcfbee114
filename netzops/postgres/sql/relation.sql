-- Does the table exist (and is it something VACUUM takes)?
SELECT n.nspname AS schema,
       c.relname AS table_name
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %(schema)s
   AND c.relname = %(table_name)s
   AND c.relkind IN ('r', 'p', 'm')

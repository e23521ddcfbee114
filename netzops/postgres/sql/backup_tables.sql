-- Tables whose rows a backup holds: every ordinary table outside the catalogs, except the
-- ones an extension owns (pg_dump leaves those to CREATE EXTENSION).
SELECT n.nspname AS schema,
       c.relname AS table_name
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r'
   AND n.nspname !~ '^pg_'
   AND n.nspname <> 'information_schema'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype = 'e')
 ORDER BY schema, table_name

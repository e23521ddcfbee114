-- Valid B-tree indexes outside the catalogs (what amcheck's bt_index_check can check).
SELECT c.oid::bigint AS oid,
       n.nspname AS schema,
       c.relname AS index_name
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_am a ON a.oid = c.relam
 WHERE a.amname = 'btree'
   AND i.indisvalid AND i.indisready
   AND n.nspname !~ '^pg_'
   AND n.nspname <> 'information_schema'
 ORDER BY schema, index_name

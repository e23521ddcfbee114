-- B-tree indexes whose key columns are a leading prefix of another index on the same
-- table (same operator classes and sort options, no expressions, same predicate): the
-- longer index serves their lookups too. Unique indexes are kept (they enforce a rule);
-- of two identical indexes only the newer one is reported.
SELECT n.nspname AS schema,
       t.relname AS table_name,
       ci.relname AS index_name,
       cc.relname AS covered_by,
       pg_relation_size(a.indexrelid) AS size_bytes,
       pg_get_indexdef(a.indexrelid) AS index_definition,
       pg_get_indexdef(b.indexrelid) AS covering_definition
  FROM pg_index a
  JOIN pg_index b ON b.indrelid = a.indrelid AND b.indexrelid <> a.indexrelid
  JOIN pg_class ci ON ci.oid = a.indexrelid
  JOIN pg_class cc ON cc.oid = b.indexrelid
  JOIN pg_class t ON t.oid = a.indrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
  JOIN pg_am am ON am.oid = ci.relam AND am.amname = 'btree'
 WHERE cc.relam = ci.relam
   AND NOT a.indisunique
   AND a.indexprs IS NULL AND b.indexprs IS NULL
   AND pg_get_expr(a.indpred, a.indrelid) IS NOT DISTINCT FROM pg_get_expr(b.indpred, b.indrelid)
   AND (b.indkey::text || ' ') LIKE (a.indkey::text || ' %')
   AND (b.indclass::text || ' ') LIKE (a.indclass::text || ' %')
   AND (b.indoption::text || ' ') LIKE (a.indoption::text || ' %')
   AND (a.indkey::text <> b.indkey::text OR a.indexrelid > b.indexrelid)
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
 ORDER BY schema, table_name, index_name

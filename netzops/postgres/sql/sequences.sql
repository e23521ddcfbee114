-- Every sequence with the column it feeds (OWNED BY / identity) and the limit that binds
-- first: the sequence's own max_value or the column type's (an int4 id column stops at
-- 2^31-1 whatever the sequence allows). last_value is NULL when this role may not read the
-- sequence (readable = false) or when it was never used.
SELECT s.schemaname AS schema,
       s.sequencename AS sequence_name,
       s.data_type::text AS sequence_type,
       col.table_name,
       col.column_name,
       col.column_type,
       s.last_value,
       s.increment_by,
       s.min_value,
       least(s.max_value,
             CASE col.column_type
                  WHEN 'smallint' THEN 32767
                  WHEN 'integer' THEN 2147483647
                  ELSE s.max_value END) AS max_value,
       has_sequence_privilege(c.oid, 'SELECT,USAGE') AS readable
  FROM pg_sequences s
  JOIN pg_namespace n ON n.nspname = s.schemaname
  JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = s.sequencename
  LEFT JOIN LATERAL (
        SELECT t.relname::text AS table_name,
               a.attname::text AS column_name,
               format_type(a.atttypid, a.atttypmod) AS column_type
          FROM pg_depend d
          JOIN pg_class t ON t.oid = d.refobjid
          JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
         WHERE d.classid = 'pg_class'::regclass
           AND d.refclassid = 'pg_class'::regclass
           AND d.objid = c.oid
           AND d.deptype IN ('a', 'i')
         LIMIT 1
       ) AS col ON true
 ORDER BY schema, sequence_name

-- pgstattuple_approx of one table (reads the pages the visibility map does not mark
-- all-visible): live tuple bytes and count, dead tuple bytes and free space.
SELECT table_len::bigint AS table_bytes,
       approx_tuple_count::float8 AS live_tuples,
       approx_tuple_len::bigint AS live_bytes,
       dead_tuple_len::bigint AS dead_bytes,
       approx_free_space::bigint AS free_bytes,
       scanned_percent::float8 AS scanned_percent
  FROM pgstattuple_approx(format('%%I.%%I', %(schema)s::text, %(table)s::text)::regclass)

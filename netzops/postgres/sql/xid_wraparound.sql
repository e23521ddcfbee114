-- Transaction-ID age of every database against the 2^31 wraparound horizon
-- (age(datfrozenxid); autovacuum freezes rows to keep it low).
SELECT datname AS database,
       age(datfrozenxid)::bigint AS xid_age,
       2147483648 - age(datfrozenxid)::bigint AS transactions_left,
       round(100.0 * age(datfrozenxid) / 2147483648, 3)::float8 AS percent_used,
       current_setting('autovacuum_freeze_max_age')::bigint AS freeze_max_age,
       datname = current_database() AS is_current
  FROM pg_database
 ORDER BY xid_age DESC, database

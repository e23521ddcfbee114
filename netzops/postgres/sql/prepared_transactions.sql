-- Prepared (two-phase) transactions: they survive restarts, hold their locks and the xmin
-- horizon until COMMIT PREPARED / ROLLBACK PREPARED.
SELECT gid,
       prepared,
       now() - prepared AS age,
       owner,
       database,
       age(transaction)::bigint AS xid_age
  FROM pg_prepared_xacts
 ORDER BY prepared

-- amcheck: the index's structure and that every heap tuple has its index entry.
SELECT true AS present FROM (SELECT bt_index_check(%(oid)s::oid::regclass, true)) AS checked

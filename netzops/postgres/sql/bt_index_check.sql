-- amcheck: the index's structure (and, with heap, that every heap tuple has its entry).
SELECT true AS present FROM (SELECT bt_index_check(%(oid)s::oid::regclass, %(heap)s)) AS checked

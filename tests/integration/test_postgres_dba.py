"""Issue 16: the DBA checks against the sandbox, each made to fire by a real condition set up
as the superuser (scratch tables `zz16_*`, dropped afterwards), and compared with psql or
pgstattuple. Thresholds lowered in a call are said where they are."""

from __future__ import annotations

import math
import subprocess
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import TypeVar

import pytest

from netzops import postgres
from netzops.findings import Priority
from netzops.results import Result
from netzops.targets import Target
from tests.conftest import psql, psql_command, sh, wait_for

T = TypeVar("T")
BLOCK = 8192


def until(probe: Callable[[], T | None], what: str, seconds: float = 20.0) -> T:
    return wait_for(probe, seconds, f"not: {what}")


def firing(call: Callable[[], Result], what: str, seconds: float = 20.0) -> Result:
    """The first result of `call` that has findings, within `seconds`."""
    return until(lambda: r if (r := call()).findings else None, what, seconds)


def finding(result: Result, subject: str) -> Priority | None:
    found = [f for f in result.findings if f.subject == subject]
    return found[0].priority if found else None


@pytest.fixture
def db(target: Target) -> Iterator[postgres.Database]:
    database = postgres.connect(target)
    yield database
    database.close()


# --- bloat against pgstattuple -----------------------------------------------------------------

TOLERANCE = 0.05  # of the heap: the estimate samples widths (pg_stats) and counts (reltuples)


def reference_bloat(table: str) -> tuple[int, int, int]:
    """(heap bytes, bloat by pgstattuple's exact live tuples, dead + free bytes)."""
    length, count, tuple_len, dead, free = map(
        int,
        psql(
            "SELECT table_len, tuple_count, tuple_len, dead_tuple_len, free_space "
            f"FROM pgstattuple('{table}')"
        ).split("|"),
    )
    per_row = math.ceil(tuple_len / count / 8) * 8 + 4  # MAXALIGNed tuple + line pointer
    per_page = (BLOCK - 24) // per_row
    return length, max(0, length - math.ceil(count / per_page) * BLOCK), dead + free


@pytest.fixture
def bloated() -> Iterator[None]:
    psql(
        "DROP TABLE IF EXISTS zz16_wide, zz16_narrow",
        "CREATE TABLE zz16_wide (id int PRIMARY KEY, site int, note text, at timestamptz, "
        "v float8) WITH (autovacuum_enabled = off)",
        "INSERT INTO zz16_wide SELECT g, g % 50, 'note number ' || g, now(), g * 1.5 "
        "FROM generate_series(1, 50000) g",
        "CREATE TABLE zz16_narrow (id int, flag bool, small smallint) "
        "WITH (autovacuum_enabled = off)",
        "INSERT INTO zz16_narrow SELECT g, g % 2 = 0, g % 100 FROM generate_series(1, 100000) g",
        "GRANT SELECT ON zz16_wide, zz16_narrow TO netzops_monitor",
        "VACUUM ANALYZE zz16_wide",
        "VACUUM ANALYZE zz16_narrow",
        "DELETE FROM zz16_wide WHERE id % 3 = 0",  # free space after the VACUUM …
        "VACUUM ANALYZE zz16_wide",
        "UPDATE zz16_wide SET v = v + 1 WHERE id % 10 = 1",  # … and dead rows
        "CREATE EXTENSION IF NOT EXISTS pgstattuple",
    )
    try:
        yield
    finally:
        psql("DROP TABLE IF EXISTS zz16_wide, zz16_narrow", "DROP EXTENSION IF EXISTS pgstattuple")


@pytest.mark.parametrize("use_pgstattuple", [False, True])
def test_bloat_agrees_with_pgstattuple(
    db: postgres.Database, bloated: None, use_pgstattuple: bool
) -> None:
    result = postgres.table_bloat(db, use_pgstattuple=use_pgstattuple)
    rows = {r["table_name"]: r for r in result.rows}
    method = "pgstattuple_approx" if use_pgstattuple else "estimate"
    for table in ("zz16_wide", "zz16_narrow"):
        heap, expected, not_live = reference_bloat(table)
        row = rows[table]
        assert row["method"] == method and row["complete"]
        assert abs(row["bloat_bytes"] - expected) <= TOLERANCE * heap, (table, row, expected)
        if use_pgstattuple:
            assert abs(row["not_live_bytes"] - not_live) <= TOLERANCE * heap
    # the narrow, freshly loaded table has no bloat (check_postgres shows some: no alignment)
    assert rows["zz16_narrow"]["bloat_percent"] <= 1.0
    assert rows["zz16_wide"]["bloat_percent"] >= 25.0
    fired = postgres.table_bloat(db, min_percent=25.0, min_bytes=1_000_000)
    assert finding(fired, "public.zz16_wide") == Priority.P3
    assert finding(fired, "public.zz16_narrow") is None


# --- VACUUM due and missing indexes after a statistics reset ----------------------------------


def dead_in(table: str) -> int:
    return int(psql(f"SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = '{table}'"))


def test_no_false_vacuum_due_after_a_stats_reset(db: postgres.Database) -> None:
    psql(
        "DROP TABLE IF EXISTS zz16_reset",
        "CREATE TABLE zz16_reset (id int, payload text) WITH (autovacuum_enabled = off)",
        "INSERT INTO zz16_reset SELECT g, md5(g::text) FROM generate_series(1, 20000) g",
        "GRANT SELECT ON zz16_reset TO netzops_monitor",
        "VACUUM ANALYZE zz16_reset",
    )
    # each step its own session: a session's counters reach the statistics when it ends,
    # so the INSERT's must be in before the reset. The table's counters are reset as
    # pg_stat_reset() would reset them (the same zeroing), without wiping the shared
    # sandbox's other counters (index scans, vacuum times) that other tests read.
    psql("SELECT pg_stat_reset_single_table_counters('zz16_reset'::regclass)")
    psql(
        "UPDATE zz16_reset SET payload = payload WHERE id <= 300",
        *["SELECT count(*) FROM zz16_reset WHERE payload = 'x'"] * 3,
    )
    try:
        until(lambda: dead_in("zz16_reset") >= 300, "300 dead tuples counted")
        live = int(psql("SELECT n_live_tup FROM pg_stat_user_tables WHERE relname='zz16_reset'"))
        assert (
            live < 1000
        )  # the counters restarted: the old formula's threshold was 50 + 0.2 × this
        result = postgres.dead_tuples(db)
        row = next(r for r in result.rows if r["table_name"] == "zz16_reset")
        assert row["vacuum_threshold"] == pytest.approx(50 + 0.2 * 20000, abs=1)  # reltuples
        assert finding(result, "public.zz16_reset") is None
        # the missing-index hint still sees 20 000 rows read by sequential scans
        missing = postgres.missing_indexes(db)
        assert finding(missing, "public.zz16_reset") == Priority.P3
    finally:
        psql(
            "DROP TABLE IF EXISTS zz16_reset",
            # the sandbox's deliberate dead tuples in alerts (as sandbox/postgres/on-up.sql)
            "UPDATE alerts SET resolved_at = resolved_at WHERE id % 4 = 0",
        )


# --- sequences -------------------------------------------------------------------------------


def test_sequence_near_its_limit_and_one_it_cannot_read(db: postgres.Database) -> None:
    psql(
        "DROP TABLE IF EXISTS zz16_seq, zz16_hidden",
        "CREATE TABLE zz16_seq (id serial PRIMARY KEY)",
        "CREATE TABLE zz16_hidden (id serial PRIMARY KEY)",
        "GRANT SELECT ON SEQUENCE zz16_seq_id_seq TO netzops_monitor",
        "SELECT setval('zz16_seq_id_seq', (2147483647 * 0.96)::bigint)",
    )
    try:
        result = postgres.sequence_danger(db)
        assert finding(result, "public.zz16_seq_id_seq") == Priority.P1  # ≥ 95 %
        assert finding(result, "public.zz16_hidden_id_seq") == Priority.P3  # cannot read
        row = next(r for r in result.rows if r["sequence_name"] == "zz16_seq_id_seq")
        assert row["column_type"] == "integer" and row["max_value"] == 2147483647
        psql("SELECT setval('zz16_seq_id_seq', (2147483647 * 0.90)::bigint)")
        assert finding(postgres.sequence_danger(db), "public.zz16_seq_id_seq") == Priority.P2
        # the sandbox's own sequences are readable (sandbox/postgres/grants.sql)
        assert result.metrics["postgres.sequences.public.users_id_seq.used_percent"] >= 0
    finally:
        psql("DROP TABLE IF EXISTS zz16_seq, zz16_hidden")


# --- transactions, locks, prepared transactions ---------------------------------------------


def test_prepared_transaction_waiting_lock_and_old_transaction(
    db: postgres.Database, target: Target
) -> None:
    psql(
        "DROP TABLE IF EXISTS zz16_locked",
        "CREATE TABLE zz16_locked (id int)",
        "BEGIN; LOCK TABLE zz16_locked IN ACCESS EXCLUSIVE MODE; "
        "PREPARE TRANSACTION 'netzops-test-16'",
    )
    waiter = subprocess.Popen(
        psql_command(
            "-c",
            "SET lock_timeout = '60s'; SET application_name = 'zz16-waiter'; "
            "BEGIN; SELECT txid_current(); SELECT count(*) FROM zz16_locked; COMMIT",
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        prepared = firing(
            lambda: postgres.prepared_transactions(db),
            "the prepared transaction is older than 1 s",
        )
        assert finding(prepared, "netzops-test-16") == Priority.P2
        gids = psql("SELECT gid FROM pg_prepared_xacts").split()
        assert [r["gid"] for r in prepared.rows] == gids
        locks = firing(
            lambda: postgres.waiting_locks(db, min_wait=timedelta(seconds=1)),
            "the SELECT waits for a second",
        )
        assert any(r["relation"] == "zz16_locked" for r in locks.rows)
        assert postgres.waiting_locks(db).findings == []  # the default bar is 30 s
        oldest = postgres.oldest_transaction(db, max_age=timedelta(seconds=1))
        waiting = [r["pid"] for r in oldest.rows if r["application_name"] == "zz16-waiter"]
        assert waiting and any(f.subject == f"pid {waiting[0]}" for f in oldest.findings)
    finally:
        psql("ROLLBACK PREPARED 'netzops-test-16'")
        waiter.wait(timeout=30)
        psql("DROP TABLE IF EXISTS zz16_locked")
    assert postgres.prepared_transactions(db).findings == []


def test_connection_capacity_counts_client_backends_and_the_backend_pools(
    db: postgres.Database,
) -> None:
    result = postgres.connection_capacity(db, replicas=10, pool_size=10)
    row = result.rows[0]
    counted = int(
        psql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
    )
    assert abs(row["connections"] - (counted - 1)) <= 2  # psql's own session; pools move
    assert row["max_connections"] == int(psql("SHOW max_connections"))
    assert finding(result, "backend pools") == Priority.P2  # 10 × 10 = 100 ≥ 97 available
    assert finding(postgres.connection_capacity(db, replicas=1), "backend pools") is None


def test_rollback_ratio_fires_for_a_database_that_rolls_back(db: postgres.Database) -> None:
    psql("DROP DATABASE IF EXISTS zz16_rollbacks", "CREATE DATABASE zz16_rollbacks")
    try:
        script = "BEGIN; SELECT 1; ROLLBACK;\n" * 1200
        command = psql_command("-q", "-o", "/dev/null", dbname="zz16_rollbacks", docker_args=["-i"])
        sh(*command, input=script)
        result = firing(lambda: postgres.rollback_ratio(db), "the rollbacks are counted")
        assert finding(result, "zz16_rollbacks") == Priority.P3
        assert finding(result, "netzwaechter") is None
    finally:
        psql("DROP DATABASE IF EXISTS zz16_rollbacks WITH (FORCE)")


# --- vacuum staleness and freeze age ---------------------------------------------------------


def test_never_vacuumed_table_with_dead_rows(db: postgres.Database) -> None:
    psql(
        "DROP TABLE IF EXISTS zz16_stale",
        "CREATE TABLE zz16_stale (id int) WITH (autovacuum_enabled = off)",
        "INSERT INTO zz16_stale SELECT generate_series(1, 200)",
        "DELETE FROM zz16_stale WHERE id <= 100",
    )
    try:
        until(lambda: dead_in("zz16_stale") >= 100, "100 dead tuples counted")
        result = postgres.maintenance_staleness(db)
        mine = [f for f in result.findings if f.subject == "public.zz16_stale"]
        assert {f.check for f in mine} == {
            "postgres_vacuum_staleness",
            "postgres_analyze_staleness",
        }
        assert all("never" in f.summary for f in mine)
        psql("VACUUM ANALYZE zz16_stale")
        assert finding(postgres.maintenance_staleness(db), "public.zz16_stale") is None
    finally:
        psql("DROP TABLE IF EXISTS zz16_stale")


def test_freeze_age_past_the_tables_own_freeze_max_age(db: postgres.Database) -> None:
    psql(
        "DROP TABLE IF EXISTS zz16_freeze, zz16_burn",
        "CREATE TABLE zz16_freeze (id int) WITH (autovacuum_freeze_max_age = 100000)",
        "CREATE TABLE zz16_burn (id int)",
        # 101 000 subtransactions that write: 101 000 transaction IDs
        "DO $$ BEGIN FOR i IN 1..101000 LOOP BEGIN INSERT INTO zz16_burn VALUES (i); "
        "EXCEPTION WHEN others THEN NULL; END; END LOOP; END $$",
    )
    try:
        result = postgres.freeze_age(db)
        row = next(r for r in result.rows if r["table_name"] == "zz16_freeze")
        age = int(psql("SELECT age(relfrozenxid) FROM pg_class WHERE relname = 'zz16_freeze'"))
        assert abs(row["xid_age"] - age) <= 5 and row["freeze_max_age"] == 100000
        assert finding(result, "public.zz16_freeze") == Priority.P3
    finally:
        psql("DROP TABLE IF EXISTS zz16_freeze, zz16_burn")


# --- WAL: slots, archiver, checkpoints ------------------------------------------------------


def test_inactive_replication_slot(db: postgres.Database) -> None:
    psql("SELECT pg_create_physical_replication_slot('zz16_slot', true)")
    try:
        result = postgres.replication_slots(db)
        assert finding(result, "zz16_slot") == Priority.P2
        row = next(r for r in result.rows if r["slot_name"] == "zz16_slot")
        assert row["active"] is False and row["retained_bytes"] > 0
    finally:
        psql("SELECT pg_drop_replication_slot('zz16_slot')")
    assert finding(postgres.replication_slots(db), "zz16_slot") is None


def archiver_counts() -> tuple[int, str, str]:
    failed, archived, last_failed = psql(
        "SELECT failed_count, coalesce(last_archived_time::text, ''), "
        "coalesce(last_failed_time::text, '') FROM pg_stat_archiver"
    ).split("|")
    return int(failed), archived, last_failed


def switch_wal() -> None:
    psql("CREATE TABLE IF NOT EXISTS zz16_wal (id int)", "INSERT INTO zz16_wal VALUES (1)")
    psql("SELECT pg_switch_wal()")


def test_failing_archive_command(db: postgres.Database) -> None:
    """The sandbox's archive command fails while /tmp/archive-fails exists in the container
    (sandbox/postgres/entrypoint.sh)."""
    before = archiver_counts()[0]
    sh("docker", "exec", "netzwaechter-postgres", "touch", "/tmp/archive-fails")
    try:
        switch_wal()
        until(lambda: archiver_counts()[0] > before, "the archiver fails", 30)
        result = postgres.wal_archiving(db)
        assert finding(result, "archiver") == Priority.P1
        assert result.rows[0]["failed_count"] == archiver_counts()[0]
    finally:
        sh("docker", "exec", "netzwaechter-postgres", "rm", "-f", "/tmp/archive-fails")
        switch_wal()  # wakes the archiver, which then archives what waited
    until(lambda: (c := archiver_counts())[1] > c[2], "archiving succeeds again", 90)
    assert finding(postgres.wal_archiving(db), "archiver") is None
    psql("DROP TABLE IF EXISTS zz16_wal")


def test_checkpoint_age_matches_pg_control(db: postgres.Database) -> None:
    psql("CREATE TABLE IF NOT EXISTS zz16_wal (id int)", "INSERT INTO zz16_wal VALUES (1)")
    try:
        result = postgres.checkpoint_age(db, max_age=timedelta(0))  # any age: fires
        seconds = float(
            psql("SELECT extract(epoch FROM now() - checkpoint_time) FROM pg_control_checkpoint()")
        )
        assert abs(result.metrics["postgres.checkpoint_age_seconds"] - seconds) <= 2
        assert finding(result, "checkpointer") == Priority.P2
        assert finding(postgres.checkpoint_age(db), "checkpointer") is None  # 2 × 5 min
    finally:
        psql("DROP TABLE IF EXISTS zz16_wal")


def test_checks_appear_in_the_sweep(target: Target) -> None:
    import importlib

    from netzops.triage.clients import Clients

    sweep = importlib.import_module("netzops.triage.sweep")
    names = set(sweep.registry(target, Clients(target)))
    assert {
        "postgres_oldest_transaction",
        "postgres_prepared_transactions",
        "postgres_waiting_locks",
        "postgres_connection_capacity",
        "postgres_sequence_danger",
        "postgres_freeze_age",
        "postgres_maintenance_staleness",
        "postgres_rollback_ratio",
        "postgres_wal_archiving",
        "postgres_checkpoint_age",
        "postgres_replication_slots",
        "redis_persistence",
        "redis_slowlog",
        "redis_evictions",
        "redis_client_capacity",
        "host_inodes",
        "host_load",
    } <= names

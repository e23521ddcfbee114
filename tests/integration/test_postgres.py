"""PostgreSQL read-only checks against the sandbox, each compared with what psql says.

Counters move while traffic runs, so cumulative numbers are bracketed: psql before ≤
library ≤ psql after. Tolerances are stated where a value is compared."""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import psycopg
import pytest

from netzops import postgres
from netzops.findings import Priority
from netzops.targets import Target
from tests.conftest import psql, psql_command, wait_for

MiB = 1_048_576


def psql_rows(query: str, dbname: str = "netzwaechter") -> list[list[str]]:
    return [line.split("|") for line in psql(query, dbname=dbname).splitlines() if line]


def app_name(what: str) -> str:
    return f"netzops-test-{what}-{uuid.uuid4().hex[:8]}"


def session(target: Target, application_name: str) -> psycopg.Connection[Any]:
    """A separate monitor session from the test (not the library's)."""
    pg = target.postgres
    return psycopg.connect(
        host=pg.host,
        port=pg.port,
        dbname=pg.dbname,
        user=pg.monitor_user or pg.user,
        autocommit=True,
        password=target.secret(pg.monitor_password_secret or "x"),
        application_name=application_name,
        connect_timeout=5,
    )


def bracket(
    measure: Callable[[], Any], library: Callable[[], Any], tries: int = 5
) -> tuple[Any, Any]:
    """(psql value, library value) from a moment when psql saw the same before and after."""
    for _ in range(tries):
        before, mine, after = measure(), library(), measure()
        if before == after:
            return before, mine
        time.sleep(0.3)
    raise AssertionError(f"the value kept changing: {before} → {after}")


@pytest.fixture
def db(target: Target) -> Iterator[postgres.Database]:
    client = postgres.connect(target)
    yield client
    client.close()


def test_ping_reports_the_server_psql_sees(db: postgres.Database) -> None:
    result = postgres.ping(db)
    row = result.rows[0]
    assert row["server_version_num"] == int(psql("SHOW server_version_num"))
    assert row["role"] == "netzops_monitor" and row["database"] == "netzwaechter"
    assert row["in_recovery"] is False
    assert 0 < result.metrics["postgres.ping_ms"] < 5000
    assert result.metrics["postgres.up"] == 1.0 and result.findings == []


def test_monitor_session_is_read_only(db: postgres.Database) -> None:
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        db.connection().execute("CREATE TEMP TABLE netzops_test_should_fail (x int)")


def test_database_size_matches_pg_database_size(db: postgres.Database) -> None:
    before = int(psql("SELECT pg_database_size('netzwaechter')"))
    result = postgres.database_size(db)
    after = int(psql("SELECT pg_database_size('netzwaechter')"))
    size = result.metrics["postgres.database_size_bytes"]
    assert before - MiB <= size <= after + MiB  # traffic inserts rows: ±1 MiB
    assert result.rows[0]["size_bytes"] == size and result.rows[0]["database"] == "netzwaechter"


def test_table_sizes_match_psql(db: postgres.Database) -> None:
    result = postgres.table_sizes(db)
    tables = psql_rows(
        "SELECT schemaname || '.' || tablename, "
        "pg_total_relation_size(quote_ident(schemaname) || '.' || "
        "quote_ident(tablename)) FROM pg_tables "
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
    )
    expected = {name: int(size) for name, size in tables}
    mine = {f"{r['schema']}.{r['table_name']}": r for r in result.rows}
    assert set(mine) == set(expected) >= {"public.users", "public.measurements"}
    for name, size in expected.items():  # measurements grows with traffic: ±1 MiB
        assert abs(mine[name]["total_bytes"] - size) <= (MiB if "measurements" in name else 0)
        assert mine[name]["table_bytes"] + mine[name]["index_bytes"] <= mine[name]["total_bytes"]
    totals = [r["total_bytes"] for r in result.rows]
    assert totals == sorted(totals, reverse=True)
    assert result.metrics["postgres.tables.count"] == len(expected)


def _psql_states() -> dict[str, int]:
    rows = psql_rows(
        "SELECT coalesce(state, 'unknown'), count(*) FROM pg_stat_activity "
        "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() "
        "GROUP BY 1"
    )
    return {state: int(n) for state, n in rows}


def test_connections_by_state_match_psql_within_our_own_session(
    target: Target, db: postgres.Database
) -> None:
    name = app_name("conn")
    extra = [session(target, name) for _ in range(6)]
    try:
        db.connection()  # our own session exists before psql counts
        theirs, result = bracket(_psql_states, lambda: postgres.connections(db))
        mine = {r["state"]: r["connections"] for r in result.rows}
        # psql sees the library's idle session that the library leaves out: ±1 per state
        for state in set(mine) | set(theirs):
            assert abs(mine.get(state, 0) - theirs.get(state, 0)) <= 1, (state, mine, theirs)
        total = result.metrics["postgres.connections.total"]
        assert abs(total - sum(theirs.values())) <= 1
        assert result.metrics["postgres.connections.idle"] >= 6  # our six extra sessions
        assert (
            int(psql(f"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{name}'"))
            == 6
        )
        assert total == sum(mine.values()) >= 6
        band = target.bands["db_connections_active"]
        expected = (
            Priority.P1
            if total > (band.critical or 1e9)
            else Priority.P2
            if total > (band.warn or 1e9)
            else Priority.P3
            if total < (band.low or 0)
            else None
        )
        assert [f.priority for f in result.findings] == ([expected] if expected else [])
    finally:
        for conn in extra:
            conn.close()


@pytest.mark.parametrize(
    ("band", "priority"),
    [
        ({"low": 0, "warn": 0, "critical": 10_000}, Priority.P2),
        ({"low": 0, "warn": 0, "critical": 0}, Priority.P1),
        ({"low": 10_000, "warn": 20_000, "critical": 30_000}, Priority.P3),
        ({"low": 0, "warn": 10_000, "critical": 20_000}, None),
    ],
)
def test_connection_band_comes_from_the_target(
    target: Target, band: dict[str, float], priority: Priority | None
) -> None:
    tuned = Target(**{**target.model_dump(), "thresholds": {"db_connections_active": band}})
    result = postgres.connections(postgres.connect(tuned))
    assert [f.priority for f in result.findings] == ([priority] if priority else [])
    if priority:
        assert result.findings[0].value == result.metrics["postgres.connections.total"]


@dataclass
class Sleeper:
    """A real `SELECT pg_sleep(600)` run by psql in the container."""

    name: str
    proc: subprocess.Popen[str]
    pid: int = 0

    def stderr(self, timeout: float = 10.0) -> str:
        """What psql said when its statement ended (waits for it)."""
        return self.proc.communicate(timeout=timeout)[1]


def start_sleeper(what: str = "sleep") -> Sleeper:
    name = app_name(what)
    proc = subprocess.Popen(
        psql_command("-c", "SELECT pg_sleep(600)", docker_args=["-e", f"PGAPPNAME={name}"]),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for _ in range(50):
        pid = psql(
            f"SELECT pid FROM pg_stat_activity WHERE application_name = '{name}' "
            "AND state = 'active'"
        )
        if pid:
            return Sleeper(name, proc, int(pid))
        time.sleep(0.1)
    stop_sleeper(Sleeper(name, proc))
    raise AssertionError("the sleeping session did not show up")


def stop_sleeper(sleeper: Sleeper) -> None:
    psql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE application_name = '{sleeper.name}'"
    )
    try:
        sleeper.proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        sleeper.proc.kill()
        sleeper.proc.communicate()


@pytest.fixture
def sleeper() -> Iterator[Sleeper]:
    running = start_sleeper()
    yield running
    stop_sleeper(running)


def test_long_running_queries_find_a_sleeping_query(
    db: postgres.Database, sleeper: Sleeper
) -> None:
    pid = sleeper.pid

    def age() -> float:
        """The query's age in seconds as psql sees it."""
        return float(
            psql(
                "SELECT extract(epoch FROM now() - query_start) FROM pg_stat_activity "
                f"WHERE pid = {pid}"
            )
        )

    wait_for(lambda: age() > 1.2, 30, "the sleeping query to be 1.2 s old")
    before = age()
    result = postgres.long_running_queries(db, min_duration=timedelta(seconds=1))
    after = age()
    row = next(r for r in result.rows if r["pid"] == pid)
    assert row["query"] == "SELECT pg_sleep(600)" and row["state"] == "active"
    assert before - 0.1 <= row["duration"] <= after + 0.1  # read between the two psql ages
    finding = next(f for f in result.findings if f.subject == f"pid {pid}")
    assert finding.priority == Priority.P2 and "pg_sleep(600)" in finding.summary
    assert pid in {r["pid"] for r in postgres.active_queries(db).rows}
    later = postgres.long_running_queries(db)  # the default bar: 5 minutes
    assert pid not in {r["pid"] for r in later.rows}


def test_idle_in_transaction_finds_an_open_transaction(
    target: Target, db: postgres.Database
) -> None:
    with session(target, app_name("idle-tx")) as conn:
        conn.autocommit = False
        conn.execute("SELECT 1")
        pid = conn.info.backend_pid
        time.sleep(1.2)
        result = postgres.idle_in_transaction(db, min_duration=timedelta(seconds=1))
        state = psql(f"SELECT state FROM pg_stat_activity WHERE pid = {pid}")
        assert state == "idle in transaction"
        assert pid in {r["pid"] for r in result.rows}
        assert any(f.subject == f"pid {pid}" for f in result.findings)
        assert result.metrics["postgres.idle_in_transaction"] >= 1
        conn.rollback()
    assert pid not in {
        r["pid"] for r in postgres.idle_in_transaction(db, min_duration=timedelta(0)).rows
    }


def test_blocked_queries_name_the_blocker(target: Target, db: postgres.Database) -> None:
    key = int(uuid.uuid4().int % 1_000_000_000)
    with (
        session(target, app_name("holder")) as holder,
        session(target, app_name("waiter")) as waiter,
    ):
        holder.execute("SELECT pg_advisory_lock(%s)", (key,))
        thread = threading.Thread(
            target=waiter.execute, args=("SELECT pg_advisory_lock(%s)", (key,))
        )
        thread.start()
        try:
            rows: list[dict[str, Any]] = []
            for _ in range(50):
                result = postgres.blocked_queries(db, min_wait=timedelta(0))
                rows = [r for r in result.rows if r["pid"] == waiter.info.backend_pid]
                if rows:
                    break
                time.sleep(0.1)
            assert rows and rows[0]["blocked_by"] == [holder.info.backend_pid]
            assert (
                psql(f"SELECT pg_blocking_pids({waiter.info.backend_pid})")
                == f"{{{holder.info.backend_pid}}}"
            )
            assert any(f.subject == f"pid {waiter.info.backend_pid}" for f in result.findings)
            patient = postgres.blocked_queries(db)  # default: findings after 30 s of waiting
            assert not any(f.subject == f"pid {waiter.info.backend_pid}" for f in patient.findings)
        finally:
            holder.execute("SELECT pg_advisory_unlock(%s)", (key,))
            thread.join(10)
        waiter.execute("SELECT pg_advisory_unlock(%s)", (key,))


def _psql_statements() -> dict[int, tuple[int, float]]:
    """queryid → (calls, mean) for the statements whose queryid is unique in this database
    (one queryid can have several entries: per role, and top-level or nested)."""
    rows = psql_rows(
        "SELECT queryid, calls, mean_exec_time FROM pg_stat_statements "
        "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'netzwaechter')"
    )
    seen = Counter(int(q) for q, _, _ in rows)
    return {int(q): (int(c), float(m)) for q, c, m in rows if seen[int(q)] == 1}


def test_slow_queries_match_pg_stat_statements(db: postgres.Database) -> None:
    before = _psql_statements()
    result = postgres.slow_queries(db, limit=10)
    after = _psql_statements()
    assert 0 < len(result.rows) <= 10 and result.metrics["postgres.statements.available"] == 1
    means = [r["mean_ms"] for r in result.rows]
    assert means == sorted(means, reverse=True)
    for row in result.rows:
        if row["queryid"] not in before or row["queryid"] not in after:
            continue  # a statement that appeared (or was evicted) while we looked
        (calls0, mean0), (calls1, _) = before[row["queryid"]], after[row["queryid"]]
        assert calls0 <= row["calls"] <= calls1
        if calls0 == calls1:  # nothing ran in between: exactly psql's mean
            assert row["mean_ms"] == pytest.approx(mean0, rel=1e-9)
    slow = {r["queryid"] for r in result.rows if r["calls"] >= 100 and r["mean_ms"] >= 20}
    assert {int(f.subject.split()[-1]) for f in result.findings} == slow
    assert result.metrics["postgres.statements.slowest_mean_ms"] == max(means)


def test_runbook_index_usage_snippet_fails_as_written() -> None:
    done = psql(
        "SELECT schemaname, tablename, indexname, idx_scan FROM pg_stat_user_indexes",
        check=False,
    )
    assert done == ""  # psql refuses: the view has relname/indexrelname


def test_index_usage_matches_pg_stat_user_indexes(db: postgres.Database) -> None:
    def scans() -> dict[str, int]:
        return {
            n: int(s)
            for n, s in psql_rows("SELECT indexrelname, idx_scan FROM pg_stat_user_indexes")
        }

    before = scans()
    result = postgres.index_usage(db)
    after = scans()
    mine = {r["index_name"]: r for r in result.rows}
    assert set(mine) == set(before)
    for name, row in mine.items():
        assert before[name] <= row["idx_scan"] <= after[name]
        assert row["size_bytes"] == int(
            psql(f"SELECT pg_relation_size('{name}')")
        ) or name.startswith("measurements")  # measurements' indexes grow with traffic
    assert [r["idx_scan"] for r in result.rows] == sorted(r["idx_scan"] for r in result.rows)


def _site_time_scans() -> int:
    return int(
        psql(
            "SELECT idx_scan FROM pg_stat_user_indexes "
            "WHERE indexrelname = 'measurements_site_time_idx'"
        )
    )


def test_unused_indexes_find_the_response_ms_index(db: postgres.Database, target: Target) -> None:
    # GET /api/sites reads each site's latest measurement through measurements_site_time_idx;
    # a pg_restore --clean elsewhere zeroes its counter, so request it until psql sees > 50
    # (backends report their statistics up to ~10 s late)
    with httpx.Client(base_url=target.http.frontend_url, verify=False, timeout=30) as http:

        def used() -> bool:
            if _site_time_scans() > 50:
                return True
            assert http.get("/api/sites").status_code == 200
            return False

        wait_for(used, 90, "pg_stat_user_indexes to count > 50 scans of measurements_site_time_idx")

    def expected() -> set[str]:
        return {
            n
            for n, s in psql_rows(
                "SELECT s.indexrelname, s.idx_scan FROM pg_stat_user_indexes s "
                "JOIN pg_index i ON i.indexrelid = s.indexrelid WHERE NOT i.indisunique"
            )
            if int(s) <= 50
        }

    want, result = bracket(expected, lambda: postgres.unused_indexes(db))
    names = {r["index_name"] for r in result.rows}
    assert "measurements_response_ms_idx" in names
    assert (
        int(
            psql(
                "SELECT idx_scan FROM pg_stat_user_indexes "
                "WHERE indexrelname = 'measurements_response_ms_idx'"
            )
        )
        <= 50
    )
    assert not names & {"measurements_site_time_idx", "measurements_pkey", "users_pkey"}
    assert names == want
    finding = next(f for f in result.findings if f.subject == "public.measurements_response_ms_idx")
    assert finding.priority == Priority.P3
    none = postgres.unused_indexes(db, max_scans=-1)
    assert none.rows == [] and none.findings == []


def test_duplicate_indexes_find_the_site_id_prefix(db: postgres.Database) -> None:
    result = postgres.duplicate_indexes(db)
    assert [(r["index_name"], r["covered_by"]) for r in result.rows] == [
        ("measurements_site_id_idx", "measurements_site_time_idx")
    ]
    assert "(site_id)" in psql("SELECT pg_get_indexdef('measurements_site_id_idx'::regclass)")
    assert "(site_id, measured_at DESC)" in psql(
        "SELECT pg_get_indexdef('measurements_site_time_idx'::regclass)"
    )
    assert [f.subject for f in result.findings] == ["public.measurements_site_id_idx"]


def test_missing_indexes_match_a_psql_count_of_sequential_scans(db: postgres.Database) -> None:
    expected = {
        t
        for (t,) in psql_rows(
            "SELECT s.schemaname || '.' || s.relname FROM pg_stat_user_tables s "
            "JOIN pg_class c ON c.oid = s.relid "
            "WHERE greatest(n_live_tup, round(c.reltuples)) >= 10000 AND seq_scan > 0 "
            "AND seq_scan::float / (seq_scan + coalesce(idx_scan, 0)) >= 0.5"
        )
    }
    result = postgres.missing_indexes(db)
    assert {f"{r['schema']}.{r['table_name']}" for r in result.rows} == expected
    assert {f.subject for f in result.findings} == expected


def alerts_dead_tuples() -> int:
    return int(psql("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'alerts'"))


def ensure_alerts_dead_tuples() -> int:
    """The sandbox fixture: alerts keeps dead tuples (autovacuum is off for it). Recreate
    them, as the seed does, when a VACUUM or a statistics reset (unclean restart) zeroed the
    count; the count arrives when the updating session ends."""
    if alerts_dead_tuples() == 0:
        psql("UPDATE alerts SET resolved_at = resolved_at WHERE id % 4 = 0")
    for _ in range(50):
        if (dead := alerts_dead_tuples()) > 0:
            return dead
        time.sleep(0.1)
    raise AssertionError("alerts has no dead tuples after the UPDATE")


def test_dead_tuples_find_alerts(db: postgres.Database) -> None:
    ensure_alerts_dead_tuples()
    dead, live, size = map(
        int,
        psql_rows(
            "SELECT n_dead_tup, n_live_tup, pg_table_size(relid) FROM pg_stat_user_tables "
            "WHERE relname = 'alerts'"
        )[0],
    )
    result = postgres.dead_tuples(db)
    row = next(r for r in result.rows if r["table_name"] == "alerts")
    assert dead > 0 and abs(row["n_dead_tup"] - dead) <= 10  # no one writes alerts
    assert row["n_live_tup"] == live and row["autovacuum_enabled"] is False
    # the bloat estimate of netzops.postgres.bloat (tested against pgstattuple in
    # test_postgres_dba.py), not table size × dead share
    assert row["bloat_method"] == "estimate" and 0 <= row["estimated_bloat_bytes"] <= size
    finding = next(f for f in result.findings if f.subject == "public.alerts")
    assert finding.priority == Priority.P3 and "autovacuum is disabled" in finding.summary
    assert result.metrics["postgres.dead_tuples.public.alerts"] == row["n_dead_tup"]
    assert result.rows[0]["n_dead_tup"] == max(r["n_dead_tup"] for r in result.rows)


def test_cache_hit_rate_matches_pg_stat_database(db: postgres.Database) -> None:
    hit, read = map(
        int,
        psql_rows(
            "SELECT blks_hit, blks_read FROM pg_stat_database WHERE datname = 'netzwaechter'"
        )[0],
    )
    result = postgres.cache_hit_rate(db)
    rate = result.metrics["postgres.cache_hit_rate"]
    assert rate == pytest.approx(100 * hit / (hit + read), abs=0.5)  # counters move
    assert {r["scope"] for r in result.rows} == {"database", "tables", "indexes"}
    assert 0 < result.metrics["postgres.cache_hit_rate.tables"] <= 100
    strict = postgres.cache_hit_rate(db, min_percent=100.1)
    assert {f.subject for f in strict.findings} == {"database", "tables", "indexes"}


def test_transaction_id_danger_matches_age_of_datfrozenxid(db: postgres.Database) -> None:
    def ages() -> dict[str, int]:
        return {
            d: int(a) for d, a in psql_rows("SELECT datname, age(datfrozenxid) FROM pg_database")
        }

    before = ages()
    result = postgres.transaction_id_danger(db)
    after = ages()
    for row in result.rows:
        assert before[row["database"]] <= row["xid_age"] <= after[row["database"]]
        assert row["transactions_left"] == 2**31 - row["xid_age"]
    assert result.metrics["postgres.xid_age"] == next(
        r["xid_age"] for r in result.rows if r["database"] == "netzwaechter"
    )
    assert result.findings == []  # a young sandbox
    assert {f.priority for f in postgres.transaction_id_danger(db, warn_percent=0.0).findings} == {
        Priority.P2
    }
    assert {f.priority for f in postgres.transaction_id_danger(db, danger_left=2**31).findings} == {
        Priority.P1
    }
    assert {f.priority for f in postgres.transaction_id_danger(db, stop_left=2**31).findings} == {
        Priority.P0
    }


def test_checkpoints_match_pg_stat_bgwriter(db: postgres.Database) -> None:
    query = "SELECT checkpoints_timed, checkpoints_req FROM pg_stat_bgwriter"
    ((timed0, req0),) = psql_rows(query)
    result = postgres.checkpoints(db)
    ((timed1, req1),) = psql_rows(query)
    assert int(timed0) <= result.rows[0]["timed"] <= int(timed1)
    assert int(req0) <= result.rows[0]["requested"] <= int(req1)


def test_users_match_the_users_table(db: postgres.Database) -> None:
    result = postgres.users(db)
    expected = psql_rows("SELECT id, username, email, role, is_active FROM users ORDER BY id")
    assert [
        [str(r["id"]), r["username"], r["email"], r["role"], "t" if r["is_active"] else "f"]
        for r in result.rows
    ] == expected
    assert result.metrics["postgres.users.total"] == len(expected)
    assert result.metrics["postgres.users.active"] == sum(e[4] == "t" for e in expected)
    assert result.metrics["postgres.users.admin"] == sum(e[3] == "admin" for e in expected)
    assert result.findings == []


@pytest.mark.parametrize(
    ("username", "rows", "findings"),
    [
        ("admin", 1, []),
        ("viewer41", 1, ["account is disabled (is_active = false)"]),
        ("nobody-here", 0, ["no such user"]),
    ],
)
def test_user_lookup_for_login_issues(
    db: postgres.Database, username: str, rows: int, findings: list[str]
) -> None:
    result = postgres.users(db, username)
    assert len(result.rows) == rows
    assert psql(f"SELECT count(*) FROM users WHERE username = '{username}'") == str(rows)
    assert [f.summary for f in result.findings] == findings

"""Least privilege: the monitoring role netzops_monitor runs every read-only check and can
change nothing; read-only notebook runs use it and never touch the admin credentials.

Compared against psql as postgres (counts, md5 of the rows, privileges).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from psycopg import errors

from netzops import postgres
from netzops.findings import Priority
from netzops.results import Result
from netzops.runner.execution import Exit
from netzops.targets import Target
from tests.conftest import ROOT, psql, psql_command

MONITOR = "netzops_monitor"
CHECKS: dict[str, Callable[[postgres.Database], Result]] = {
    "ping": postgres.ping,
    "database_size": postgres.database_size,
    "table_sizes": postgres.table_sizes,
    "connections": postgres.connections,
    "active_queries": postgres.active_queries,
    "long_running_queries": postgres.long_running_queries,
    "idle_in_transaction": postgres.idle_in_transaction,
    "blocked_queries": postgres.blocked_queries,
    "slow_queries": postgres.slow_queries,
    "index_usage": postgres.index_usage,
    "unused_indexes": postgres.unused_indexes,
    "duplicate_indexes": postgres.duplicate_indexes,
    "missing_indexes": postgres.missing_indexes,
    "dead_tuples": postgres.dead_tuples,
    "cache_hit_rate": postgres.cache_hit_rate,
    "transaction_id_danger": postgres.transaction_id_danger,
    "checkpoints": postgres.checkpoints,
    "users": postgres.users,
}
REFUSAL = re.compile(
    r"permission|denied|privilege|superuser|unavailable|refused|check failed", re.IGNORECASE
)
WRITES = [
    "INSERT INTO users (username, email, password_hash) "
    "VALUES ('netzops-test-lp', 'lp@example.invalid', 'x')",
    "UPDATE users SET role = 'admin' WHERE role <> 'admin'",
    "DELETE FROM alerts",
    "CREATE TABLE netzops_test_lp (id int)",
]
SNAPSHOT = (
    "SELECT (SELECT md5(string_agg(u::text, '|' ORDER BY id)) FROM users u), "
    "(SELECT count(*) FROM alerts), (SELECT count(*) FROM sites), "
    "(SELECT count(*) FROM pg_class WHERE relname = 'netzops_test_lp')"
)


@pytest.fixture(scope="module")
def monitor(target: Target) -> Iterator[postgres.Database]:
    db = postgres.connect(target)
    assert db.role == "monitor" and db.user == MONITOR
    yield db
    db.close()


def _values(result: Result) -> list[Any]:
    return [v for row in result.rows for v in row.values()]


def test_monitor_runs_every_read_only_check(monitor: postgres.Database) -> None:
    results = {name: check(monitor) for name, check in CHECKS.items()}
    for name, result in results.items():
        refused = [
            f.summary
            for f in result.findings
            if f.priority == Priority.P0 or REFUSAL.search(f.summary)
        ]
        assert not refused, (name, refused)
        assert "<insufficient privilege>" not in _values(result), name
    ping = results["ping"].rows[0]
    assert ping["role"] == MONITOR and ping["database"] == "netzwaechter"
    assert len(results["users"].rows) == int(psql("SELECT count(*) FROM users"))
    tables = set(psql("SELECT string_agg(relname, ',') FROM pg_stat_user_tables").split(","))
    assert {r["table_name"] for r in results["table_sizes"].rows} == tables
    assert len(results["index_usage"].rows) == int(
        psql("SELECT count(*) FROM pg_stat_user_indexes")
    )
    assert results["slow_queries"].metrics["postgres.statements.available"] == 1.0
    assert results["slow_queries"].rows  # pg_read_all_stats: other roles' statements too
    size = int(psql("SELECT pg_database_size('netzwaechter')"))
    assert abs(results["database_size"].rows[0]["size_bytes"] - size) <= 0.05 * size


def test_monitor_sees_but_cannot_cancel_another_roles_query(monitor: postgres.Database) -> None:
    sleeper = subprocess.Popen(
        psql_command("-c", "SELECT 'netzops-test-lp', pg_sleep(4)"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        mine = _wait_for_query(monitor, "netzops-test-lp")
        assert mine["username"] == "postgres" and "pg_sleep(4)" in mine["query"]
        with pytest.raises(errors.InsufficientPrivilege):
            monitor.connection().execute("SELECT pg_cancel_backend(%s)", [mine["pid"]])
        out, err = sleeper.communicate(timeout=15)
    finally:
        sleeper.kill()
    assert sleeper.returncode == 0 and out.startswith("netzops-test-lp"), err  # not cancelled


def _wait_for_query(db: postgres.Database, marker: str) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        rows = [r for r in postgres.active_queries(db).rows if marker in r["query"]]
        if rows:
            return rows[0]
        time.sleep(0.2)
    raise AssertionError(f"no active query with {marker!r} seen by the monitor")


@pytest.mark.parametrize("statement", WRITES, ids=["insert", "update", "delete", "create"])
def test_monitor_cannot_write(monitor: postgres.Database, statement: str) -> None:
    """Refused in its read-only session, and still refused by its privileges when the session
    asks for a read-write transaction (default_transaction_read_only is only a default)."""
    before = psql(SNAPSHOT)
    conn = monitor.connection()
    with pytest.raises(errors.ReadOnlySqlTransaction), conn.transaction():
        conn.execute(statement)  # rolled back even if it were allowed
    with pytest.raises(errors.InsufficientPrivilege), conn.transaction():
        conn.execute("SET TRANSACTION READ WRITE")
        conn.execute(statement)
    assert psql(SNAPSHOT) == before


def test_monitor_holds_no_signal_or_reset_rights() -> None:
    """The rights whose use could not be rolled back are checked, not tried."""
    query = (
        f"SELECT pg_has_role('{MONITOR}', 'pg_signal_backend', 'MEMBER'), "
        f"has_function_privilege('{MONITOR}', "
        "'pg_stat_statements_reset(oid, oid, bigint)', 'EXECUTE'), "
        f"rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls "
        f"FROM pg_roles WHERE rolname = '{MONITOR}'"
    )
    assert psql(query) == "f|f|f|f|f|f|f"
    assert psql(f"SELECT pg_has_role('{MONITOR}', 'pg_monitor', 'MEMBER')") == "t"


GRANTS = [  # docs/security.md, "Least privilege"
    "GRANT pg_monitor TO {role}",
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT (id, username, email, role, is_active, created_at) ON users TO {role}",
]


def test_the_documented_grants_are_enough(target: Target) -> None:
    """Every read-only check as a role holding only the documented grants, inside one
    transaction of the admin connection that is rolled back (the role never persists)."""
    admin = postgres.connect(target, role="admin")
    conn = admin.connection()
    role = "netzops_test_least_privilege"
    try:
        conn.execute("BEGIN")
        conn.execute(f"CREATE ROLE {role}")
        for grant in GRANTS:
            conn.execute(grant.format(role=role))
        conn.execute(f"SET ROLE {role}")
        results = {name: check(admin) for name, check in CHECKS.items()}
    finally:
        conn.execute("ROLLBACK")
        admin.close()
    for name, result in results.items():
        refused = [
            f.summary
            for f in result.findings
            if f.priority == Priority.P0 or REFUSAL.search(f.summary)
        ]
        assert not refused, (name, refused)
    assert results["ping"].rows[0]["role"] == role
    assert len(results["users"].rows) == int(psql("SELECT count(*) FROM users"))
    assert results["slow_queries"].rows
    assert psql(f"SELECT count(*) FROM pg_roles WHERE rolname = '{role}'") == "0"


def test_monitor_cannot_read_password_hashes(monitor: postgres.Database) -> None:
    with pytest.raises(errors.InsufficientPrivilege):
        monitor.connection().execute("SELECT password_hash FROM users LIMIT 1")


# --- which role read-only notebook runs use --------------------------------------------


def _run(notebook: str, **env: str) -> dict[str, Any]:
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "netzops"), "run", notebook],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, **env},
    )
    assert done.returncode in (Exit.OK, Exit.FINDINGS), done.stderr[-2000:]
    path = next(
        line.split(None, 1)[1] for line in done.stdout.splitlines() if line.startswith("sidecar:")
    )
    side: dict[str, Any] = json.loads(Path(path).read_text())
    assert side["status"] == "completed" and side["error"] is None, side["error"]
    return side


def _rows(side: dict[str, Any], check: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = next(r["rows"] for r in side["results"] if r["check"] == check)
    return rows


def test_service_status_pings_as_the_monitor() -> None:
    ping = _rows(_run("service-status"), "postgres_ping")
    assert [r["role"] for r in ping] == [MONITOR]


def test_database_notebook_never_uses_the_admin_credentials() -> None:
    """With a wrong admin password (env overrides the secret file) the read-only database
    notebook still reads everything: it only ever connected as the monitor."""
    side = _run("database", NETZWAECHTER_POSTGRES_PASSWORD="wrong-on-purpose")
    assert not [f for f in side["findings"] if REFUSAL.search(f["summary"])], side["findings"]
    size = int(psql("SELECT pg_database_size('netzwaechter')"))
    assert abs(_rows(side, "postgres_database_size")[0]["size_bytes"] - size) <= 0.05 * size
    tables = set(psql("SELECT string_agg(relname, ',') FROM pg_stat_user_tables").split(","))
    assert {r["table_name"] for r in _rows(side, "postgres_table_sizes")} == tables


def test_database_notebook_depends_on_the_monitor_credentials() -> None:
    side = _run("database", NETZWAECHTER_MONITOR_PASSWORD="wrong-on-purpose")
    refused = [f for f in side["findings"] if "refused the credentials" in f["summary"]]
    assert refused and all(f["priority"] == "P0" for f in refused)
    assert all(MONITOR in f["summary"] or "password" in f["summary"] for f in refused)

"""Guarded PostgreSQL actions against the sandbox: dry runs change nothing, wrong, missing
and stale confirmations refuse, a confirmed action does what its plan said (checked with
psql), and every change made here is undone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from netzops import postgres
from netzops.errors import BadInput, GuardRefused
from netzops.results import Result
from netzops.targets import Target
from tests.conftest import psql
from tests.integration.test_postgres import (
    Sleeper,
    alerts_dead_tuples,
    ensure_alerts_dead_tuples,
    start_sleeper,
    stop_sleeper,
)


def confirmation(result: Result) -> str:
    """The confirmation string a dry run asks for."""
    entry = result.actions[0]
    assert entry["dry_run"] is True
    return f"{entry['action']}@{entry['target']}#{entry['fingerprint']}"


@pytest.fixture
def admin(target: Target) -> Iterator[postgres.Database]:
    client = postgres.connect(target, role="admin")
    yield client
    client.close()


@pytest.fixture
def sleeper() -> Iterator[Sleeper]:
    running = start_sleeper()
    yield running
    stop_sleeper(running)


def _backend(pid: int) -> str:
    """state and query_start of a backend, as psql sees it ('' when gone)."""
    return psql(f"SELECT state || ' ' || query_start FROM pg_stat_activity WHERE pid = {pid}")


def _gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while _backend(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _backend(pid) == ""


def test_cancel_backend_dry_run_then_confirmed(admin: postgres.Database, sleeper: Sleeper) -> None:
    pid = sleeper.pid
    seen = _backend(pid)
    dry = postgres.cancel_backend(admin, [pid])
    steps = [r["step"] for r in dry.rows]
    assert len(steps) == 1 and steps[0].startswith(f"SELECT pg_cancel_backend({pid}) AS signalled;")
    assert "pg_sleep(600)" in steps[0] and f"pid {pid}" in steps[0]
    assert _backend(pid) == seen, "a dry run changes nothing"
    code = confirmation(dry)
    assert code in dry.notes[-1]
    fingerprint = code.split("#")[1]
    for wrong in (
        f"cancel_backend@production#{fingerprint}",
        "cancel_backend@sandbox#0000",
        f"vacuum@sandbox#{fingerprint}",
    ):
        with pytest.raises(GuardRefused):
            postgres.cancel_backend(admin, [pid], confirm=wrong)
    assert _backend(pid) == seen, "a refused confirmation changes nothing"
    done = postgres.cancel_backend(admin, [pid], confirm=code)
    entry = done.actions[0]
    assert entry["dry_run"] is False and entry["verified"] is True
    assert entry["before"] == [pid] and entry["after"] == []
    assert f"'cancelled': [{pid}]" in entry["outcome"] and done.findings == []
    assert "canceling statement due to user request" in sleeper.stderr()
    assert _gone(pid)  # psql -c ends once its only statement is cancelled


def test_stale_plan_is_refused(admin: postgres.Database, sleeper: Sleeper) -> None:
    time.sleep(1.1)
    dry = postgres.cancel_backend(admin, min_duration=timedelta(seconds=1))
    assert any(f"pid {sleeper.pid}" in r["step"] for r in dry.rows)
    late = start_sleeper("late")
    try:
        time.sleep(1.2)  # the second sleeper is long-running now too: the plan changed
        with pytest.raises(GuardRefused, match="stale plan"):
            postgres.cancel_backend(
                admin, min_duration=timedelta(seconds=1), confirm=confirmation(dry)
            )
        assert _backend(sleeper.pid).startswith("active")
        assert _backend(late.pid).startswith("active")
    finally:
        stop_sleeper(late)


def test_terminate_backend_force(admin: postgres.Database, sleeper: Sleeper) -> None:
    pid = sleeper.pid
    dry = postgres.terminate_backend(admin, [pid], force=True)
    assert [r["step"].split(";")[0] for r in dry.rows] == [
        f"SELECT pg_terminate_backend({pid}) AS signalled"
    ]
    assert _backend(pid).startswith("active")
    done = postgres.terminate_backend(admin, [pid], force=True, confirm=confirmation(dry))
    entry = done.actions[0]
    assert entry["verified"] is True and f"'terminated': [{pid}]" in entry["outcome"]
    assert "terminating connection due to administrator command" in sleeper.stderr()
    assert _gone(pid)


def test_terminate_backend_cancels_first(admin: postgres.Database, sleeper: Sleeper) -> None:
    pid = sleeper.pid
    dry = postgres.terminate_backend(admin, [pid])
    steps = [r["step"] for r in dry.rows]
    assert steps[0].startswith(f"SELECT pg_cancel_backend({pid})")
    assert steps[1] == (
        f"if still running after 5 s: SELECT pg_terminate_backend({pid}) AS signalled"
    )
    done = postgres.terminate_backend(admin, [pid], confirm=confirmation(dry))
    outcome = done.actions[0]["outcome"]
    assert f"'cancelled': [{pid}]" in outcome and "'terminated': []" in outcome
    assert done.actions[0]["verified"] is True
    assert "canceling statement due to user request" in sleeper.stderr()
    assert _gone(pid)


def test_never_signals_our_own_or_background_backends(
    target: Target, admin: postgres.Database
) -> None:
    monitor = postgres.connect(target)
    try:
        forbidden = {
            admin.backend_pid: "our own session",
            monitor.backend_pid: "a netzops session",
            int(
                psql("SELECT pid FROM pg_stat_activity WHERE backend_type = 'autovacuum launcher'")
            ): "autovacuum launcher",
            int(
                psql("SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")
            ): "checkpointer",
            2_000_000_000: "no such backend",
        }
        for pid, why in forbidden.items():
            for action in (postgres.cancel_backend, postgres.terminate_backend):
                with pytest.raises(BadInput, match=why):
                    action(admin, [pid])
        assert (
            psql(
                f"SELECT count(*) FROM pg_stat_activity WHERE pid IN "
                f"({', '.join(map(str, list(forbidden)[:4]))})"
            )
            == "4"
        )
    finally:
        monitor.close()


def test_actions_need_the_admin_client(target: Target) -> None:
    monitor = postgres.connect(target)
    with pytest.raises(BadInput, match="admin"):
        postgres.vacuum(monitor, "alerts")
    with pytest.raises(BadInput, match="admin"):
        postgres.set_user_role(monitor, "viewer44", "operator")


def _vacuum_stats() -> str:
    return psql(
        "SELECT n_dead_tup || ' ' || coalesce(last_vacuum::text, '-') "
        "FROM pg_stat_user_tables WHERE relname = 'alerts'"
    )


def test_vacuum_alerts_dry_run_then_confirmed(admin: postgres.Database) -> None:
    dead = ensure_alerts_dead_tuples()
    seen = _vacuum_stats()
    dry = postgres.vacuum(admin, "alerts")
    steps = [r["step"] for r in dry.rows]
    assert steps[1] == 'VACUUM (ANALYZE) "public"."alerts"'
    assert "'statement_timeout', '1800000ms'" in steps[0] and "'5000ms'" in steps[0]
    assert _vacuum_stats() == seen, "a dry run changes nothing"
    with pytest.raises(GuardRefused):
        postgres.vacuum(admin, "alerts", confirm="vacuum@sandbox#ffffffffffff")
    assert _vacuum_stats() == seen
    try:
        done = postgres.vacuum(admin, "alerts", confirm=confirmation(dry))
        entry = done.actions[0]
        assert entry["outcome"] == "VACUUM" and entry["verified"] is True
        assert entry["before"]["public.alerts"]["n_dead_tup"] == pytest.approx(dead, abs=10)
        assert alerts_dead_tuples() <= 10  # ~0 (psql)
        assert entry["after"]["public.alerts"]["n_dead_tup"] <= 10
        assert (
            psql(
                "SELECT last_vacuum IS NOT NULL AND last_analyze IS NOT NULL "
                "FROM pg_stat_user_tables WHERE relname = 'alerts'"
            )
            == "t"
        )
        conn = admin.connection()  # the session's limits are back to the connection's
        assert [
            conn.execute(f"SHOW {name}").fetchone()
            for name in ("statement_timeout", "lock_timeout")
        ] == [("30s",), ("5s",)]
    finally:
        assert ensure_alerts_dead_tuples() > 0  # the fixture other tests rely on


def test_vacuum_of_an_unknown_table_is_refused_before_anything_runs(
    admin: postgres.Database,
) -> None:
    with pytest.raises(BadInput, match=r"no table public\.nope"):
        postgres.vacuum(admin, "nope")
    with pytest.raises(BadInput):
        postgres.vacuum(admin, 'alerts"; DROP TABLE users; --')


def test_whole_database_vacuum_dry_run(admin: postgres.Database) -> None:
    seen = _vacuum_stats()
    dry = postgres.vacuum(admin)
    assert [r["step"] for r in dry.rows][1] == "VACUUM (ANALYZE)"
    assert dry.actions[0]["subject"] == "database netzwaechter"
    assert _vacuum_stats() == seen


def _user(name: str) -> str:
    return psql(f"SELECT role || ' ' || is_active FROM users WHERE username = '{name}'")


def test_set_user_role_changes_then_restores(admin: postgres.Database) -> None:
    assert _user("viewer44") == "viewer false"
    dry = postgres.set_user_role(admin, "viewer44", "operator")
    assert [r["step"] for r in dry.rows] == [
        "UPDATE users SET role = 'operator' WHERE username = 'viewer44' "
        "RETURNING id, username, email, role, is_active, created_at"
    ]
    assert dry.actions[0]["details"]["before"] == "viewer"
    assert _user("viewer44") == "viewer false"
    try:
        done = postgres.set_user_role(admin, "viewer44", "operator", confirm=confirmation(dry))
        assert done.actions[0]["verified"] is True and done.actions[0]["after"] == "operator"
        assert _user("viewer44") == "operator false"
        stale = postgres.set_user_role(admin, "viewer44", "viewer")
        psql("UPDATE users SET role = 'admin' WHERE username = 'viewer44'")
        with pytest.raises(GuardRefused, match="stale"):
            postgres.set_user_role(admin, "viewer44", "viewer", confirm=confirmation(stale))
        assert _user("viewer44") == "admin false"
        back = postgres.set_user_role(admin, "viewer44", "viewer")
        postgres.set_user_role(admin, "viewer44", "viewer", confirm=confirmation(back))
        assert _user("viewer44") == "viewer false"
    finally:
        psql("UPDATE users SET role = 'viewer' WHERE username = 'viewer44'")


def test_set_user_active_changes_then_restores(admin: postgres.Database) -> None:
    assert _user("viewer45") == "viewer false"
    dry = postgres.set_user_active(admin, "viewer45", True)
    assert dry.rows[0]["step"].startswith(
        "UPDATE users SET is_active = true WHERE username = 'viewer45' RETURNING"
    )
    assert _user("viewer45") == "viewer false"
    try:
        postgres.set_user_active(admin, "viewer45", True, confirm=confirmation(dry))
        assert _user("viewer45") == "viewer true"
        back = postgres.set_user_active(admin, "viewer45", False)
        done = postgres.set_user_active(admin, "viewer45", False, confirm=confirmation(back))
        assert done.actions[0]["verified"] is True
        assert _user("viewer45") == "viewer false"
    finally:
        psql("UPDATE users SET is_active = false WHERE username = 'viewer45'")


def test_user_changes_refuse_bad_input_before_anything_runs(admin: postgres.Database) -> None:
    count = psql(
        "SELECT count(*) || ' ' || sum(is_active::int) || ' ' || "
        "string_agg(role, ',' ORDER BY id) FROM users"
    )
    with pytest.raises(BadInput, match="no user named 'ghost'"):
        postgres.set_user_role(admin, "ghost", "admin")
    with pytest.raises(BadInput, match="no user named 'ghost'"):
        postgres.set_user_active(admin, "ghost", False, confirm="set_user_active@sandbox#x")
    with pytest.raises(BadInput, match="unknown role 'root'"):
        postgres.set_user_role(admin, "viewer44", "root")
    assert (
        psql(
            "SELECT count(*) || ' ' || sum(is_active::int) || ' ' || "
            "string_agg(role, ',' ORDER BY id) FROM users"
        )
        == count
    )

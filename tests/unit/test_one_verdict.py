"""Issue 12, one fact one verdict, as pure functions: the restart count's one verdict
(`containers.status.restarts`, thresholds `restart_count`), the short-window error rate
named apart from the hour's, and the cause rules that read those verdicts and the issue-16
PostgreSQL dangers (data/causes.yaml): each names its cause, its procedure and whom to page,
and none passes for "PostgreSQL is down" or "PostgreSQL hangs"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from netzops import load_target, triage
from netzops.checks import Outcome
from netzops.containers.status import LOOP_WINDOW_S, ContainerState, restarts
from netzops.findings import Band, Finding, Priority, thresholds
from netzops.logs.analysis import _recent
from netzops.results import Result

P = Priority
SANDBOX = load_target("sandbox")
BAND = thresholds()["restart_count"]


def state(count: int, uptime_s: float | None, running: bool = True) -> ContainerState:
    return ContainerState(
        "backend", "netzwaechter_backend_1", 1, "running" if running else "restarting",
        "healthy", 0, "", datetime.now(UTC), uptime_s, count, False, 0, "img", "",
    )  # fmt: skip


def rows(*found: Finding, metrics: dict[str, float] | None = None) -> list[dict[str, Any]]:
    result = Result.of("x", "x", findings=list(found), metrics=metrics or {})
    return list(triage.causes([result], SANDBOX).rows)


# --- the restart count's one verdict ----------------------------------------------------------


def test_restart_count_threshold_ships_as_data() -> None:
    assert BAND.critical == 2  # more than 2 restarts within the hour: a restart loop
    assert thresholds()["failed_logins_per_ip"].warn == 10  # logs.failed_logins' default
    assert thresholds({"failed_logins_per_ip": {"warn": 3}})["failed_logins_per_ip"].warn == 3


@pytest.mark.parametrize(
    ("count", "uptime", "running", "want"),
    [
        (0, 30.0, True, None),
        (1, 30.0, True, P.P3),
        (2, 30.0, True, P.P3),
        (3, 30.0, True, P.P1),  # running again between crashes: still a loop
        (9, None, False, P.P1),  # restarting right now
        (9, LOOP_WINDOW_S + 60, True, P.P3),  # old restarts, up for more than the hour
    ],
)
def test_restart_verdict(count: int, uptime: float | None, running: bool, want: P | None) -> None:
    found = restarts("backend", [state(count, uptime, running)], BAND)
    assert (found.priority if found else None) == want
    if found:
        assert found.check == "service_status" and found.value == count
        assert ("restart loop" in found.summary) == (want is P.P1)


def test_restart_verdict_follows_the_targets_threshold() -> None:
    assert restarts("backend", [state(3, 10.0)], Band(critical=5)).priority == P.P3  # type: ignore[union-attr]
    assert restarts("backend", [state(6, 10.0)], Band(critical=5)).priority == P.P1  # type: ignore[union-attr]


def test_restart_loop_cause_keeps_the_facts_priority() -> None:
    """A restart loop of a service that answers now is the fact's P1; failing now, P0."""
    loop = restarts("backend", [state(9, 5.0)], BAND)
    assert loop is not None
    found = rows(loop)
    assert [(r["rule"], r["priority"]) for r in found] == [("restart_loop", "P1")]
    assert found[0]["procedure"] == "Crash Loop"
    failing = Finding("http_health", "backend", P.P0, "health check failed: ConnectError")
    found = rows(loop, failing)
    assert [(r["rule"], r["priority"]) for r in found] == [("crash_loop_restarts", "P0")]
    assert found[0]["escalate"][:2] == ["L1", "L2"]


def test_restarts_for_out_of_memory_name_memory_not_a_generic_crash() -> None:
    found = rows(
        Finding("service_status", "backend", P.P0, "service down: restarting, exit code 134"),
        Finding("service_status", "backend", P.P1, "restart loop: restarted 9 time(s) > 2", 9),
        Finding("out_of_memory", "netzwaechter_backend_1", P.P1, "9 out-of-memory line(s)", 9),
        Finding("http_health", "backend", P.P0, "health check failed: ConnectError"),
    )
    assert [r["rule"] for r in found] == ["oom_crash_loop"]
    top = found[0]
    assert top["priority"] == "P0" and top["procedure"] == "High Memory Usage Alert"
    assert top["scenario"] == "high-memory" and top["escalate"][:2] == ["L1", "L2"]
    assert len(top["consequences"]) == 2  # the health check and the restart count


def test_crash_loop_without_out_of_memory_stays_a_crash_loop() -> None:
    found = rows(
        Finding("service_status", "backend", P.P0, "service down: restarting, exit code 1"),
        Finding("service_status", "backend", P.P1, "restart loop: restarted 4 time(s) > 2", 4),
    )
    assert [r["rule"] for r in found] == ["crash_loop"]


# --- the short window -------------------------------------------------------------------------


def test_short_window_is_a_check_of_its_own() -> None:
    hour = Outcome(
        findings=[Finding("request_error_rate", "backend", P.P1, "error rate % 30 > 5", 30.0, 5.0)],
        metrics={"logs.backend.error_rate_percent": 30.0, "logs.backend.requests": 40.0},
    )
    short = _recent(hour, "request_error_rate_recent")
    assert [(f.check, f.priority) for f in short.findings] == [("request_error_rate_recent", P.P1)]
    assert short.findings[0].summary.endswith("(last 5 minutes)")
    assert set(short.metrics) == {
        "logs.backend.5m.error_rate_percent",
        "logs.backend.5m.requests",
    }


# --- the issue-16 PostgreSQL dangers ----------------------------------------------------------

XID_P0 = Finding(
    "postgres_transaction_id_danger", "netzwaechter", P.P0,
    "2500000 transactions left before wraparound (99.9 % used): the server stops assigning XIDs",
    2500000, 3000000,
)  # fmt: skip


@pytest.mark.parametrize(
    ("finding", "rule", "procedure", "priority"),
    [
        (XID_P0, "xid_wraparound", "Transaction-ID Wraparound Ahead", "P0"),
        (
            Finding(
                "postgres_freeze_age", "public.readings", P.P2,
                "relfrozenxid age 180000000 is 90 % of its autovacuum_freeze_max_age "
                "200000000: VACUUM (FREEZE) due",
            ),
            "freeze_behind", "Transaction-ID Wraparound Ahead", "P2",
        ),
        (
            Finding(
                "postgres_sequence_danger", "public.zz_id_seq", P.P1,
                "96 % of the range used (zz.id, integer), 85899345 values left: move the "
                "column to bigint",
            ),
            "sequence_exhaustion", "Sequence Near Exhaustion", "P1",
        ),
        (
            Finding(
                "postgres_prepared_transactions", "nightly-1", P.P2,
                "prepared transaction 'nightly-1' (app@netzwaechter) open for 0h10m00s: …",
            ),
            "prepared_transaction", "Long-Open Transaction", "P2",
        ),
        (
            Finding(
                "postgres_oldest_transaction", "pid 4711", P.P2,
                "transaction open for 1h00m00s (idle in transaction, app, psql): "
                "SET lock_timeout = 0; SELECT … -- no answer within the statement_timeout",
            ),
            "long_transaction", "Long-Open Transaction", "P2",
        ),
        (
            Finding(
                "postgres_wal_archiving", "archiver", P.P1,
                "archiving fails since 2026-11-30 10:00:00 (000000010000000000000042; "
                "12 failures since the reset): …",
            ),
            "wal_archiving_fails", "WAL Piling Up (archiving or replication slot)", "P1",
        ),
        (
            Finding(
                "postgres_replication_slots", "standby_1", P.P2,
                "inactive physical slot retains 120.0 MB of WAL: drop it if nothing will …",
            ),
            "replication_slot_retains", "WAL Piling Up (archiving or replication slot)", "P2",
        ),
        (
            Finding(
                "postgres_connection_capacity", "backend pools", P.P2,
                "10 replicas × pool of 10 = 100 connections ≥ the 97 available …",
            ),
            "connections_running_out", "PostgreSQL Connections Running Out", "P2",
        ),
    ],
)  # fmt: skip
def test_each_postgres_danger_names_its_cause_and_procedure(
    finding: Finding, rule: str, procedure: str, priority: str
) -> None:
    found = rows(finding)
    assert len(found) == 1, found
    top = found[0]
    assert (top["rule"], top["procedure"], top["priority"]) == (rule, procedure, priority)
    assert top["steps"] and top["next_step"] and top["evidence"]
    assert finding.subject in top["cause"] or finding.summary in top["cause"]
    assert top["escalate"][:2] == (["L1", "L2"] if priority == "P0" else ["L1"])


def test_wraparound_is_not_postgres_down_nor_a_hang() -> None:
    """A P0 of a database that answers, and a query text with "timeout" in it, are
    dangers of their own: neither is "PostgreSQL is down" or "PostgreSQL hangs"."""
    found = rows(
        XID_P0,
        Finding(
            "postgres_oldest_transaction", "pid 9", P.P2,
            "transaction open for 0h30m00s (active, app, psql): SELECT pg_sleep(1) -- timeout",
        ),
    )  # fmt: skip
    assert [r["rule"] for r in found] == ["xid_wraparound", "long_transaction"]
    assert found[0]["priority"] == "P0"


def test_prepared_transaction_explains_the_locks_waiting_for_it() -> None:
    found = rows(
        Finding("postgres_prepared_transactions", "nightly-1", P.P2, "prepared transaction …"),
        Finding("postgres_waiting_locks", "pid 12", P.P2, "waiting 0h01m00s for …"),
    )
    assert [r["rule"] for r in found] == ["prepared_transaction"]
    assert len(found[0]["consequences"]) == 1


def test_freeze_behind_takes_the_same_tables_vacuum_findings() -> None:
    found = rows(
        Finding("postgres_freeze_age", "public.readings", P.P2, "relfrozenxid age …"),
        Finding("postgres_vacuum_staleness", "public.readings", P.P3, "never vacuumed …"),
        Finding("postgres_vacuum_staleness", "public.other", P.P3, "never vacuumed …"),
    )
    assert [r["rule"] for r in found] == ["freeze_behind"]
    assert len(found[0]["consequences"]) == 1
    assert any("never vacuumed" in e for e in found[0]["evidence"])


def test_postgres_down_still_needs_the_database_unavailable() -> None:
    found = rows(
        Finding("postgres_ping", "postgres", P.P0, "database unavailable: connection refused"),
        Finding("service_status", "postgres", P.P0, "service down: exited, exit code 0"),
    )
    assert [r["rule"] for r in found] == ["postgres_down"]


LOCK_TIMEOUT = Finding(
    "postgres_dead_tuples", "postgres", P.P2,
    "postgres check failed: canceling statement due to lock timeout",
)  # fmt: skip


def test_a_lock_timeout_is_an_answer_not_a_hang() -> None:
    """A prepared transaction's lock made netzops's own query wait past lock_timeout: the
    server answered, so the cause is the transaction (seen on the sandbox), not a hang."""
    prepared = Finding(
        "postgres_prepared_transactions", "nightly-1", P.P2, "prepared transaction …"
    )
    found = rows(prepared, LOCK_TIMEOUT)
    assert [r["rule"] for r in found] == ["prepared_transaction"]
    assert len(found[0]["consequences"]) == 1 and "lock timeout" in found[0]["consequences"][0]
    assert [r["rule"] for r in rows(LOCK_TIMEOUT)] == ["lock_contention"]


@pytest.mark.parametrize(
    "summary",
    [
        "database unavailable: connection timeout expired",
        "no answer within 10 s: postgres_ping was cut short",
    ],
)
def test_a_server_that_does_not_answer_still_hangs(summary: str) -> None:
    priority = P.P0 if summary.startswith("database") else P.P1
    found = rows(Finding("postgres_ping", "postgres", priority, summary))
    assert [r["rule"] for r in found] == ["postgres_hangs"]

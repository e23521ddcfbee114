"""PostgreSQL activity: connections by state, active, long-running, idle-in-transaction
and blocked queries (pg_stat_activity, client backends only, our own session left out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from netzops.checks import Outcome
from netzops.findings import Finding, Priority, above, below
from netzops.postgres.client import Database, check

IDLE_IN_TRANSACTION = ("idle in transaction", "idle in transaction (aborted)")


@dataclass(frozen=True)
class ConnectionState:
    state: str
    connections: int


@check("postgres_connections", "PostgreSQL connections by state")
def connections(db: Database) -> Outcome:
    """Client connections by state against the runbook's pool band (5–20).

    The band applies to all client connections: the runbook's own "active connections"
    snippet counts every session, and a pool of 5–20 holds that many open connections.
    Bands come from the target (`db_connections_active`: below low → P3, above warn → P2,
    above critical → P1)."""
    found = db.rows("connections", ConnectionState)
    count = {s.state: s.connections for s in found}
    total = sum(count.values())
    band = db.target.bands["db_connections_active"]
    what = "client connections"
    finding = above("postgres_connections", "postgres", total, band, what) or below(
        "postgres_connections", "postgres", total, band, what
    )
    metrics = {
        "postgres.connections.active": float(count.get("active", 0)),
        "postgres.connections.idle": float(count.get("idle", 0)),
        "postgres.connections.idle_in_transaction": float(
            sum(count.get(s, 0) for s in IDLE_IN_TRANSACTION)
        ),
        "postgres.connections.total": float(total),
    }
    return Outcome(
        found,
        [finding] if finding else [],
        metrics,
        ["client backends only; our own session is not counted"],
    )


@dataclass(frozen=True)
class Activity:
    pid: int
    username: str | None
    database: str | None
    application_name: str
    client_addr: str | None
    state: str
    wait_event_type: str | None
    wait_event: str | None
    backend_start: datetime
    xact_start: datetime | None
    query_start: datetime | None
    state_change: datetime
    duration: timedelta
    query: str


def sessions(db: Database, states: tuple[str, ...], min_duration: timedelta) -> list[Activity]:
    """Client sessions in one of `states` for at least `min_duration`, oldest first."""
    return db.rows("activity", Activity, {"states": list(states), "min_duration": min_duration})


def age_text(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m{seconds % 60:02d}s"


def overdue(check: str, subject: str, span: timedelta, limit: timedelta, what: str) -> Finding:
    """P2 for a session, transaction or lock wait that has lasted `span`, past `limit`;
    `what` is the finding's summary; value and limit in seconds."""
    return Finding(
        check, subject, Priority.P2, what, round(span.total_seconds(), 1), limit.total_seconds()
    )


def short(query: str, width: int = 120) -> str:
    """A query on one line, cut to `width` characters."""
    return " ".join(query.split())[:width]


def _metrics(name: str, found: list[Activity]) -> dict[str, float]:
    longest = max((a.duration.total_seconds() for a in found), default=0.0)
    return {f"postgres.{name}": float(len(found)), f"postgres.{name}.max_seconds": longest}


@check("postgres_active_queries", "PostgreSQL active queries")
def active_queries(db: Database) -> Outcome:
    """Runbook "Check database performance": every client session running a query now."""
    found = sessions(db, ("active",), timedelta(0))
    return Outcome(found, metrics=_metrics("active_queries", found))


@check("postgres_long_running_queries", "PostgreSQL long-running queries")
def long_running_queries(
    db: Database,
    min_duration: timedelta = timedelta(minutes=5),  # runbook "Kill long-running query": 5 min
) -> Outcome:
    """Queries running for at least `min_duration`: one P2 finding each."""
    found = sessions(db, ("active",), min_duration)
    findings = [
        overdue(
            "postgres_long_running_queries",
            f"pid {a.pid}",
            a.duration,
            min_duration,
            f"query running for {age_text(a.duration)} ({a.username}, "
            f"{a.application_name or 'no application'}): {short(a.query)}",
        )
        for a in found
    ]
    return Outcome(found, findings, _metrics("long_running_queries", found))


@check("postgres_idle_in_transaction", "PostgreSQL sessions idle in transaction")
def idle_in_transaction(
    db: Database,
    min_duration: timedelta = timedelta(minutes=5),  # same bar as the runbook's 5 minutes
) -> Outcome:
    """Sessions idle inside an open transaction: they hold locks and stop VACUUM (P2 each)."""
    found = sessions(db, IDLE_IN_TRANSACTION, min_duration)
    findings = [
        overdue(
            "postgres_idle_in_transaction",
            f"pid {a.pid}",
            a.duration,
            min_duration,
            f"{a.state} for {age_text(a.duration)} ({a.username}, "
            f"{a.application_name or 'no application'}); last query: {short(a.query, 100)}",
        )
        for a in found
    ]
    return Outcome(found, findings, _metrics("idle_in_transaction", found))


@dataclass(frozen=True)
class BlockedQuery:
    pid: int
    username: str | None
    application_name: str
    blocked_by: list[int]
    wait_event_type: str
    wait_event: str | None
    waiting: timedelta
    query: str
    blocking_queries: str | None


@check("postgres_blocked_queries", "PostgreSQL blocked queries")
def blocked_queries(
    db: Database,
    min_wait: timedelta = timedelta(seconds=30),  # a lock wait past a usual request timeout
) -> Outcome:
    """Sessions waiting for locks held by others (pg_blocking_pids); P2 once past `min_wait`."""
    found = db.rows("blocked_queries", BlockedQuery)
    findings = [
        overdue(
            "postgres_blocked_queries",
            f"pid {b.pid}",
            b.waiting,
            min_wait,
            f"waiting {age_text(b.waiting)} for a lock held by pid "
            f"{', '.join(map(str, b.blocked_by))}: {short(b.query)}",
        )
        for b in found
        if b.waiting >= min_wait
    ]
    return Outcome(found, findings, {"postgres.blocked_queries": float(len(found))})

"""PostgreSQL transactions and capacity: the oldest open transaction in any state, prepared
transactions, lock requests waiting, the rollback ratio and connections against
max_connections (with the backend pools that could fill it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from netzops.checks import Outcome
from netzops.findings import Finding, Priority
from netzops.postgres.activity import age_text, overdue, short
from netzops.postgres.client import Database, check


@dataclass(frozen=True)
class OpenTransaction:
    pid: int
    username: str | None
    database: str | None
    application_name: str
    state: str
    xact_start: datetime
    age: timedelta
    backend_xmin_age: int | None
    query: str


@check("postgres_oldest_transaction", "PostgreSQL oldest open transaction")
def oldest_transaction(
    db: Database,
    max_age: timedelta = timedelta(minutes=5),  # runbook "Kill long-running query": 5 min
) -> Outcome:
    """Open transactions of client sessions, whatever their state, oldest first; P2 for each
    open longer than `max_age` (it holds locks and keeps VACUUM from removing dead rows)."""
    found = db.rows("oldest_transactions", OpenTransaction)
    findings = [
        overdue(
            "postgres_oldest_transaction",
            f"pid {t.pid}",
            t.age,
            max_age,
            f"transaction open for {age_text(t.age)} ({t.state}, {t.username}, "
            f"{t.application_name or 'no application'}): {short(t.query, 100)}",
        )
        for t in found
        if t.age >= max_age
    ]
    oldest = found[0].age.total_seconds() if found else 0.0
    return Outcome(
        found,
        findings,
        {"postgres.oldest_transaction_seconds": oldest, "postgres.open_transactions": len(found)},
    )


@dataclass(frozen=True)
class PreparedTransaction:
    gid: str
    prepared: datetime
    age: timedelta
    owner: str
    database: str
    xid_age: int


@check("postgres_prepared_transactions", "PostgreSQL prepared transactions")
def prepared_transactions(
    db: Database,
    max_age: timedelta = timedelta(seconds=1),  # check_postgres `prepared_txns`: warning 1 s
) -> Outcome:
    """Prepared (two-phase) transactions; P2 for each older than `max_age`. They survive
    restarts and hold locks and the xmin horizon until COMMIT/ROLLBACK PREPARED (this
    application does not use two-phase commit: any one is a leftover)."""
    found = db.rows("prepared_transactions", PreparedTransaction)
    findings = [
        overdue(
            "postgres_prepared_transactions",
            p.gid,
            p.age,
            max_age,
            f"prepared transaction {p.gid!r} ({p.owner}@{p.database}) open for {age_text(p.age)}: "
            "COMMIT PREPARED or ROLLBACK PREPARED it",
        )
        for p in found
        if p.age >= max_age
    ]
    oldest = max((p.age.total_seconds() for p in found), default=0.0)
    return Outcome(
        found,
        findings,
        {"postgres.prepared_transactions": len(found), "postgres.prepared_oldest_seconds": oldest},
    )


@dataclass(frozen=True)
class WaitingLock:
    pid: int
    locktype: str
    mode: str
    relation: str
    waiting: timedelta | None
    query: str


@check("postgres_waiting_locks", "PostgreSQL lock requests waiting")
def waiting_locks(
    db: Database,
    min_wait: timedelta = timedelta(seconds=30),  # blocked_queries' bar: past a request timeout
) -> Outcome:
    """Lock requests not granted (pg_locks), longest wait first; P2 for each waiting at
    least `min_wait` (also those waiting on a prepared transaction, which has no pid)."""
    found = db.rows("waiting_locks", WaitingLock)
    findings = [
        overdue(
            "postgres_waiting_locks",
            f"pid {w.pid}",
            w.waiting,
            min_wait,
            f"waiting {age_text(w.waiting)} for {w.mode} on {w.relation or w.locktype}: "
            f"{short(w.query, 100)}",
        )
        for w in found
        if w.waiting is not None and w.waiting >= min_wait
    ]
    longest = max((w.waiting.total_seconds() for w in found if w.waiting), default=0.0)
    return Outcome(
        found,
        findings,
        {"postgres.waiting_locks": len(found), "postgres.waiting_locks.max_seconds": longest},
    )


@dataclass(frozen=True)
class Rollbacks:
    database: str
    commits: int
    rollbacks: int
    stats_reset: datetime | None

    @property
    def percent(self) -> float | None:
        """None without transactions since the reset (no ratio: not 0 %)."""
        total = self.commits + self.rollbacks
        return round(100.0 * self.rollbacks / total, 2) if total else None


@check("postgres_rollback_ratio", "PostgreSQL rollback ratio")
def rollback_ratio(
    db: Database,
    max_percent: float = 5.0,  # netzops: this app rolls back well under 1 %; 5 % is a fault
    min_transactions: int = 1000,  # too few transactions to judge a ratio
) -> Outcome:
    """Rollbacks as a percent of transactions per database since the statistics reset; P3
    where more than `max_percent` roll back (failing requests, deadlocks, serialization
    errors: look at the backend's and PostgreSQL's logs)."""
    found = db.rows("rollbacks", Rollbacks)
    findings = [
        Finding(
            "postgres_rollback_ratio",
            r.database,
            Priority.P3,
            f"{r.percent:g} % of {r.commits + r.rollbacks} transactions rolled back",
            r.percent,
            max_percent,
        )
        for r in found
        if r.commits + r.rollbacks >= min_transactions and (r.percent or 0.0) > max_percent
    ]
    metrics = {
        f"postgres.rollback_percent.{r.database}": r.percent for r in found if r.percent is not None
    }
    rows = [{**r.__dict__, "rollback_percent": r.percent} for r in found]
    notes = ["since the statistics reset (stats_reset)"]
    notes += [
        f"{r.database}: no transactions since the statistics reset, so no ratio"
        for r in found
        if r.percent is None
    ]
    return Outcome(rows, findings, metrics, notes)


@dataclass(frozen=True)
class ConnectionCapacity:
    connections: int
    max_connections: int
    reserved_connections: int
    available: int  # max_connections − reserves (superuser; 16+: reserved_connections too)
    used_percent: float
    replicas: int
    pool_size: int
    pools_could_open: int  # replicas × pool size


@check("postgres_connection_capacity", "PostgreSQL connections against max_connections")
def connection_capacity(
    db: Database,
    replicas: int = 1,
    pool_size: int = 10,  # the backend's pg.Pool max (sandbox/backend/server.js)
    warn_percent: float = 90.0,  # check_postgres `backends`: warning 90 %
    critical_percent: float = 95.0,  # check_postgres `backends`: critical 95 %
) -> Outcome:
    """Client connections as a percent of what normal roles may open (max_connections minus
    superuser_reserved_connections and, on PostgreSQL 16+, reserved_connections): P2/P1
    past `warn_percent`/`critical_percent`; P2 when `replicas` backend replicas ×
    `pool_size` could take every slot (scaling up would then fail with "too many clients")."""
    (row,) = db.rows("connection_capacity", _Capacity)
    available = row.max_connections - row.reserved_connections
    c = ConnectionCapacity(
        row.connections,
        row.max_connections,
        row.reserved_connections,
        available,
        round(100.0 * row.connections / available, 1) if available > 0 else 100.0,
        replicas,
        pool_size,
        replicas * pool_size,
    )
    findings = []
    if c.used_percent >= warn_percent:
        level = Priority.P1 if c.used_percent >= critical_percent else Priority.P2
        findings.append(
            Finding(
                "postgres_connection_capacity",
                "postgres",
                level,
                f"{c.connections} of {available} connections in use ({c.used_percent:g} %)",
                c.used_percent,
                warn_percent if level == Priority.P2 else critical_percent,
            )
        )
    if c.pools_could_open >= available:
        findings.append(
            Finding(
                "postgres_connection_capacity",
                "backend pools",
                Priority.P2,
                f"{replicas} replicas × pool of {pool_size} = {c.pools_could_open} "
                f"connections ≥ the {available} available (max_connections "
                f"{c.max_connections}): lower the pool or add PgBouncer before scaling",
                c.pools_could_open,
                available,
            )
        )
    metrics = {
        "postgres.connections.used_percent": c.used_percent,
        "postgres.connections.max": float(c.max_connections),
        "postgres.connections.pools_could_open": float(c.pools_could_open),
    }
    return Outcome([c], findings, metrics, ["our own session counts: it holds a slot"])


@dataclass(frozen=True)
class _Capacity:
    connections: int
    max_connections: int
    reserved_connections: int

"""The server as a whole: connectivity (pg_isready + `SELECT 1`), database and table sizes."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from netzops.checks import Outcome
from netzops.postgres.client import Database, check


@dataclass(frozen=True)
class Ping:
    server_version_num: int
    server_version: str
    database: str
    role: str
    in_recovery: bool
    started_at: datetime
    latency_ms: float = 0.0


@check("postgres_ping", "PostgreSQL connectivity")
def ping(db: Database) -> Outcome:
    """pg_isready and `SELECT 1` in one: connect, query, latency."""
    start = time.perf_counter()
    found: Sequence[Ping] = db.rows("ping", Ping)
    latency = round((time.perf_counter() - start) * 1000.0, 1)
    row = Ping(**{**found[0].__dict__, "latency_ms": latency})
    return Outcome([row], metrics={"postgres.up": 1.0, "postgres.ping_ms": latency})


@dataclass(frozen=True)
class DatabaseSize:
    database: str
    size_bytes: int
    size: str


@check("postgres_database_size", "PostgreSQL database size")
def database_size(db: Database) -> Outcome:
    """Runbook "Check database size": pg_database_size of the target's database."""
    found = db.rows("database_size", DatabaseSize)
    return Outcome(found, metrics={"postgres.database_size_bytes": float(found[0].size_bytes)})


@dataclass(frozen=True)
class TableSize:
    schema: str
    table_name: str
    total_bytes: int
    table_bytes: int
    index_bytes: int
    total_size: str
    estimated_rows: int


@check("postgres_table_sizes", "PostgreSQL table sizes")
def table_sizes(db: Database) -> Outcome:
    """Runbook "List tables" / "Check table sizes": every user table, largest first."""
    found = db.rows("table_sizes", TableSize)
    total = float(sum(t.total_bytes for t in found))
    return Outcome(
        found,
        metrics={"postgres.tables.count": float(len(found)), "postgres.tables.total_bytes": total},
    )

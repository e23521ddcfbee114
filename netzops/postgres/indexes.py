"""PostgreSQL indexes: usage, unused, duplicate and (hints of) missing indexes.

Scan counts are cumulative since the statistics were last reset, and only for this
server: an index unused on the primary may still serve a replica.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from netzops.checks import Outcome
from netzops.findings import Finding, Priority
from netzops.postgres.client import Database, check

STATS_NOTE = "scan counts are cumulative since the last statistics reset, on this server only"


@dataclass(frozen=True)
class IndexUsage:
    schema: str
    table_name: str
    index_name: str
    idx_scan: int
    idx_tup_read: int
    size_bytes: int
    is_unique: bool
    is_primary: bool
    last_idx_scan: datetime | None  # PostgreSQL 16+


def _mb(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB"


@check("postgres_index_usage", "PostgreSQL index usage")
def index_usage(db: Database) -> Outcome:
    """Runbook "Check index usage": every user index, least scanned first."""
    found = db.rows("index_usage", IndexUsage)
    return Outcome(found, metrics={"postgres.indexes.count": float(len(found))}, notes=[STATS_NOTE])


@check("postgres_unused_indexes", "PostgreSQL unused indexes")
def unused_indexes(
    db: Database,
    max_scans: int = 50,  # pgHero unused_indexes(max_scans: 50)
) -> Outcome:
    """Non-unique indexes scanned at most `max_scans` times: they cost writes and space (P3)."""
    found = [
        i for i in db.rows("index_usage", IndexUsage) if not i.is_unique and i.idx_scan <= max_scans
    ]
    findings = [
        Finding(
            "postgres_unused_indexes",
            f"{i.schema}.{i.index_name}",
            Priority.P3,
            f"index on {i.table_name} scanned {i.idx_scan} times, "
            f"{_mb(i.size_bytes)}: consider DROP INDEX",
            i.idx_scan,
            max_scans,
        )
        for i in found
    ]
    metrics = {
        "postgres.indexes.unused": float(len(found)),
        "postgres.indexes.unused_bytes": float(sum(i.size_bytes for i in found)),
    }
    return Outcome(found, findings, metrics, [STATS_NOTE])


@dataclass(frozen=True)
class DuplicateIndex:
    schema: str
    table_name: str
    index_name: str
    covered_by: str
    size_bytes: int
    index_definition: str
    covering_definition: str


@check("postgres_duplicate_indexes", "PostgreSQL duplicate indexes")
def duplicate_indexes(db: Database) -> Outcome:
    """B-tree indexes whose columns lead another index on the same table (P3 each)."""
    found = db.rows("duplicate_indexes", DuplicateIndex)
    findings = [
        Finding(
            "postgres_duplicate_indexes",
            f"{d.schema}.{d.index_name}",
            Priority.P3,
            f"covered by {d.covered_by} ({_mb(d.size_bytes)}): consider DROP INDEX",
            d.size_bytes,
        )
        for d in found
    ]
    return Outcome(found, findings, {"postgres.indexes.duplicate": float(len(found))})


@dataclass(frozen=True)
class TableStats:
    schema: str
    table_name: str
    seq_scan: int
    seq_tup_read: int
    idx_scan: int | None  # None: the table has no index
    n_live_tup: int
    n_dead_tup: int
    reltuples: float  # pg_class.reltuples (0 when never analyzed): survives a stats reset
    table_bytes: int
    last_vacuum: datetime | None
    last_autovacuum: datetime | None
    last_analyze: datetime | None
    last_autoanalyze: datetime | None
    autovacuum_enabled: bool
    vacuum_threshold: float


def seq_share(t: TableStats) -> float:
    """The share of a table's scans that read it sequentially (0..1)."""
    scans = t.seq_scan + (t.idx_scan or 0)
    return t.seq_scan / scans if scans else 0.0


def row_count(t: TableStats) -> int:
    """The table's rows as the planner and autovacuum see them: pg_class.reltuples, or the
    statistics' n_live_tup when that is larger (rows added since the last ANALYZE). A reset
    of the statistics (crash, pg_stat_reset()) leaves n_live_tup near 0, reltuples intact."""
    return max(t.n_live_tup, round(t.reltuples))


@check("postgres_missing_indexes", "PostgreSQL tables read by sequential scans")
def missing_indexes(
    db: Database,
    min_rows: int = 10_000,  # below this a sequential scan is cheap (a hint, not a rule)
    min_share: float = 0.5,  # most of the table's scans are sequential
) -> Outcome:
    """Tables of at least `min_rows` rows read mostly by sequential scans: a P3 hint to look
    for a missing index (check the queries in pg_stat_statements before adding one)."""
    found = [
        t
        for t in db.rows("table_stats", TableStats)
        if row_count(t) >= min_rows and t.seq_scan > 0 and seq_share(t) >= min_share
    ]
    findings = [
        Finding(
            "postgres_missing_indexes",
            f"{t.schema}.{t.table_name}",
            Priority.P3,
            f"{seq_share(t):.0%} of scans are sequential ({t.seq_scan} scans, "
            f"{t.seq_tup_read} rows read, {row_count(t)} rows): missing index?",
            round(seq_share(t), 3),
            min_share,
        )
        for t in found
    ]
    return Outcome(
        found, findings, {"postgres.tables.seq_scan_heavy": float(len(found))}, [STATS_NOTE]
    )

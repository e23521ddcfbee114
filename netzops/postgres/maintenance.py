"""PostgreSQL maintenance: dead tuples and bloat, cache hit rate, transaction-ID
wraparound and checkpoints (runbook "Check bloat", "Vacuum database", "Analyze tables")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from netzops.checks import Outcome
from netzops.findings import Finding, Priority
from netzops.postgres import bloat
from netzops.postgres.client import Database, check
from netzops.postgres.indexes import TableStats, row_count


@dataclass(frozen=True)
class DeadTuples:
    schema: str
    table_name: str
    n_live_tup: int
    n_dead_tup: int
    dead_percent: float
    table_bytes: int
    estimated_bloat_bytes: int  # heap beyond the live rows packed (netzops.postgres.bloat)
    bloat_method: str  # "estimate" (statistics, alignment included) or "no statistics"
    vacuum_threshold: float
    autovacuum_enabled: bool
    last_vacuum: datetime | None
    last_autovacuum: datetime | None


def _dead(t: TableStats, sizes: dict[tuple[str, str], bloat.TableBloat]) -> DeadTuples:
    size = sizes.get((t.schema, t.table_name))
    rows = row_count(t) + t.n_dead_tup  # reltuples: n_live_tup is ~0 after a stats reset
    share = t.n_dead_tup / rows if rows else 0.0
    return DeadTuples(
        t.schema,
        t.table_name,
        t.n_live_tup,
        t.n_dead_tup,
        round(100 * share, 2),
        t.table_bytes,
        size.bloat_bytes if size else 0,
        size.method if size else "no statistics",
        t.vacuum_threshold,
        t.autovacuum_enabled,
        t.last_vacuum,
        t.last_autovacuum,
    )


def _vacuum_due(d: DeadTuples) -> Finding:
    why = (
        "autovacuum is disabled for this table"
        if not d.autovacuum_enabled
        else "autovacuum has not caught up"
    )
    return Finding(
        "postgres_dead_tuples",
        f"{d.schema}.{d.table_name}",
        Priority.P3,
        f"VACUUM due: {d.n_dead_tup} dead tuples ({d.dead_percent:g} %, "
        f"~{d.estimated_bloat_bytes / 1_048_576:.1f} MB bloat, {d.bloat_method}), {why}",
        d.n_dead_tup,
        round(d.vacuum_threshold),
    )


@check("postgres_dead_tuples", "PostgreSQL dead tuples and bloat")
def dead_tuples(db: Database) -> Outcome:
    """Dead tuples per table, most first, with a bloat estimate (netzops.postgres.bloat,
    statistics method); P3 "VACUUM due" where they pass the point at which autovacuum would
    vacuum the table: threshold + scale factor × pg_class.reltuples, per-table reloptions
    first, then the server's settings (as autovacuum computes it; a statistics reset does
    not lower it)."""
    sizes = {(b.schema, b.table_name): b for b in bloat.estimate(db, use_pgstattuple=False)}
    found = sorted(
        (_dead(t, sizes) for t in db.rows("table_stats", TableStats)),
        key=lambda d: (-d.n_dead_tup, d.schema, d.table_name),
    )
    findings = [_vacuum_due(d) for d in found if d.n_dead_tup > d.vacuum_threshold]
    metrics = {
        "postgres.dead_tuples": float(sum(d.n_dead_tup for d in found)),
        "postgres.bloat_estimate_bytes": float(sum(d.estimated_bloat_bytes for d in found)),
    }
    metrics |= {
        f"postgres.dead_tuples.{d.schema}.{d.table_name}": float(d.n_dead_tup) for d in found
    }
    return Outcome(found, findings, metrics)


@dataclass(frozen=True)
class CacheHits:
    scope: str
    hits: int
    reads: int
    hit_percent: float | None


@check("postgres_cache_hit_rate", "PostgreSQL cache hit rate")
def cache_hit_rate(
    db: Database,
    min_percent: float = 99.0,  # pgHero cache_hit_rate_threshold
) -> Outcome:
    """Blocks found in shared_buffers, in percent (database, tables, indexes); a P3 hint
    (more shared_buffers or memory) for each scope under `min_percent`."""
    found = db.rows("cache_hit_rate", CacheHits)
    findings = [
        Finding(
            "postgres_cache_hit_rate",
            c.scope,
            Priority.P3,
            f"{c.scope} cache hit rate {c.hit_percent:g} % < {min_percent:g} %",
            c.hit_percent,
            min_percent,
        )
        for c in found
        if c.hit_percent is not None and c.hit_percent < min_percent
    ]
    rate = {c.scope: c.hit_percent for c in found if c.hit_percent is not None}
    metrics = {
        (
            "postgres.cache_hit_rate" if scope == "database" else f"postgres.cache_hit_rate.{scope}"
        ): value
        for scope, value in rate.items()
    }
    return Outcome(
        found,
        findings,
        metrics,
        ["percent of block reads served from shared_buffers, since the stats reset"]
        + [
            f"{c.scope}: no block reads since the stats reset, so no rate (not 0 %, not 100 %)"
            for c in found
            if c.hit_percent is None
        ],
    )


@dataclass(frozen=True)
class XidAge:
    database: str
    xid_age: int
    transactions_left: int
    percent_used: float
    freeze_max_age: int
    is_current: bool


def _xid_finding(
    x: XidAge, stop_left: int, danger_left: int, warn_percent: float
) -> Finding | None:
    limit: float
    if x.transactions_left < stop_left:
        level, limit, what = Priority.P0, stop_left, "the server stops assigning XIDs"
    elif x.transactions_left < danger_left:
        level, limit, what = Priority.P1, danger_left, "VACUUM FREEZE now"
    elif x.percent_used >= warn_percent:
        level, limit, what = Priority.P2, warn_percent, "plan a VACUUM FREEZE"
    else:
        return None
    return Finding(
        "postgres_transaction_id_danger",
        x.database,
        level,
        f"{x.transactions_left} transactions left before wraparound "
        f"({x.percent_used:g} % used): {what}",
        x.transactions_left,
        limit,
    )


@check("postgres_transaction_id_danger", "PostgreSQL transaction-ID wraparound")
def transaction_id_danger(
    db: Database,
    danger_left: int = 10_000_000,  # pgHero transaction_id_danger(threshold: 10000000)
    warn_percent: float = 50.0,  # half the 2^31 horizon: freezing is overdue, plan it
    stop_left: int = 3_000_000,  # PostgreSQL 14+ refuses new XIDs with 3 million left
) -> Outcome:
    """age(datfrozenxid) of every database against 2^31: P2 past `warn_percent`, P1 under
    `danger_left` transactions left, P0 when the server is about to refuse writes."""
    found = db.rows("xid_wraparound", XidAge)
    findings = [f for x in found if (f := _xid_finding(x, stop_left, danger_left, warn_percent))]
    current = next((x for x in found if x.is_current), None)
    metrics = {"postgres.xid_wraparound_percent": max((x.percent_used for x in found), default=0.0)}
    if current:
        metrics["postgres.xid_age"] = float(current.xid_age)
    return Outcome(found, findings, metrics)


@dataclass(frozen=True)
class Checkpoints:
    timed: int
    requested: int
    stats_reset: datetime | None


@check("postgres_checkpoints", "PostgreSQL checkpoints")
def checkpoints(
    db: Database,
    min_checkpoints: int = 10,  # too few checkpoints to judge the ratio
    max_requested_share: float = 0.5,  # PostgreSQL docs (WAL configuration): mostly timed
) -> Outcome:
    """Timed versus requested checkpoints: when most are requested (WAL filled up before
    checkpoint_timeout), max_wal_size is too small (P3 hint)."""
    found = db.rows("checkpoints", Checkpoints)
    c = found[0]
    total = c.timed + c.requested
    share = c.requested / total if total else 0.0
    findings = (
        []
        if total < min_checkpoints or share <= max_requested_share
        else [
            Finding(
                "postgres_checkpoints",
                "postgres",
                Priority.P3,
                f"{share:.0%} of {total} checkpoints were requested, not timed: raise max_wal_size",
                round(share, 3),
                max_requested_share,
            )
        ]
    )
    return Outcome(
        found,
        findings,
        {
            "postgres.checkpoints.timed": float(c.timed),
            "postgres.checkpoints.requested": float(c.requested),
        },
    )

"""PostgreSQL vacuum and analyze staleness, and freeze age against autovacuum_freeze_max_age.

Staleness counts only for tables with work waiting (dead tuples for VACUUM, changed rows for
ANALYZE): a table nobody writes needs neither, however long ago it was vacuumed
(check_postgres's `last_vacuum`/`last_analyze` report every table; see
docs/check-postgres-agreement.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from netzops.checks import Outcome
from netzops.findings import Finding, Priority
from netzops.postgres.client import Database, check

MIN_PENDING = 50  # autovacuum_vacuum_threshold / _analyze_threshold default: less is no work


@dataclass(frozen=True)
class Staleness:
    schema: str
    table_name: str
    last_vacuum: datetime | None  # latest of manual and auto; None: never since the reset
    last_analyze: datetime | None
    n_dead_tup: int
    n_mod_since_analyze: int
    stats_reset: datetime | None


_DONE = {"vacuum": "vacuumed", "analyze": "analyzed"}


def _stale(
    what: str, t: Staleness, at: datetime | None, pending: int, now: datetime, limit: timedelta
) -> Finding | None:
    if pending < MIN_PENDING:
        return None
    name = f"{t.schema}.{t.table_name}"
    if at is None:
        since = f"the statistics reset at {t.stats_reset:%Y-%m-%d %H:%M}" if t.stats_reset else ""
        return Finding(
            f"postgres_{what}_staleness",
            name,
            Priority.P3,
            f"never {_DONE[what]} since {since or 'the statistics were reset'}, "
            f"{pending} rows waiting",
            pending,
        )
    age = now - at
    if age < limit:
        return None
    return Finding(
        f"postgres_{what}_staleness",
        name,
        Priority.P3,
        f"last {what} {age.days} d {age.seconds // 3600} h ago, {pending} rows waiting",
        round(age.total_seconds()),
        limit.total_seconds(),
    )


@check(
    "postgres_maintenance_staleness",
    "PostgreSQL vacuum and analyze staleness",
    emits=("postgres_vacuum_staleness", "postgres_analyze_staleness"),
)
def maintenance_staleness(
    db: Database,
    max_vacuum_age: timedelta = timedelta(days=1),  # check_postgres last_vacuum: warning 1 day
    max_analyze_age: timedelta = timedelta(days=1),  # check_postgres last_analyze: warning 1 day
) -> Outcome:
    """Per table, the latest VACUUM and ANALYZE (manual or auto). P3 where a table with
    `MIN_PENDING` or more dead tuples was not vacuumed for `max_vacuum_age` (or never since
    the statistics reset), and where a table with as many changed rows was not analyzed
    for `max_analyze_age` (or never)."""
    found = db.rows("vacuum_staleness", Staleness)
    now = datetime.now(UTC)
    findings = [
        f
        for t in found
        for f in (
            _stale("vacuum", t, t.last_vacuum, t.n_dead_tup, now, max_vacuum_age),
            _stale("analyze", t, t.last_analyze, t.n_mod_since_analyze, now, max_analyze_age),
        )
        if f
    ]

    def oldest(times: list[datetime | None]) -> float:
        known = [now - t for t in times if t is not None]
        return max((a.total_seconds() for a in known), default=0.0)

    metrics = {
        "postgres.last_vacuum_max_age_seconds": oldest([t.last_vacuum for t in found]),
        "postgres.last_analyze_max_age_seconds": oldest([t.last_analyze for t in found]),
        "postgres.tables_never_vacuumed": float(sum(t.last_vacuum is None for t in found)),
        "postgres.tables_never_analyzed": float(sum(t.last_analyze is None for t in found)),
    }
    return Outcome(found, findings, metrics, ["only tables with work waiting are judged"])


@dataclass(frozen=True)
class FreezeAge:
    schema: str
    table_name: str
    xid_age: int
    freeze_max_age: int

    @property
    def percent(self) -> float:
        return round(100.0 * self.xid_age / self.freeze_max_age, 1)


@check("postgres_freeze_age", "PostgreSQL freeze age against autovacuum_freeze_max_age")
def freeze_age(
    db: Database,
    warn_percent: float = 100.0,  # PostgreSQL docs 25.1.5: past it autovacuum must freeze
    behind_percent: float = 150.0,  # half again past it: the forced vacuum is not keeping up
) -> Outcome:
    """age(relfrozenxid) of each table (and its TOAST table) as a percent of the
    autovacuum_freeze_max_age that applies to it (reloption or server setting): P3 from
    `warn_percent` (an anti-wraparound VACUUM is due now), P2 from `behind_percent`."""
    found = db.rows("freeze_age", FreezeAge)
    findings = []
    for t in found:
        if t.percent < warn_percent:
            continue
        level = Priority.P2 if t.percent >= behind_percent else Priority.P3
        findings.append(
            Finding(
                "postgres_freeze_age",
                f"{t.schema}.{t.table_name}",
                level,
                f"relfrozenxid age {t.xid_age} is {t.percent:g} % of its "
                f"autovacuum_freeze_max_age {t.freeze_max_age}: VACUUM (FREEZE) due",
                t.percent,
                warn_percent if level == Priority.P3 else behind_percent,
            )
        )
    rows = [{**t.__dict__, "percent": t.percent} for t in found]
    top = max((t.percent for t in found), default=0.0)
    return Outcome(rows, findings, {"postgres.freeze_age_max_percent": top})

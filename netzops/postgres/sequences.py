"""PostgreSQL sequence exhaustion: how much of its range each sequence has used, against the
limit that binds first (the sequence's max_value or its column's type: an `int4` id column
stops at 2^31-1 even when the sequence is bigint).

The monitoring role needs SELECT on the sequences to read last_value (the sandbox grants it
in sandbox/postgres/grants.sql). A sequence it cannot read is a finding that says so, never
a silent 0 % (check_postgres reports 0 % there).
"""

from __future__ import annotations

from dataclasses import dataclass

from netzops.checks import Outcome
from netzops.findings import Finding, Priority
from netzops.postgres.client import Database, check


@dataclass(frozen=True)
class SequenceUse:
    schema: str
    sequence_name: str
    sequence_type: str
    table_name: str | None
    column_name: str | None
    column_type: str | None
    last_value: int | None  # None: never used, or not readable
    increment_by: int
    min_value: int
    max_value: int  # the binding limit: min(sequence max, column type max)
    readable: bool


def used_percent(s: SequenceUse) -> float | None:
    """Percent of the range used (0 for a sequence never used; None when not readable)."""
    if not s.readable:
        return None
    if s.last_value is None:
        return 0.0
    if s.increment_by < 0:
        return round(100.0 * (s.max_value - s.last_value) / (s.max_value - s.min_value), 3)
    return round(100.0 * s.last_value / s.max_value, 3)


def _name(s: SequenceUse) -> str:
    return f"{s.schema}.{s.sequence_name}"


def _finding(s: SequenceUse, warn: float, critical: float) -> Finding | None:
    percent = used_percent(s)
    feeds = f" ({s.table_name}.{s.column_name}, {s.column_type})" if s.table_name else ""
    if percent is None:
        return Finding(
            "postgres_sequence_danger",
            _name(s),
            Priority.P3,
            f"cannot read the sequence's value{feeds}: GRANT SELECT ON SEQUENCE to the "
            "monitoring role",
        )
    if percent < warn:
        return None
    level, limit = (Priority.P1, critical) if percent >= critical else (Priority.P2, warn)
    left = (s.max_value - (s.last_value or 0)) // max(abs(s.increment_by), 1)
    return Finding(
        "postgres_sequence_danger",
        _name(s),
        level,
        f"{percent:g} % of the range used{feeds}, {left} values left: move the column to bigint",
        percent,
        limit,
    )


@check("postgres_sequence_danger", "PostgreSQL sequence exhaustion")
def sequence_danger(
    db: Database,
    warn_percent: float = 85.0,  # check_postgres `sequence`: warning 85 %
    critical_percent: float = 95.0,  # check_postgres `sequence`: critical 95 %
) -> Outcome:
    """Every sequence with the share of its range used: P2 from `warn_percent`, P1 from
    `critical_percent`, P3 for a sequence this role cannot read."""
    found = db.rows("sequences", SequenceUse)
    findings = [f for s in found if (f := _finding(s, warn_percent, critical_percent))]
    used = [p for s in found if (p := used_percent(s)) is not None]
    metrics = {
        "postgres.sequences.max_used_percent": max(used, default=0.0),
        "postgres.sequences.unreadable": float(sum(not s.readable for s in found)),
    }
    metrics |= {
        f"postgres.sequences.{_name(s)}.used_percent": p
        for s in found
        if (p := used_percent(s)) is not None
    }
    return Outcome(found, findings, metrics)

"""PostgreSQL WAL: archiver failures, checkpoint age and replication slots that retain WAL.

A failing archive command and a slot nobody consumes both keep WAL in pg_wal until the disk
fills; an overdue checkpoint means a long crash recovery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from netzops.checks import Outcome
from netzops.findings import Finding, Priority
from netzops.postgres.client import Database, check


@dataclass(frozen=True)
class Archiver:
    archive_mode: str
    archived_count: int
    failed_count: int
    last_archived_wal: str | None
    last_archived_time: datetime | None
    last_failed_wal: str | None
    last_failed_time: datetime | None
    ready_count: int


def failing(a: Archiver) -> bool:
    """The archiver's last attempt failed (no success since the last failure)."""
    return a.last_failed_time is not None and (
        a.last_archived_time is None or a.last_failed_time > a.last_archived_time
    )


@check("postgres_wal_archiving", "PostgreSQL WAL archiving")
def wal_archiving(
    db: Database,
    max_ready: int = 10,  # check_postgres `archive_ready`: warning 10 files
) -> Outcome:
    """pg_stat_archiver and the segments waiting (.ready): P1 while the archive command
    fails (WAL piles up in pg_wal), P2 when `max_ready` or more segments wait."""
    (a,) = db.rows("archiver", Archiver)
    findings = []
    if a.archive_mode != "off" and failing(a):
        findings.append(
            Finding(
                "postgres_wal_archiving",
                "archiver",
                Priority.P1,
                f"archiving fails since {a.last_failed_time:%Y-%m-%d %H:%M:%S} "
                f"({a.last_failed_wal}; {a.failed_count} failures since the reset): "
                "WAL accumulates in pg_wal",
                a.failed_count,
            )
        )
    if a.ready_count >= max_ready:
        findings.append(
            Finding(
                "postgres_wal_archiving",
                "archive_status",
                Priority.P2,
                f"{a.ready_count} WAL segments wait to be archived",
                a.ready_count,
                max_ready,
            )
        )
    notes = ["archive_mode is off: nothing is archived"] if a.archive_mode == "off" else []
    metrics = {
        "postgres.archiver.failed": float(a.failed_count),
        "postgres.archiver.failing": float(failing(a)),
        "postgres.archiver.ready": float(a.ready_count),
    }
    return Outcome([a], findings, metrics, notes)


@dataclass(frozen=True)
class CheckpointAge:
    checkpoint_time: datetime
    age: timedelta
    wal_since_bytes: int
    checkpoint_timeout: timedelta


@check("postgres_checkpoint_age", "PostgreSQL last checkpoint")
def checkpoint_age(
    db: Database,
    max_age: timedelta | None = None,  # None: 2 × checkpoint_timeout (one missed checkpoint)
) -> Outcome:
    """The last checkpoint's age (pg_control) while WAL was written since it: P2 past
    `max_age` (checkpoints stalled: crash recovery grows, pg_wal is not recycled). An idle
    server skips checkpoints, so an old one with no WAL since is fine."""
    (c,) = db.rows("checkpoint_age", CheckpointAge)
    limit = max_age if max_age is not None else 2 * c.checkpoint_timeout
    findings = (
        [
            Finding(
                "postgres_checkpoint_age",
                "checkpointer",
                Priority.P2,
                f"last checkpoint {int(c.age.total_seconds())} s ago with "
                f"{c.wal_since_bytes / 1_048_576:.1f} MB of WAL written since",
                round(c.age.total_seconds()),
                limit.total_seconds(),
            )
        ]
        if c.age > limit and c.wal_since_bytes > 0
        else []
    )
    metrics = {
        "postgres.checkpoint_age_seconds": round(c.age.total_seconds(), 1),
        "postgres.wal_since_checkpoint_bytes": float(c.wal_since_bytes),
    }
    return Outcome([c], findings, metrics)


@dataclass(frozen=True)
class ReplicationSlot:
    slot_name: str
    slot_type: str
    database: str
    active: bool
    wal_status: str
    retained_bytes: int


@check("postgres_replication_slots", "PostgreSQL replication slots")
def replication_slots(
    db: Database,
    max_retained_bytes: int = 1024**3,  # netzops: 1 GB (64 default 16 MB segments) is P1
) -> Outcome:
    """Every replication slot and the WAL it retains: P2 for an inactive slot (nothing
    consumes it, PostgreSQL docs 27.2.6: it keeps WAL until the disk fills), P1 when a slot
    retains `max_retained_bytes` or more."""
    found = db.rows("replication_slots", ReplicationSlot)
    findings = []
    for s in found:
        big = s.retained_bytes >= max_retained_bytes
        if s.active and not big:
            continue
        findings.append(
            Finding(
                "postgres_replication_slots",
                s.slot_name,
                Priority.P1 if big else Priority.P2,
                f"{'inactive ' if not s.active else ''}{s.slot_type} slot retains "
                f"{s.retained_bytes / 1_048_576:.1f} MB of WAL: drop it if nothing will "
                "consume it (pg_drop_replication_slot)",
                s.retained_bytes,
                max_retained_bytes if big else None,
            )
        )
    metrics = {
        "postgres.replication_slots": float(len(found)),
        "postgres.replication_slots.inactive": float(sum(not s.active for s in found)),
        "postgres.replication_slots.retained_bytes": float(
            max((s.retained_bytes for s in found), default=0)
        ),
    }
    return Outcome(found, findings, metrics)

"""The backups of a target: what is there, how old, how big, whether verified by restore;
the newest verified one (RPO); and which ones the retention policy keeps.

A backup is a custom-format `<stem>.dump` (netzops' own, with `<stem>.manifest.json`) or
the runbook's plain `<stem>.sql.gz`. A verification writes `<stem>.verify.json`; the backup
counts as verified while that record says ok and the file still has the size, mtime and
SHA-256 the verification saw.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from netzops.backups.archive import Manifest, backup_dir, manifest_path, stem_of
from netzops.backups.server import check
from netzops.checks import Outcome
from netzops.errors import BadInput
from netzops.findings import Finding, Priority
from netzops.targets import Retention, Target

SUFFIXES = (".dump", ".sql.gz")
RPO_WARN = timedelta(hours=26)  # runbook "Daily: verify backups completed": a day plus slack


def verify_path(backup: Path) -> Path:
    return backup.with_name(stem_of(backup) + ".verify.json")


@dataclass(frozen=True)
class Backup:
    """One backup file as the catalog shows it (sizes in bytes, ages in hours)."""

    file: str
    database: str | None
    kind: str  # backup | safety | plain
    taken_at: datetime
    age_hours: float
    size: str
    size_bytes: int
    verified: bool
    verified_at: datetime | None
    restore_seconds: float | None
    sha256: str | None
    path: str

    @property
    def location(self) -> Path:
        return Path(self.path)


def human_size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def read_verification(backup: Path) -> dict[str, Any] | None:
    path = verify_path(backup)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def still_verified(backup: Path, record: dict[str, Any] | None) -> bool:
    """The verification record says ok and the file is the one it verified (size, mtime)."""
    if not record or not record.get("ok"):
        return False
    try:
        st = backup.stat()
    except OSError:
        return False
    return bool(record.get("size_bytes") == st.st_size and record.get("mtime_ns") == st.st_mtime_ns)


def describe(path: Path, now: datetime | None = None) -> Backup:
    """The catalog entry of one backup file."""
    now = now or datetime.now(UTC)
    st = path.stat()
    manifest: Manifest | None = None
    if path.name.endswith(".dump") and manifest_path(path).is_file():
        try:
            manifest = Manifest.read(manifest_path(path))
        except BadInput:
            manifest = None
    taken = (
        datetime.fromisoformat(manifest.started)
        if manifest
        else datetime.fromtimestamp(st.st_mtime, UTC)
    )
    record = read_verification(path)
    ok = still_verified(path, record)
    return Backup(
        path.name,
        manifest.database if manifest else None,
        manifest.kind if manifest else ("plain" if path.name.endswith(".sql.gz") else "backup"),
        taken,
        round((now - taken).total_seconds() / 3600, 2),
        human_size(st.st_size),
        st.st_size,
        ok,
        datetime.fromisoformat(record["verified_at"]) if ok and record else None,
        float(record["restore_seconds"]) if ok and record else None,
        manifest.sha256 if manifest else None,
        str(path),
    )


def backups(target: Target, folder: Path | None = None) -> list[Backup]:
    """Every backup in the target's folder, newest first."""
    where = folder or backup_dir(target)
    if not where.is_dir():
        return []
    files = [p for p in where.iterdir() if p.is_file() and p.name.endswith(SUFFIXES)]
    return sorted((describe(p) for p in files), key=lambda b: b.taken_at, reverse=True)


def latest_verified(target: Target, database: str | None = None) -> Backup | None:
    """The newest backup of the target's database that a restore verified (custom format
    with a manifest; the kind a guarded restore accepts), or None."""
    name = database or target.postgres.dbname
    return next(
        (
            b
            for b in backups(target)
            if b.verified and b.database == name and b.file.endswith(".dump")
        ),
        None,
    )


def resolve(target: Target, backup: str | Path | None) -> Path:
    """A backup of the target: a file name in its backup folder or a path; None → newest.
    BadInput (one line) when there is none or it is not a backup file."""
    folder = backup_dir(target)
    if backup is None or str(backup) == "":
        found = [b for b in backups(target) if b.kind != "safety"]
        if not found:
            raise BadInput(f"no backups in {folder}")
        return found[0].location
    path = Path(backup)
    path = path if path.is_absolute() else folder / path
    if not path.name.endswith(SUFFIXES):
        raise BadInput(f"{path.name}: a backup ends in .dump or .sql.gz")
    if not path.is_file():
        raise BadInput(f"no backup {path.name} in {path.parent}")
    return path


@check("backups", "Backups — {target.name}")
def catalog(target: Target) -> Outcome:
    """The backups with age, size and verification; RPO (age of the newest verified
    backup) in the metrics. No verified backup, or the newest older than 26 h, is a P2
    finding (runbook: "Daily: verify backups completed")."""
    check, title = "backups", f"Backups — {target.name} ({backup_dir(target)})"
    found = backups(target)
    metrics: dict[str, float] = {
        "backup.count": len(found),
        "backup.total_bytes": sum(b.size_bytes for b in found),
    }
    newest = latest_verified(target)
    findings = []
    if newest is None:
        findings.append(
            Finding(check, target.postgres.dbname, Priority.P2, "no backup verified by restore")
        )
    else:
        rpo = newest.age_hours * 3600
        metrics["backup.rpo_seconds"] = round(rpo, 1)
        if newest.restore_seconds is not None:
            metrics["backup.rto_seconds"] = newest.restore_seconds
        if rpo > RPO_WARN.total_seconds():
            findings.append(
                Finding(
                    check,
                    newest.file,
                    Priority.P2,
                    f"newest verified backup is {newest.age_hours:.1f} h old",
                    newest.age_hours,
                    RPO_WARN.total_seconds() / 3600,
                )
            )
    rows = [{k: v for k, v in vars(b).items() if k != "path"} for b in found]
    return Outcome(rows, findings, metrics, title=title)


# --- retention --------------------------------------------------------------------------------


def _day(b: Backup) -> date:
    return b.taken_at.astimezone(UTC).date()


def keep(found: list[Backup], policy: Retention, now: datetime | None = None) -> set[str]:
    """Files the policy keeps (pure): for each of the last `daily` days, `weekly` ISO weeks
    and `monthly` months that have backups, the newest verified backup of that period (the
    newest one when none is verified); plus the newest verified backup, safety dumps younger
    than `daily` days and every plain backup (netzops did not make those)."""
    now = now or datetime.now(UTC)
    dumps = [b for b in found if b.kind == "backup"]
    periods: list[tuple[int, Callable[[Backup], Any]]] = [
        (policy.daily, _day),
        (policy.weekly, lambda b: tuple(_day(b).isocalendar())[:2]),
        (policy.monthly, lambda b: (_day(b).year, _day(b).month)),
    ]
    kept: set[str] = set()
    for count, period in periods:
        groups: dict[Any, list[Backup]] = {}
        for b in dumps:
            groups.setdefault(period(b), []).append(b)
        for key in sorted(groups, reverse=True)[:count]:
            best = max(groups[key], key=lambda b: (b.verified, b.taken_at))
            kept.add(best.file)
    newest = max((b for b in dumps if b.verified), key=lambda b: b.taken_at, default=None)
    if newest:
        kept.add(newest.file)
    young = now - timedelta(days=policy.daily)
    kept |= {
        b.file for b in found if b.kind == "plain" or (b.kind == "safety" and b.taken_at > young)
    }
    return kept

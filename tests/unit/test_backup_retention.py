"""Retention as data: which backups the policy keeps (pure), and the guarded prune on a
folder of backup files (no sandbox needed: pruning touches only files)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from netzops import backups
from netzops.backups.archive import MANIFEST_FORMAT, STAMP
from netzops.backups.catalog import Backup
from netzops.errors import GuardRefused
from netzops.maintenance.rotation import size_bytes
from netzops.maintenance.schedule import Item, items, status
from netzops.targets import Retention, Target, load_target

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _backup(days_ago: float, verified: bool = True, kind: str = "backup") -> Backup:
    taken = NOW - timedelta(days=days_ago)
    name = f"netzwaechter-{taken.strftime(STAMP)}.dump"
    return Backup(
        name,
        "netzwaechter",
        kind,
        taken,
        days_ago * 24,
        "1 MB",
        10**6,
        verified,
        None,
        None,
        None,
        name,
    )


def test_keeps_the_newest_of_each_day_week_and_month() -> None:
    found = [_backup(d / 2) for d in range(0, 400)]  # two a day for 200 days
    kept = backups.keep(found, Retention(daily=7, weekly=4, monthly=6), NOW)
    days = {b.taken_at.date() for b in found if b.file in kept}
    assert len(kept) <= 7 + 4 + 6
    assert {(NOW - timedelta(days=d)).date() for d in range(7)} <= days
    assert found[0].file in kept  # the newest
    months = {(b.taken_at.year, b.taken_at.month) for b in found if b.file in kept}
    assert len(months) == 6


def test_a_verified_backup_wins_its_period_and_the_newest_verified_is_always_kept() -> None:
    newer, older = _backup(0.1, verified=False), _backup(0.3, verified=True)
    kept = backups.keep([newer, older], Retention(daily=1, weekly=0, monthly=0), NOW)
    assert kept == {older.file}
    old_verified = _backup(300, verified=True)
    fresh = [_backup(d, verified=False) for d in range(3)]
    kept = backups.keep([*fresh, old_verified], Retention(daily=1, weekly=0, monthly=0), NOW)
    assert old_verified.file in kept


def test_safety_dumps_are_kept_while_young_and_plain_backups_always() -> None:
    young, old = _backup(1, kind="safety"), _backup(30, kind="safety")
    plain = _backup(400, verified=False, kind="plain")
    kept = backups.keep([young, old, plain], Retention(daily=7, weekly=0, monthly=0), NOW)
    assert young.file in kept and plain.file in kept and old.file not in kept


def _write(folder: Path, days_ago: float, verified: bool) -> Path:
    taken = datetime.now(UTC) - timedelta(days=days_ago)
    path = folder / f"netzwaechter-{taken.strftime(STAMP)}.dump"
    path.write_bytes(b"PGDMP" + bytes(100))
    manifest = {
        "file": path.name,
        "database": "netzwaechter",
        "target": "sandbox",
        "kind": "backup",
        "server_version": "15",
        "server_version_num": 150000,
        "pg_dump_version": "15",
        "started": taken.isoformat(),
        "ended": taken.isoformat(),
        "size_bytes": 105,
        "sha256": "0" * 64,
        "tables": {},
        "format": MANIFEST_FORMAT,
    }
    path.with_name(path.name.removesuffix(".dump") + ".manifest.json").write_text(
        json.dumps(manifest)
    )
    if verified:
        st = path.stat()
        record = {
            "ok": True,
            "size_bytes": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "verified_at": taken.isoformat(),
            "restore_seconds": 1.0,
        }
        path.with_name(path.name.removesuffix(".dump") + ".verify.json").write_text(
            json.dumps(record)
        )
    return path


@pytest.fixture()
def target(tmp_path: Path) -> Target:
    sandbox = load_target("sandbox")
    return sandbox.model_copy(
        update={
            "backups": sandbox.backups.model_copy(
                update={"dir": str(tmp_path), "retention": Retention(daily=2, weekly=0, monthly=0)}
            )
        }
    )


def test_prune_is_a_dry_run_then_deletes_exactly_the_plan(target: Target, tmp_path: Path) -> None:
    paths = [_write(tmp_path, d, verified=d % 2 == 0) for d in (0, 1, 2, 3, 4)]
    files_before = sorted(p.name for p in tmp_path.iterdir())
    dry = backups.prune(target)
    audit = dry.actions[0]
    assert audit["dry_run"] and sorted(p.name for p in tmp_path.iterdir()) == files_before
    assert set(audit["details"]["keep"]) == {paths[0].name, paths[1].name}
    assert set(audit["details"]["delete"]) == {p.name for p in paths[2:]}
    assert audit["details"]["frees_bytes"] == 3 * 105
    with pytest.raises(GuardRefused):
        backups.prune(target, confirm="prune_backups@sandbox#000000000000")
    done = backups.prune(target, confirm=dry.notes[0].rsplit(" ", 1)[1])
    assert done.actions[0]["verified"] is True
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(
        f for f in files_before if f.split(".")[0] in {p.name.split(".")[0] for p in paths[:2]}
    )
    assert backups.latest_verified(target).file == paths[0].name  # type: ignore[union-attr]


def test_a_changed_file_is_no_longer_verified(target: Target, tmp_path: Path) -> None:
    path = _write(tmp_path, 0, verified=True)
    assert backups.latest_verified(target) is not None
    path.write_bytes(b"PGDMP" + bytes(99))
    assert backups.latest_verified(target) is None


def test_schedule_status_and_docker_sizes() -> None:
    daily = Item("x", "daily", 1, 1, "runs")
    assert status(NOW - timedelta(hours=23), daily, NOW) == "done"
    assert status(NOW - timedelta(hours=36), daily, NOW) == "due"
    assert status(NOW - timedelta(days=3), daily, NOW) == "overdue"
    assert status(None, daily, NOW) == "overdue"
    assert len(items()) == 15
    assert size_bytes("10m") == 10 * 1024**2 and size_bytes("512k") == 512 * 1024
    assert size_bytes("100") == 100 and size_bytes("1g") == 1024**3

"""Evidence for the maintenance schedule, one function per kind named in
`data/maintenance.yaml`: each returns (when it was last done or None, what shows it) and
may add the findings of the checks it ran to the context."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netzops import host
from netzops.backups.archive import Manifest, backup_dir, manifest_path
from netzops.backups.catalog import backups
from netzops.containers.engine import RECLAIM_HINT_BYTES, system_df
from netzops.maintenance import rotation, updates
from netzops.postgres.client import connect
from netzops.postgres.users import users

if TYPE_CHECKING:
    from netzops.maintenance.schedule import Context, Item

Found = tuple[datetime | None, str]
CAPACITY_DAYS = 92  # history read for the capacity review: one quarter


def _ledger(ctx: Context) -> list[dict[str, Any]]:
    path = ctx.outputs / "ledger.jsonl"
    found = []
    try:
        with path.open() as fh:
            for line in fh:
                if line.strip():
                    entry = json.loads(line)
                    if entry.get("target") == ctx.target.name:
                        found.append(entry)
    except OSError:
        return []
    return found


def _when(text: str) -> datetime:
    stamp = datetime.fromisoformat(text)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _age(ctx: Context, when: datetime) -> str:
    hours = (ctx.now - when).total_seconds() / 3600
    return f"{hours:.1f} h ago" if hours < 48 else f"{hours / 24:.0f} days ago"


def runs(ctx: Context, item: Item) -> Found:
    """The newest completed run of one of the item's notebooks (the ledger)."""
    done = [
        e
        for e in _ledger(ctx)
        if e.get("notebook") in item.notebooks and e.get("status") == "completed"
    ]
    if not done:
        return None, f"no completed run of {' or '.join(item.notebooks)} in the ledger"
    last = max(done, key=lambda e: _when(e["started"]))
    when = _when(last["started"])
    return when, f"{last['notebook']} run {last.get('run_id', '')[:8]} {_age(ctx, when)}"


def _actions(ctx: Context, action: str) -> list[datetime]:
    return [
        _when(a["at"])
        for e in _ledger(ctx)
        for a in e.get("actions") or []
        if a.get("action") == action and a.get("dry_run") is False and a.get("verified")
    ]


def disk(ctx: Context, item: Item) -> Found:
    result = host.disks(ctx.target)
    ctx.findings += result.findings
    if not result.rows:
        return None, "no mount readable"
    full = max(result.rows, key=lambda r: float(r["percent"]))
    return ctx.now, f"checked now: fullest mount {full['mount']} at {full['percent']:.0f} %"


def backup_made(ctx: Context, item: Item) -> Found:
    made = [b for b in backups(ctx.target) if b.kind == "backup"]
    if not made:
        return None, f"no backup in {backup_dir(ctx.target)}"
    b = made[0]
    return b.taken_at, f"{b.file} ({b.size}) taken {_age(ctx, b.taken_at)}"


def backup_verified(ctx: Context, item: Item) -> Found:
    good = [b for b in backups(ctx.target) if b.verified and b.verified_at]
    if not good:
        return None, "no backup verified by restore"
    b = max(good, key=lambda b: b.verified_at or ctx.now)
    assert b.verified_at is not None
    return b.verified_at, (
        f"{b.file} restored into a throwaway database {_age(ctx, b.verified_at)} "
        f"(RTO {b.restore_seconds:g} s)"
    )


def restore(ctx: Context, item: Item) -> Found:
    """A confirmed, verified restore (ledger) or the safety dump a restore makes first."""
    folder = backup_dir(ctx.target)
    safety = [
        _when(Manifest.read(manifest_path(b.location)).ended)
        for b in backups(ctx.target)
        if b.kind == "safety" and manifest_path(b.location).is_file()
    ]
    seen = _actions(ctx, "restore_backup") + safety
    if not seen:
        return None, f"no restore in the ledger, no safety dump in {folder}"
    last = max(seen)
    return last, f"restore of a verified backup {_age(ctx, last)}"


def docker_prune(ctx: Context, item: Item) -> Found:
    result = system_df(ctx.client)
    free = sum(int(r["reclaimable_bytes"]) for r in result.rows)
    pruned = _actions(ctx, "docker_prune")
    if pruned:
        return max(pruned), f"pruned {_age(ctx, max(pruned))}; {free / 1e6:.0f} MB reclaimable now"
    if free < RECLAIM_HINT_BYTES:
        return ctx.now, f"nothing to clean: {free / 1e6:.0f} MB reclaimable now"
    return None, f"never pruned; {free / 1e6:.0f} MB reclaimable now"


def security_updates(ctx: Context, item: Item) -> Found:
    result = updates.security_updates()
    ctx.findings += result.findings
    fetched = updates.lists_updated()
    pending = int(result.metrics.get("host.updates.pending", 0))
    security = int(result.metrics.get("host.updates.security", 0))
    what = f"{pending} upgrades pending, {security} from security"
    if fetched is None:
        return None, f"{what}; package lists never fetched"
    return fetched, f"{what}; package lists fetched {_age(ctx, fetched)}"


def package_upgrades(ctx: Context, item: Item) -> Found:
    last = updates.last_upgrade()
    if last is None:
        return None, f"no upgrade in {updates.APT_HISTORY}"
    return last, f"last apt upgrade/install {_age(ctx, last)} ({updates.APT_HISTORY})"


def log_rotation(ctx: Context, item: Item) -> Found:
    result = rotation.log_rotation(ctx.client, ctx.target)
    ctx.findings += result.findings
    rotating = [r for r in result.rows if r["rotates"]]
    if result.rows and len(rotating) == len(result.rows) and not result.findings:
        return ctx.now, f"all {len(rotating)} containers rotate their logs (max-size × max-file)"
    return (
        None,
        f"{len(result.rows) - len(rotating)} containers without rotation, "
        f"{len(result.findings)} findings",
    )


def user_access(ctx: Context, item: Item) -> Found:
    last, ran = runs(ctx, item)
    db = connect(ctx.target)
    try:
        found = users(db)
    finally:
        db.close()
    admins = [r["username"] for r in found.rows if r["role"] == "admin" and r["is_active"]]
    inactive = sum(not r["is_active"] for r in found.rows)
    return (
        last,
        f"{ran}; now {len(admins)} admins ({', '.join(admins)}), {inactive} inactive accounts",
    )


def credential_age(ctx: Context, item: Item) -> Found:
    """The oldest secret file's modification time (when it was last rotated)."""
    ages: dict[str, datetime] = {}
    for name, ref in ctx.target.secrets.items():
        if ref.file:
            try:
                ages[name] = datetime.fromtimestamp(
                    Path(ref.file).expanduser().stat().st_mtime, UTC
                )
            except OSError:
                continue
    if not ages:
        return None, "no secret file to date"
    name = min(ages, key=lambda n: ages[n])
    return ages[name], f"oldest secret {name} set {_age(ctx, ages[name])} ({len(ages)} secrets)"


def marked(ctx: Context, item: Item) -> Found:
    """Marked done by a person (`maintenance.mark_done`)."""
    from netzops.maintenance.schedule import log_path

    path = log_path(ctx.target, ctx.outputs)
    try:
        lines = [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()]
    except OSError:
        lines = []
    mine = [e for e in lines if e.get("item") == item.item]
    if not mine:
        return None, "never marked done (maintenance notebook: done=...)"
    last = max(mine, key=lambda e: _when(e["at"]))
    return _when(last["at"]), f"marked done {_age(ctx, _when(last['at']))}: {last.get('note', '')}"


def capacity(ctx: Context, item: Item) -> Found:
    """Disk growth from earlier records (host.disk.*.percent in the side-cars)."""
    since = ctx.now - timedelta(days=CAPACITY_DAYS)
    points: list[tuple[datetime, float]] = []
    for e in _ledger(ctx):
        started = _when(e["started"])
        side = next((k for k in e.get("files") or {} if k.endswith(".json")), None)
        if started < since or not side:
            continue
        try:
            metrics = json.loads((ctx.outputs / side).read_text()).get("metrics") or {}
        except (OSError, ValueError):
            continue
        disks = [
            float(v)
            for k, v in metrics.items()
            if k.startswith("host.disk.") and k.endswith(".percent")
        ]
        if disks:
            points.append((started, max(disks)))
    if len(points) < 2 or max(p[0] for p in points) - min(p[0] for p in points) < timedelta(days=1):
        return None, f"not enough history for a trend: {len(points)} disk records"
    points.sort()
    (t0, v0), (t1, v1) = points[0], points[-1]
    per_day = (v1 - v0) / ((t1 - t0).total_seconds() / 86400)
    left = f", full in {(100 - v1) / per_day:.0f} days" if per_day > 0 else ""
    return ctx.now, f"{len(points)} records: {v1:.0f} % used, {per_day:+.2f} %/day{left}"

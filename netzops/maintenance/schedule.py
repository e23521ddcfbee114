"""The runbook's "Regular Maintenance Schedule" as data (`data/maintenance.yaml`): every
daily, weekly, monthly and quarterly item shown as done / due / overdue from the evidence
netzops has — records of earlier runs in the ledger, backups and their verifications,
the host (disk, apt), the engine (log configuration, reclaimable space), secret files.

    done      evidence younger than the item's period
    due       older than the period, within the grace days after it
    overdue   older than period + grace, or no evidence at all

Items a person does (the security audit) are recorded with `mark_done`, kept in
`<outputs>/<target>/maintenance-log.jsonl`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from docker import DockerClient

from netzops.errors import BadInput
from netzops.findings import Finding, Priority
from netzops.maintenance import evidence
from netzops.paths import outputs_dir
from netzops.results import Result
from netzops.secrets import scrub_tree
from netzops.targets import Target


@dataclass(frozen=True)
class Item:
    item: str
    every: str  # daily | weekly | monthly | quarterly
    period_days: int
    grace_days: int
    evidence: str
    notebooks: tuple[str, ...] = ()


@cache
def items() -> tuple[Item, ...]:
    """Every item of the runbook's schedule, in its order."""
    text = resources.files("netzops").joinpath("data/maintenance.yaml").read_text()
    found = []
    for every, group in yaml.safe_load(text).items():
        for entry in group["items"]:
            found.append(
                Item(
                    entry["item"],
                    every,
                    int(group["period_days"]),
                    int(group["grace_days"]),
                    entry["evidence"],
                    tuple(entry.get("notebooks") or ()),
                )
            )
    return tuple(found)


def status(last: datetime | None, item: Item, now: datetime) -> str:
    """done / due / overdue (pure)."""
    if last is None:
        return "overdue"
    age = now - last
    if age <= timedelta(days=item.period_days):
        return "done"
    if age <= timedelta(days=item.period_days + item.grace_days):
        return "due"
    return "overdue"


@dataclass(frozen=True)
class Entry:
    every: str
    item: str
    status: str
    last_done: datetime | None
    evidence: str


@dataclass
class Context:
    """What the evidence functions read, fetched once per schedule."""

    client: DockerClient
    target: Target
    now: datetime
    outputs: Path
    findings: list[Finding] = field(default_factory=list)


def log_path(target: Target, outputs: Path | None = None) -> Path:
    return (outputs or outputs_dir()) / target.name / "maintenance-log.jsonl"


def mark_done(target: Target, item: str, note: str = "", who: str = "") -> dict[str, Any]:
    """Record that a person did `item` (its exact name, as `items()` has it) now."""
    names = {i.item for i in items()}
    if item not in names:
        raise BadInput(f"no maintenance item {item!r}; items: {', '.join(sorted(names))}")
    entry = {"item": item, "at": datetime.now(UTC).isoformat(), "note": note[:500], "who": who}
    path = log_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = dict(scrub_tree(entry, target.scrubber()))  # a note may quote a secret
    with path.open("a") as fh:
        fh.write(json.dumps(entry, sort_keys=True, allow_nan=False) + "\n")
    return entry


def schedule(client: DockerClient, target: Target, now: datetime | None = None) -> Result:
    """Every item of the runbook's schedule with its status, when it was last done and the
    evidence. Overdue items are P3 findings ("maintenance due"); the checks run on the way
    (disk, security updates, log rotation, backups) add their own findings. Metrics:
    maintenance.done / .due / .overdue (counts)."""
    ctx = Context(client, target, now or datetime.now(UTC), outputs_dir())
    rows = []
    for item in items():
        last, detail = _evidence(ctx, item)
        rows.append(Entry(item.every, item.item, status(last, item, ctx.now), last, detail))
    findings = list(ctx.findings)
    findings += [
        Finding("maintenance", r.item, Priority.P3, f"{r.every} item overdue: {r.evidence}"[:240])
        for r in rows
        if r.status == "overdue"
    ]
    metrics = {
        f"maintenance.{s}": float(sum(r.status == s for r in rows))
        for s in ("done", "due", "overdue")
    }
    return Result.of(
        "maintenance", f"Maintenance schedule — {target.name}", rows, findings, metrics
    )


def _evidence(ctx: Context, item: Item) -> tuple[datetime | None, str]:
    read: Callable[[Context, Item], tuple[datetime | None, str]] = getattr(evidence, item.evidence)
    try:
        return read(ctx, item)
    except Exception as exc:
        return None, f"evidence unreadable: {type(exc).__name__}: {exc}"[:240]

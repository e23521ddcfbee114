"""`netzops records prune`: retention for record files, with the ledger kept whole.

Record files (executed notebook, HTML, side-car) of runs older than a duration are deleted;
one ledger line (`kind: prune`) names every deleted file with its hash, so `ledger verify`
still passes (it accepts a missing file that a prune line names) and the history of runs,
findings and audit entries stays in the ledger.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import click


def prune(older_than: timedelta | None) -> tuple[list[str], dict[str, str]]:
    """Delete the record files of ledger runs that ended before now − `older_than` (None:
    every run); returns (run ids, {relative path: sha256}) and appends the prune line."""
    from netzops.paths import outputs_dir
    from netzops.runner import ledger

    root = outputs_dir()
    path = root / "ledger.jsonl"
    cutoff = datetime.now(UTC) - older_than if older_than is not None else None
    runs: list[str] = []
    removed: dict[str, str] = {}
    for entry in ledger.latest(path):
        ended = datetime.fromisoformat(str(entry.get("ended") or entry.get("started")))
        if cutoff is not None and ended >= cutoff:
            continue
        files = {
            rel: digest
            for rel, digest in (entry.get("files") or {}).items()
            if (root / rel).exists()
        }
        if not files:
            continue
        for rel in files:
            (root / rel).unlink()
        runs.append(str(entry.get("run_id")))
        removed.update(files)
    if removed:
        ledger.append(
            path,
            {
                "kind": "prune",
                "started": datetime.now(UTC).isoformat(),
                "older_than_s": older_than.total_seconds() if older_than is not None else 0,
                "runs": runs,
                "pruned": removed,
            },
        )
    return runs, removed


@click.group()
def records() -> None:
    """Records of runs under outputs/ (the ledger is never deleted)."""


@records.command(name="prune")
@click.option("--older-than", help="a duration: 30d, 12h, 1h30m (runs that ended before)")
@click.option("--all", "everything", is_flag=True, help="every run's record files")
def prune_command(older_than: str | None, everything: bool) -> None:
    """Delete record files of old runs; the ledger notes what was pruned (verify passes)."""
    from netzops.times import parse_duration

    if bool(older_than) == everything:
        click.echo("netzops: give --older-than DURATION or --all", err=True)
        sys.exit(2)
    age = parse_duration(older_than) if older_than else None
    runs, removed = prune(age)
    click.echo(f"pruned {len(removed)} file(s) of {len(runs)} run(s); the ledger keeps them")


__all__ = ["prune", "records"]

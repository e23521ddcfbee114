"""What the terminal says about a run: the outcome in a few lines, read from its side-car.

    failed      error in cell 3 (`containers.restart(…)`): GuardRefused: restart on sandbox
                refused: stale plan: …              (the guard's message, whole)
    dry run     dry run: restart backend on sandbox, 2 step(s) — nothing changed
                confirm with: -p confirm='restart@sandbox#3f9c0a1b2c4d'
    refused     refused: restart on sandbox: <why>
    done        done: restart backend on sandbox (verified)

Progress for long work (`report`, `sandbox up`) is one plain line per step, flushed, so a
pipe or a log file shows it as it happens.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click


def read_sidecar(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def failure_lines(side: dict[str, Any]) -> list[str]:
    """The error and the failing cell in one or two lines (nothing when the run completed)."""
    error = side.get("error")
    if not error:
        return []
    where = "error"
    if error.get("cell") is not None:
        first = error.get("first_line") or ""
        where = f"error in cell {error['cell']}" + (f" (`{first}`)" if first else "")
    message = " ".join(str(error.get("evalue", "")).split())
    return [f"{where}:", f"  {error.get('ename') or 'Error'}: {message}"]


def action_lines(side: dict[str, Any]) -> list[str]:
    """One or two lines per guarded action: dry runs with their confirmation string."""
    lines = []
    for action in side.get("actions", []):
        what = f"{action.get('action')} {action.get('subject')} on {action.get('target')}"
        outcome = str(action.get("outcome", ""))
        if action.get("dry_run"):
            steps = len(action.get("steps") or [])
            confirmation = (
                f"{action.get('action')}@{action.get('target')}#{action.get('fingerprint')}"
            )
            lines.append(f"dry run: {what}, {steps} step(s) — nothing changed")
            lines.append(f"  confirm with: -p confirm='{confirmation}'")
        elif outcome.startswith("refused"):
            lines.append(f"refused: {what}: {outcome.removeprefix('refused: ')}")
        else:
            verified = action.get("verified")
            note = {True: " (verified)", False: " (verification FAILED)"}.get(verified, "")
            lines.append(f"done: {what}{note}")
    return lines


def outcome_lines(side: dict[str, Any]) -> list[str]:
    """Everything the terminal says about a finished run, before the record's paths."""
    worst = side.get("worst") or "none"
    head = f"{side.get('status')}: {side.get('notebook')} on {side.get('target')}"
    return [f"{head} (worst finding: {worst})", *failure_lines(side), *action_lines(side)]


def progress(message: str) -> None:
    """One progress line on stderr (stdout stays for results and --json)."""
    click.echo(message, err=True)
    sys.stderr.flush()

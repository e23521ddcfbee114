"""The ledger: outputs/ledger.jsonl, one line per run, append-only and hash-chained.

Each entry carries the previous entry's hash (`prev`) and the SHA-256 of its record
files; its own `hash` covers everything else in it; `ledger.head` beside it holds the last
hash. `verify` finds an edited, removed (also at the end) or reordered entry and a record
file changed after the fact. It is tamper-evident, not tamper-proof: whoever can rewrite
every line and the head can forge a history; ship the head elsewhere to anchor it.

Besides one line per headless run there are (`kind`):
    action       a guarded action's audit entry, written by the kernel as it happens
    (none) with `interactive: true`   a snapshot of a JupyterLab session's record; a later
                 snapshot of the same run supersedes it (only the last one's files are checked)
    prune        record files removed on purpose (`netzops records prune`): verify accepts
                 that they are missing
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from netzops.results import json_safe

GENESIS = "0" * 64


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _entry_hash(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def entries(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with path.open() as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def append(path: Path, entry: dict[str, Any]) -> dict[str, Any]:
    """Append `entry`, chained to the last one; returns it with `prev` and `hash` set."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        last = None
        for line in fh:
            if line.strip():
                last = line
        chained = {**json_safe(entry), "prev": json.loads(last)["hash"] if last else GENESIS}
        chained["hash"] = _entry_hash(chained)
        fh.write(json.dumps(chained, sort_keys=True, allow_nan=False) + "\n")
        fh.flush()
        _write_head(path, chained["hash"])
    return chained


def _head_path(path: Path) -> Path:
    return path.with_suffix(".head")


def _write_head(path: Path, last_hash: str) -> None:
    """The last entry's hash beside the ledger: removing lines at the end is detectable."""
    tmp = _head_path(path).with_suffix(".head.tmp")
    tmp.write_text(last_hash + "\n")
    tmp.replace(_head_path(path))


#: What the ledger keeps of each guarded action's audit entry (the record has all of it).
ACTION_FIELDS = (
    "action",
    "target",
    "subject",
    "dry_run",
    "fingerprint",
    "outcome",
    "verified",
    "who",
    "at",
)


def latest(path: Path) -> Iterator[dict[str, Any]]:
    """The runs in the ledger, oldest first: one entry per run (an interactive session's last
    snapshot), without action and prune lines."""
    runs: dict[str, dict[str, Any]] = {}
    for entry in entries(path):
        if entry.get("kind") in (None, "run"):
            runs.pop(entry.get("run_id", ""), None)  # a later snapshot moves to the end
            runs[entry.get("run_id", "")] = entry
    yield from runs.values()


def _superseded_and_pruned(path: Path) -> tuple[set[int], set[str]]:
    last: dict[str, int] = {}
    superseded: set[int] = set()
    pruned: set[str] = set()
    for number, entry in enumerate(entries(path), start=1):
        if entry.get("kind") == "prune":
            pruned.update(entry.get("pruned") or {})
        elif entry.get("interactive") and entry.get("files"):
            run = str(entry.get("run_id"))
            if run in last:
                superseded.add(last[run])
            last[run] = number
    return superseded, pruned


def verify(path: Path, root: Path) -> list[str]:
    """Problems found in the ledger at `path` (record paths relative to `root`); [] if none."""
    problems = []
    prev = GENESIS
    superseded, pruned = _superseded_and_pruned(path)
    for number, entry in enumerate(entries(path), start=1):
        where = f"line {number} (run {entry.get('run_id', '?')})"
        if entry.get("prev") != prev:
            problems.append(
                f"{where}: chain broken (an entry before it was removed, reordered or edited)"
            )
        if _entry_hash(entry) != entry.get("hash"):
            problems.append(f"{where}: entry edited after it was written")
        for rel, digest in (entry.get("files") or {}).items():
            record = root / rel
            if number in superseded or (rel in pruned and not record.exists()):
                continue
            if not record.exists():
                problems.append(f"{where}: record file {rel} is missing")
            elif file_hash(record) != digest:
                problems.append(f"{where}: record file {rel} changed after the run")
        prev = entry.get("hash", "")
    head = _head_path(path)
    if head.exists() and head.read_text().strip() != prev:
        problems.append(
            "the ledger's last entry is not the one recorded in ledger.head "
            "(entries removed from the end, or the head edited)"
        )
    return problems

"""The journal recorder as a detached process: `start` (idempotent), `stop`, `status`.

One recorder per target and machine. Its pid file is a small JSON file in the per-machine
state folder ($XDG_STATE_HOME/netzops/events/<target>.json, default ~/.local/state/...):
{"pid", "journal", "started"}, so that every checkout and test session on the machine finds
the running one and its journal. `netzops sandbox up` starts it, `sandbox down` stops it;
in production run `netzops events record` under systemd (docs/incidents.md).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from netzops.errors import NetzopsError
from netzops.incidents.journal import journal_path
from netzops.targets import Target

WAIT_S = 10.0  # how long start/stop wait for the process to come up / to drain and end


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "netzops" / "events"


def pid_file(target_name: str) -> Path:
    return state_dir() / f"{target_name}.json"


@dataclass(frozen=True)
class Status:
    target: str
    running: bool
    pid: int | None
    journal: str | None
    started: str | None


def _alive(pid: int) -> bool:
    """The process exists and is a journal recorder (not a recycled pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    return state != "Z" and b"record" in cmdline and b"events" in cmdline


def status(target_name: str) -> Status:
    path = pid_file(target_name)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return Status(target_name, False, None, None, None)
    pid = int(data.get("pid") or 0) or None
    alive = pid is not None and _alive(pid)
    return Status(target_name, alive, pid, data.get("journal"), data.get("started"))


def _remember(target_name: str, pid: int | None, journal: str) -> None:
    pid_file(target_name).parent.mkdir(parents=True, exist_ok=True)
    record = {"pid": pid, "journal": journal, "started": datetime.now(UTC).isoformat()}
    pid_file(target_name).write_text(json.dumps(record) + "\n")


def start(target: Target, journal: Path | None = None) -> Status:
    """Start `netzops events record` detached (own session, no terminal) unless one runs;
    returns once it is up (its first journal line written) or raises after WAIT_S. A
    restarted recorder continues the journal its predecessor wrote (kept in the pid file),
    so a journal stays one file whichever outputs folder the starting process has."""
    now = status(target.name)
    if now.running:
        return now
    kept = Path(now.journal) if now.journal else None
    path = journal or (kept if kept and kept.parent.is_dir() else journal_path(target.name))
    path.parent.mkdir(parents=True, exist_ok=True)
    before = path.stat().st_size if path.exists() else 0
    log = path.with_suffix(".log").open("ab")
    command = [sys.executable, "-m", "netzops.cli", "events", "record", "--target", target.name]
    command += ["--journal", str(path)]
    proc = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
        env=os.environ.copy(),
    )
    log.close()
    _remember(target.name, proc.pid, str(path))
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise NetzopsError(f"the event recorder ended at once; see {path.with_suffix('.log')}")
        if path.exists() and path.stat().st_size > before:
            return status(target.name)
        time.sleep(0.05)
    raise NetzopsError(f"the event recorder wrote nothing within {WAIT_S:g} s")


def stop(target_name: str) -> Status:
    """SIGTERM the recorder and wait until it has drained and ended (SIGKILL after WAIT_S)."""
    now = status(target_name)
    if now.running and now.pid:
        os.kill(now.pid, signal.SIGTERM)
        deadline = time.monotonic() + WAIT_S
        while _alive(now.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(now.pid):
            os.kill(now.pid, signal.SIGKILL)
    if now.journal:
        _remember(target_name, None, now.journal)  # the next start continues this journal
    return status(target_name)

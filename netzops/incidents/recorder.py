"""The journal recorder as a detached process: `start` (idempotent), `stop`, `status`.

One recorder per target and machine. Its pid file is a small JSON file in the per-machine
state folder ($XDG_STATE_HOME/netzops/events/<target>.json, default ~/.local/state/...):
{"pid", "journal", "started"}, so that every checkout and test session on the machine finds
the running one and its journal. `netzops sandbox up` starts it, `sandbox down` stops it;
in production run `netzops events record` under systemd (docs/incidents.md).
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

from netzops.errors import NetzopsError
from netzops.incidents.journal import journal_path
from netzops.targets import Target, checked_name

WAIT_S = 10.0  # how long start/stop wait for the process to come up / to drain and end


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "netzops" / "events"


def pid_file(target_name: str) -> Path:
    """<state>/<target>.json; BadInput for a name that is no target name ("../x", "a b")."""
    return state_dir() / f"{checked_name(target_name)}.json"


@dataclass(frozen=True)
class Status:
    target: str
    running: bool
    pid: int | None
    journal: str | None
    started: str | None


def _alive(pid: int, target_name: str) -> bool:
    """The process exists and is this target's journal recorder (not a recycled pid, not
    another target's recorder, not a process that merely has those words in its args)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):  # gone meanwhile
        return False
    name = target_name.encode()
    pairs = list(pairwise(args))
    recording = (b"events", b"record") in pairs
    this = any(p in ((b"--target", name), (b"-t", name)) for p in pairs)
    ours = recording and (this or b"--target=" + name in args)
    return state != "Z" and ours


def status(target_name: str) -> Status:
    path = pid_file(target_name)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return Status(target_name, False, None, None, None)
    if not isinstance(data, dict):
        return Status(target_name, False, None, None, None)
    pid = data.get("pid") if type(data.get("pid")) is int and data["pid"] > 0 else None
    alive = pid is not None and _alive(pid, target_name)
    journal = data.get("journal") if isinstance(data.get("journal"), str) else None
    started = data.get("started") if isinstance(data.get("started"), str) else None
    return Status(target_name, alive, pid, journal, started)


def _remember(target_name: str, pid: int | None, journal: str) -> None:
    """Write the pid file whole (a new file renamed over the old one)."""
    path = pid_file(target_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"pid": pid, "journal": journal, "started": datetime.now(UTC).isoformat()}
    part = path.with_name(f".{path.name}.{os.getpid()}")
    part.write_text(json.dumps(record) + "\n")
    part.replace(path)


@contextmanager
def _starting(target_name: str) -> Iterator[None]:
    """Held while one `start` checks for a recorder and brings one up: two starts at once
    (two `events start`, `sandbox up` beside a test) are one after the other, so the second
    finds the first's recorder instead of starting another."""
    path = pid_file(target_name).with_suffix(".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def start(target: Target, journal: Path | None = None) -> Status:
    """Start `netzops events record` detached (own session, no terminal) unless one runs;
    returns once it is up (its first journal line written) or raises after WAIT_S. A
    restarted recorder continues the journal its predecessor wrote (kept in the pid file),
    so a journal stays one file whichever outputs folder the starting process has. Starts
    at once are one after the other (see `_starting`), and a recorder writing the journal
    already holds its lock, so there is one recorder per target and journal."""
    try:
        with _starting(target.name):
            return _start(target, journal)
    except OSError as exc:  # state or journal folder not writable, no such folder
        raise NetzopsError(f"cannot start the event recorder for {target.name}: {exc}") from None


def _start(target: Target, journal: Path | None) -> Status:
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
            raise NetzopsError(
                f"the event recorder ended at once: {_last_line(path.with_suffix('.log'))} "
                f"(see {path.with_suffix('.log')})"
            )
        if path.exists() and path.stat().st_size > before:
            return status(target.name)
        time.sleep(0.05)
    raise NetzopsError(f"the event recorder wrote nothing within {WAIT_S:g} s")


def _last_line(log: Path) -> str:
    try:
        lines = log.read_bytes()[-2000:].decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return "no log"
    return lines[-1][:300] if lines else "no log"


def stop(target_name: str) -> Status:
    """SIGTERM the recorder and wait until it has drained and ended (SIGKILL after WAIT_S)."""
    now = status(target_name)
    if now.running and now.pid:
        os.kill(now.pid, signal.SIGTERM)
        deadline = time.monotonic() + WAIT_S
        while _alive(now.pid, target_name) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(now.pid, target_name):
            os.kill(now.pid, signal.SIGKILL)
    if now.journal:
        _remember(target_name, None, now.journal)  # the next start continues this journal
    return status(target_name)

"""The event journal: the target's Docker container events, recorded while they happen.

The daemon keeps only its last 256 events in memory (health-check execs alone make ~5 a
second on the sandbox, so that is under a minute) and loses them on restart; a post-mortem
needs them recorded. `record` streams the project's container events into an append-only
JSON-lines file, outputs/events/<target>.jsonl, one line per event, oldest first:

    {"time": "2026-11-30T12:01:02.123456789Z", "time_nano": 1764504062123456789,
     "entry": "event", "action": "die", "service": "postgres", "container": "...",
     "id": "<12 hex>", "exit_code": 0, "health": null, "image": "...", "replica": "1"}

A create line also holds "image_id" ("sha256:<64 hex>", from inspecting the new container;
null when it was gone before the recorder asked): the event names the image only as given,
a tag, which a rebuild moves to another image.

`time` comes first and has a fixed width, so a line's bytes 10..40 sort in time order.
Other entries: "recorder" (started / stopped), "reconnect" (the stream broke and was resumed
with `since`, nothing missing), "gap" (the daemon no longer had what happened while the
stream was down; container state shows changes no replayed event covers, listed as
"reconstructed" events with the times Docker's state keeps).

On (re)start the recorder asks the daemon for everything since the journal's last event
(all it still has on a first start), skips what is already written (same time, id and
action), writes the replay, reconciles with container state, then streams live.
"""

from __future__ import annotations

import fcntl
import glob
import gzip
import json
import os
import re
import signal
import sys
import time
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISREG
from typing import Any

from docker import DockerClient

from netzops.containers.status import ENGINE_ERRORS, NUMBER, PROJECT, SERVICE
from netzops.errors import NetzopsError
from netzops.paths import outputs_dir
from netzops.targets import Target, checked_name

#: The container actions the journal keeps (exec_* from health checks are left out).
ACTIONS = (
    "create",
    "start",
    "restart",
    "die",
    "kill",
    "oom",
    "stop",
    "pause",
    "unpause",
    "health_status",
    "destroy",
    "rename",
    "update",
)
RETRY_S = (0.2, 0.5, 1.0, 2.0)  # back-off between reconnect attempts (then every 2 s)
Key = tuple[int, str, str]


def journal_path(target_name: str, outputs: Path | None = None) -> Path:
    """outputs/events/<target>.jsonl; BadInput for a name that is no target name (a path,
    spaces, shell characters), before any file is touched."""
    return (outputs or outputs_dir()) / "events" / f"{checked_name(target_name)}.jsonl"


def iso_nano(time_nano: int) -> str:
    """Nanoseconds since the epoch as fixed-width RFC 3339 UTC text (9 fraction digits)."""
    seconds, nanos = divmod(time_nano, 1_000_000_000)
    base = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{nanos:09d}Z"


def parse_time(text: str) -> datetime:
    """An RFC 3339 time (Z or an offset, up to 9 fraction digits) as an aware UTC datetime
    (µs); BadInput-free: a malformed text raises ValueError."""
    found = _RFC3339.match(text.strip())
    if not found:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    head, frac, zone = found.groups()
    micro = ((frac or "")[1:] + "000000")[:6]
    offset = "+00:00" if zone in (None, "Z", "z") else zone
    return datetime.fromisoformat(f"{head}.{micro}{offset}").astimezone(UTC)


_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d)(\.\d+)?(Z|z|[+-]\d\d:\d\d)?$")


def to_nano(when: datetime) -> int:
    """An aware datetime as nanoseconds since the epoch (`time_nano` of a journal line)."""
    return int(when.timestamp()) * 1_000_000_000 + when.microsecond * 1000


def _line(time_nano: int, entry: str, **fields: Any) -> dict[str, Any]:
    return {"time": iso_nano(time_nano), "time_nano": time_nano, "entry": entry, **fields}


def from_docker(event: dict[str, Any]) -> dict[str, Any] | None:
    """A journal line from one decoded Docker event; None for actions not kept."""
    action, _, detail = str(event.get("Action") or event.get("status") or "").partition(":")
    if event.get("Type", "container") != "container" or action not in ACTIONS:
        return None
    attrs = (event.get("Actor") or {}).get("Attributes") or {}
    code = attrs.get("exitCode")
    return _line(
        int(event["timeNano"]),
        "event",
        action=action,
        service=attrs.get(SERVICE, ""),
        container=attrs.get("name", ""),
        id=str((event.get("Actor") or {}).get("ID") or event.get("id") or "")[:12],
        exit_code=int(code) if code is not None and str(code).lstrip("-").isdigit() else None,
        health=detail.strip() or None,
        image=attrs.get("image", ""),
        replica=attrs.get(NUMBER, ""),
    )


def key(line: dict[str, Any]) -> Key:
    return int(line["time_nano"]), str(line.get("id", "")), str(line.get("action", ""))


def read(path: Path) -> Iterator[dict[str, Any]]:
    """The journal's lines, oldest first. What is no journal line is skipped, each line on
    its own: a torn last line from a kill, bytes that are not UTF-8, JSON that is not an
    object with `time`, `time_nano` and `entry`."""
    if not path.exists():
        return
    with path.open("rb") as fh:
        for raw in fh:
            if (line := _parsed(raw)) is not None:
                yield line


def _parsed(raw: bytes) -> dict[str, Any] | None:
    """One journal line from its bytes; None for what is none (see `read`)."""
    try:
        line = json.loads(raw.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError is one
        return None
    ok = (
        isinstance(line, dict)
        and isinstance(line.get("time"), str)
        and type(line.get("time_nano")) is int
        and isinstance(line.get("entry"), str)
    )
    return line if ok else None


TAIL_BYTES = 1 << 18  # how much of a rotated segment's end is read for its last events


def rotated_tail(path: Path) -> list[dict[str, Any]]:
    """The last lines of the newest rotated segment beside `path` that holds events
    (logrotate's NAME.1, NAME-20261130, gzipped or not): where a recorder whose live file
    was just rotated away continues, so that it writes nothing the segment has."""
    for segment in _newest_first(path.parent.glob(f"{glob.escape(path.name)}[.-]*")):
        try:
            if segment.name.endswith(".gz"):
                with gzip.open(segment, "rb") as fh:
                    raws = list(deque(fh, maxlen=2000))
            else:
                with segment.open("rb") as fh:
                    size = fh.seek(0, os.SEEK_END)
                    fh.seek(max(0, size - TAIL_BYTES))
                    raws = fh.read().split(b"\n")[1 if size > TAIL_BYTES else 0 :]
        except (OSError, EOFError, zlib.error):  # unreadable or cut: the next older one
            continue
        lines = [line for raw in raws if (line := _parsed(raw)) is not None]
        if any(line["entry"] in ("event", "reconstructed") for line in lines):
            return lines
    return []


def _newest_first(paths: Iterable[Path]) -> list[Path]:
    """The files among `paths`, newest first; one that logrotate moved or compressed away
    meanwhile is left out."""
    found = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            continue
        if S_ISREG(stat.st_mode):
            found.append((stat.st_mtime, path))
    return [path for _, path in sorted(found, reverse=True)]


@dataclass
class Recorder:
    """Streams one target's container events into its journal (see the module docstring)."""

    client: DockerClient
    target: Target
    path: Path
    last_nano: int = 0
    seen: set[Key] = field(default_factory=set)  # keys at `last_nano` (boundary dedup)
    stop: bool = False
    stream: Any = None
    reason: str = ""  # why the stream was lost last

    def __post_init__(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for line in read(self.path):
            self._remember(line)
        if not self.last_nano:  # a live file just rotated away: continue where it ended
            for line in rotated_tail(self.path):
                self._remember(line)

    @property
    def filters(self) -> dict[str, Any]:
        return {"type": "container", "label": f"{PROJECT}={self.target.compose.project}"}

    def with_image(self, line: dict[str, Any]) -> dict[str, Any]:
        """A create line with the new container's image ID (see the module docstring)."""
        if line.get("action") == "create" and "image_id" not in line:
            try:
                line["image_id"] = str(self.client.api.inspect_container(line["id"])["Image"])
            except ENGINE_ERRORS:  # removed already (or the engine went away meanwhile)
                line["image_id"] = None
        return line

    def _remember(self, line: dict[str, Any]) -> None:
        if line.get("entry") not in ("event", "reconstructed"):
            return
        nano = int(line["time_nano"])
        if nano > self.last_nano:
            self.last_nano, self.seen = nano, set()
        if nano == self.last_nano:
            self.seen.add(key(line))

    def _new(self, line: dict[str, Any]) -> bool:
        nano = int(line["time_nano"])
        return nano > self.last_nano or (nano == self.last_nano and key(line) not in self.seen)

    def write(self, lines: list[dict[str, Any]]) -> None:
        """Append lines (one write, flushed and synced, signals held meanwhile so a stop
        never tears a line). The file is opened for each write, so one renamed away
        (logrotate) is followed by a new one; a folder removed meanwhile is made again; a
        torn last line (a crash, a full disk) is ended first, so it never swallows the
        next line. OSError (read-only, full) leaves the lines unwritten: the caller's
        replay with `since` writes them once it can."""
        if not lines:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(json.dumps(line, allow_nan=False) + "\n" for line in lines)
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            with self.path.open("a+b") as fh:
                if fh.seek(0, os.SEEK_END) > 0:
                    fh.seek(-1, os.SEEK_END)
                    if fh.read(1) != b"\n":
                        text = "\n" + text
                fh.write(text.encode("utf-8"))
                fh.flush()
                os.fsync(fh.fileno())
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        for line in lines:
            self._remember(line)

    def _since(self) -> str:
        nano = self.last_nano or 1_000_000_000  # first start: all the daemon still has
        return f"{nano // 1_000_000_000}.{nano % 1_000_000_000:09d}"

    def catch_up(self, lost_at: int | None, extra: list[dict[str, Any]] | None = None) -> int:
        """Replay what the daemon has since the last event (up to now), reconcile with
        container state, write it (and `extra`) in time order; returns the lines written."""
        now = time.time_ns()
        until = f"{now // 1_000_000_000}.{now % 1_000_000_000:09d}"
        replay = [
            self.with_image(line)
            for raw in self.client.api.events(
                since=self._since(), until=until, filters=self.filters, decode=True
            )
            if (line := from_docker(raw)) is not None and self._new(line)
        ]
        lines = [*replay, *self._gap(replay, lost_at, now), *(extra or [])]
        if lost_at is not None and not any(line["entry"] == "gap" for line in lines):
            lines.append(_line(now, "reconnect", lost_at=iso_nano(lost_at), replayed=len(replay)))
        lines.sort(key=lambda line: int(line["time_nano"]))
        self.write(lines)
        return len(lines)

    def _gap(self, replay: list[dict[str, Any]], lost_at: int | None, now: int) -> list[Any]:
        """Container state changed after the last event without a replayed event for it:
        the daemon lost those events. Reconstructed lines plus one gap entry."""
        if not self.last_nano:
            return []
        covered = {(line["id"], line["action"]) for line in replay}
        missing = []
        for c in self.client.containers.list(all=True, filters={"label": self.filters["label"]}):
            state = c.attrs.get("State") or {}
            for action, stamp in (
                ("start", state.get("StartedAt")),
                ("die", state.get("FinishedAt")),
            ):
                when = _nano_of(stamp)
                # only changes up to `now` (the replay's end): later ones come live
                if self.last_nano < when <= now and (c.id[:12], action) not in covered:
                    missing.append(
                        _line(
                            when,
                            "reconstructed",
                            action=action,
                            service=c.labels.get(SERVICE, ""),
                            container=c.name,
                            id=c.id[:12],
                            exit_code=state.get("ExitCode") if action == "die" else None,
                            health=None,
                            image=c.attrs.get("Config", {}).get("Image", ""),
                            replica=c.labels.get(NUMBER, ""),
                        )
                    )
        if not missing:
            return []
        start = lost_at or self.last_nano
        gap = _line(
            min([start, *(int(m["time_nano"]) for m in missing)]),
            "gap",
            lost_from=iso_nano(self.last_nano),
            lost_to=iso_nano(now),
            reconstructed=len(missing),
            note="the daemon no longer had these events (restarted?); "
            "container state shows the changes listed as reconstructed",
        )
        return [gap, *missing]

    def live(self) -> None:
        """Stream events since the last written one until the stream ends or `stop`."""
        self.stream = self.client.api.events(since=self._since(), filters=self.filters, decode=True)
        for raw in self.stream:
            line = from_docker(raw)
            if line is not None and self._new(line):
                self.write([self.with_image(line)])
            if self.stop:
                return

    def run(self) -> None:
        """Record until stopped (SIGTERM/SIGINT), reconnecting after engine restarts."""
        started = [_line(time.time_ns(), "recorder", state="started", pid=os.getpid())]
        lost_at: int | None = None
        attempt = 0
        try:
            while not self.stop:
                try:
                    self.catch_up(lost_at, started)
                    started, lost_at, attempt, self.reason = [], None, 0, ""
                    self.live()
                except Exception as exc:  # engine gone, stream cut, bad frame: reconnect
                    self._lost(f"{type(exc).__name__}: {exc}"[:200])
                else:
                    self._lost("the event stream ended")
                lost_at = lost_at or time.time_ns()
                time.sleep(RETRY_S[min(attempt, len(RETRY_S) - 1)])
                attempt += 1
        except Stopped:
            pass
        self.finish(started)

    def _lost(self, reason: str) -> None:
        """Note why recording paused, on stderr (the recorder's .log) once per new reason:
        a journal that cannot be written (read-only, full disk) is said, not hidden."""
        if reason != self.reason:
            print(f"{iso_nano(time.time_ns())} recorder: {reason}; retrying", file=sys.stderr)
            sys.stderr.flush()
        self.reason = reason

    def finish(self, started: list[dict[str, Any]]) -> None:
        """Drain what the daemon has up to now, then mark the recorder stopped."""
        try:
            try:
                self.catch_up(None, started)
            except (*ENGINE_ERRORS, ValueError):
                self.write(started)
            self.write([_line(time.time_ns(), "recorder", state="stopped", pid=os.getpid())])
        except OSError as exc:  # unwritable journal: a restarted recorder replays the rest
            self._lost(f"stopping: {type(exc).__name__}: {exc}"[:200])

    def interrupt(self, *_: Any) -> None:
        """Signal handler: leave the (blocking) stream; `run` drains and returns."""
        if not self.stop:
            self.stop = True
            raise Stopped


class Stopped(BaseException):  # a control-flow signal, not an error
    """Raised by the signal handler to leave a blocking read."""


_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def _nano_of(stamp: str | None) -> int:
    if not stamp or stamp.startswith("0001-"):
        return 0
    head, _, frac = stamp.rstrip("Z").partition(".")
    base = int(datetime.fromisoformat(head + "+00:00").timestamp()) * 1_000_000_000
    digits = "".join(ch for ch in frac if ch.isdigit())
    return base + int((digits + "000000000")[:9]) if digits else base


def lock_path(journal: Path) -> Path:
    """The file a recorder holds locked while it writes `journal` (beside it: NAME.lock)."""
    return journal.with_suffix(".lock")


def record(client: DockerClient, target: Target, path: Path | None = None) -> None:
    """Run a recorder in this process until SIGTERM/SIGINT (`netzops events record`).
    One recorder per journal: it holds NAME.lock beside the journal; a second one (two
    starts at once, `record` beside `start`) ends at once with NetzopsError, writing
    nothing, so no line is written twice."""
    path = path or journal_path(target.name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = os.open(lock_path(path), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise NetzopsError(f"cannot write the journal {path}: {exc}") from None
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(lock, 32, 0).decode("ascii", "replace").strip() or "?"
            raise NetzopsError(f"another recorder (pid {holder}) writes {path}") from None
        os.ftruncate(lock, 0)
        os.pwrite(lock, f"{os.getpid()}\n".encode(), 0)
        recorder = Recorder(client, target, path)
        signal.signal(signal.SIGTERM, recorder.interrupt)
        signal.signal(signal.SIGINT, recorder.interrupt)
        recorder.run()
    finally:
        os.close(lock)

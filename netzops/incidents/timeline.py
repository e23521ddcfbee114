"""One UTC timeline from every source of evidence, merged in time order as streams.

Each source is an iterator of `Entry`, sorted by time; `merge` interleaves them with
heapq.merge, so nothing is loaded whole: container logs are `Stream`s of whole-line chunks
as the Engine API sends them (`netzops.logs.live.stream`), one open stream per container.

    journal   recorded container events (start, die + exit code, health, oom, gaps)
    logs      container log lines of interest, grouped per minute and kind with the first
              and last occurrence and a count (ERROR, failed login, slow query, out of memory)
    postgres  PostgreSQL's server log: FATAL/PANIC and terminated backends per minute,
              each shutdown and "ready to accept connections" as it happened
    nginx     the access log per minute: requests, 5xx, latency p95, first/last 5xx and the
              clients that got one (in `data`)
    ledger    runs with their worst finding, every guarded action (who, what, plan, result)
    incident  the incident's status updates
"""

from __future__ import annotations

import gzip
import heapq
import json
import os
import zlib
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from io import BufferedIOBase, BytesIO
from itertools import chain, islice
from operator import attrgetter, eq
from pathlib import Path
from typing import Any

from netzops.incidents import journal as jr
from netzops.logs import Source
from netzops.logs import parse as lp
from netzops.printable import printable
from netzops.quantiles import percentile

_PREFIX = b'{"time": "'  # every journal line starts so, then its fixed-width UTC time
DOWN = {"die", "kill", "stop", "oom", "pause"}
UP = {"start", "restart", "unpause"}
_RECOVERY = b"automatic recovery in progress"  # started after a crash or a kill
_TERMINATING = (
    b"terminating connection due to administrator command",
    b"terminating connection due to unexpected postmaster exit",
)


@dataclass(frozen=True)
class Stream:
    """One container's log as chunks of whole lines in time order, read as it is iterated
    (a `netzops.logs.Source` is a stream of one chunk: `of`)."""

    service: str
    container: str
    chunks: Iterable[bytes]

    @classmethod
    def of(cls, src: Source | Stream) -> Stream:
        return src if isinstance(src, Stream) else cls(src.service, src.container, (src.blob,))

    def lines(self, needle: bytes | None = None) -> Iterator[bytes]:
        """Its lines (with `needle`: only those holding it), chunk by chunk."""
        for chunk in self.chunks:
            yield from lp.lines(chunk) if needle is None else lp.lines_with(chunk, needle)


@dataclass(frozen=True)
class Entry:
    """One line of the timeline. `kind` drives the post-mortem: down, up, unhealthy,
    healthy, gap, error, traffic (a minute of the access log), run, action, update."""

    time: datetime
    source: str
    service: str
    event: str
    kind: str = ""
    last: datetime | None = None
    count: int = 1
    data: dict[str, Any] = field(default_factory=dict, compare=False)


def merge(*sources: Iterable[Entry]) -> Iterator[Entry]:
    """The sources' entries in time order (each source must be sorted)."""
    return heapq.merge(*sources, key=attrgetter("time"))


def merge_runs(
    sources: Sequence[Path | BufferedIOBase],
    chunk: int = 1 << 18,
    problems: list[str] | None = None,
) -> Iterator[list[bytes]]:
    """The lines of several time-sorted journal files in time order, read as byte streams,
    as successive sorted lists of lines (`merge_lines` yields them one by one).

    A journal line starts with `{"time": "` and a fixed-width UTC time, so comparing whole
    lines orders them by time. Instead of a heap step per line, a block merge: read about
    `chunk` bytes of lines from each source; every line up to the smallest "last line read"
    of all sources can be emitted now (no unread line can sort before it); those lines are
    put in order with one sort (Timsort merges the sorted runs in C) and the source that
    ran dry is read on. Memory: about `chunk` bytes per source. Measured against `sort -m`
    in bench/bench_timeline.py. `sources` are paths or binary files (read from where they
    stand); all of them are closed at the end. With `problems`, a source that fails while it
    is read (a truncated or corrupt gzip segment, an I/O error) ends there and is named in
    it; without, the error is raised."""
    with ExitStack() as stack:
        files = [stack.enter_context(s.open("rb") if isinstance(s, Path) else s) for s in sources]
        readers = [_blocks(fh, chunk, problems) for fh in files]
        pending = [(blocks, lines) for blocks in readers if (lines := next(blocks, []))]
        while pending:
            limit = min(lines[-1] for _, lines in pending)
            ready: list[bytes] = []
            kept = []
            for blocks, lines in pending:
                # blocks are sorted (`_whole_lines`), so the source that set the limit is
                # taken whole and every round reads on, even where the file is out of order
                cut = bisect_right(lines, limit)
                ready += lines[:cut]
                rest = lines[cut:] or next(blocks, [])
                if rest:
                    kept.append((blocks, rest))
            pending = kept
            ready.sort()
            yield ready


def _blocks(
    fh: BufferedIOBase, chunk: int, problems: list[str] | None = None
) -> Iterator[list[bytes]]:
    """A file's whole lines, about `chunk` bytes at a time. Split by `BytesIO.readlines`, a
    C loop twice as fast as a buffered file's own `readlines` (bench_timeline). A last line
    without its newline (the recorder killed while writing it) ends the file: cut short, it
    would sort out of place. A read that fails ends the file (see `merge_runs`)."""
    try:
        yield from _whole_lines(fh, chunk)
    except (OSError, EOFError, zlib.error) as exc:
        if problems is None:
            raise
        why = f"{type(exc).__name__}: {exc}"[:160]
        problems.append(f"event journal segment {getattr(fh, 'name', fh)}: {why}; read up to there")


def _whole_lines(fh: BufferedIOBase, chunk: int) -> Iterator[list[bytes]]:
    # a gzip segment is read one decompressed piece at a time: where it is cut short, the
    # pieces before the cut are kept (one `read` of many pieces would lose them all)
    read = fh.read1 if isinstance(fh, gzip.GzipFile) else fh.read
    while lines := BytesIO(read(chunk)).readlines():
        torn = not lines[-1].endswith(b"\n")
        if torn:
            lines[-1] += fh.readline()  # the rest of the line the read stopped in
            torn = not lines[-1].endswith(b"\n")
            if torn:
                lines.pop()
        # in order (Timsort checks a sorted block in one pass), so that a line out of place
        # cannot mislead the merge's bisect; a block's last line is how far its source has
        # got: other bytes sorting there (a stray write, binary junk) are passed over
        lines.sort()
        while lines and not lines[-1].startswith(_PREFIX):
            lines.pop()
        if lines:
            yield lines
        if torn:
            return


def merge_lines(sources: Sequence[Path | BufferedIOBase], chunk: int = 1 << 18) -> Iterator[bytes]:
    """`merge_runs`, line by line."""
    return chain.from_iterable(merge_runs(sources, chunk))


# --- journal --------------------------------------------------------------------------------


def _journal_kind(line: dict[str, Any]) -> str:
    action = line.get("action", "")
    if line["entry"] == "gap":
        return "gap"
    if action in DOWN:
        return "down"
    if action in UP:
        return "up"
    if action == "health_status":
        return "unhealthy" if line.get("health") == "unhealthy" else "healthy"
    return "change" if line["entry"] in ("event", "reconstructed") else "recorder"


def _journal_event(line: dict[str, Any]) -> str:
    entry, action = line["entry"], line.get("action", "")
    if entry == "gap":
        return f"GAP {line['lost_from'][:23]} → {line['lost_to'][:23]}: {line['note']}"
    if entry == "reconnect":
        return (
            f"event stream resumed (lost at {line['lost_at'][11:23]}, {line['replayed']} replayed)"
        )
    if entry == "recorder":
        return f"event recorder {line['state']}"
    text = f"{action}: {line.get('health')}" if action == "health_status" else action
    if line.get("exit_code") is not None and action == "die":
        text += f" (exit {line['exit_code']})"
    suffix = " [reconstructed from container state]" if entry == "reconstructed" else ""
    return f"{text} {line.get('container', '')}{suffix}"


def _bound(when: datetime, upper: bool = False) -> bytes:
    """The bytes a journal line is compared with: lines at `when` (to the µs) sort after the
    lower bound and before the upper one, whatever their nanoseconds."""
    return _PREFIX + when.strftime("%Y-%m-%dT%H:%M:%S.%f").encode() + (b"\xff" if upper else b"")


def segments(path: Path) -> list[Path]:
    """The journal and its rotated segments beside it (logrotate's `NAME.1`, `NAME-20261130`,
    either gzipped), the live file first."""
    rotated = sorted(p for p in path.parent.glob(f"{path.name}[.-]*") if p.is_file())
    return ([path] if path.exists() else []) + rotated


def _open_at(path: Path, low: bytes) -> BufferedIOBase:
    """The segment opened at a line start before which every line sorts below `low`: a binary
    search over byte offsets (a few seeks however long the journal); a gzipped segment is read
    from its start. A probe that lands on something other than a journal line (NUL bytes a
    crash left, a stray write) counts as "not below": the search then reads more, never less."""
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    fh = path.open("rb")
    lo, hi = 0, fh.seek(0, os.SEEK_END)  # lo: a line start, every line before it < low
    while hi - lo > 1 << 16:
        mid = (lo + hi) // 2
        fh.seek(mid)
        fh.readline()  # on to the next line start
        start = fh.tell()
        line = fh.readline()
        if line.endswith(b"\n") and line.startswith(_PREFIX) and line < low:
            lo = start + len(line)
        else:
            hi = mid
    fh.seek(lo)
    return fh


def journal_runs(
    paths: Sequence[Path], start: datetime, end: datetime, problems: list[str] | None = None
) -> Iterator[Iterable[bytes]]:
    """The raw lines in [start, end] of a journal split over `paths` (`segments`), in time
    order, as successive runs: each segment entered at `start` by binary search, all merged
    by `merge_runs` (one sort per block, no per-line work in Python), reading stopped after
    `end` (lines of other bytes that would sort there never reach the merge: `_blocks`). A
    line found in two segments (a copy taken while it was written) comes once. With
    `problems`, a segment that cannot be opened (rotated away since it was listed, no
    permission) or read to its end is named there and the others are read; without, the
    error is raised."""
    low, high = _bound(start), _bound(end, upper=True)
    with ExitStack() as opened:
        files = []
        for path in paths:
            try:
                files.append(opened.enter_context(_open_at(path, low)))
            except OSError as exc:
                if problems is None:
                    raise
                problems.append(f"event journal segment {path}: {exc.strerror or exc}")
        opened.pop_all()  # merge_runs closes them
    for run in merge_runs(files, problems=problems):
        first = bisect_left(run, low) if run[0] < low else 0  # what a gzip segment had before
        cut = bisect_right(run, high)
        window = run if first == 0 and cut == len(run) else run[first:cut]
        # equal lines are neighbours in a run (merge_runs never splits them): dict keeps one
        yield dict.fromkeys(window) if any(map(eq, window, islice(window, 1, None))) else window
        if cut < len(run):
            return


def journal_lines(
    paths: Sequence[Path], start: datetime, end: datetime, problems: list[str] | None = None
) -> Iterator[bytes]:
    """`journal_runs`, line by line."""
    return chain.from_iterable(journal_runs(paths, start, end, problems))


def journal(
    paths: Path | Sequence[Path],
    start: datetime,
    end: datetime,
    problems: list[str] | None = None,
) -> Iterator[Entry]:
    """The journal's entries in [start, end], decoded from `journal_lines` (one path: that
    file alone). A line in the window that is no journal entry (bad JSON, odd bytes, a field
    missing) is left out; with `problems`, their count is named there at the end, as is a
    segment that could not be read."""
    unreadable = 0
    for text in journal_lines([paths] if isinstance(paths, Path) else paths, start, end, problems):
        try:
            entry = _journal_entry(json.loads(text))
        except (ValueError, KeyError, TypeError, AttributeError):
            unreadable += 1
            continue
        yield entry
    if unreadable and problems is not None:
        problems.append(f"event journal: {unreadable} line(s) in the window are no entry, left out")


def _journal_entry(line: dict[str, Any]) -> Entry:
    return Entry(
        jr.parse_time(line["time"]),
        "journal",
        str(line.get("service", "")),
        _journal_event(line),
        _journal_kind(line),
        data={"container": line.get("container"), "action": line.get("action")},
    )


# --- container logs -------------------------------------------------------------------------


_MARKERS = (  # (kind, what a line's message starts with in the backend's own format)
    ("out of memory", b"out of memory"),
    ("failed login", b"failed login"),
    ("slow query", b"slow query"),
)


def _log_kind(payload: bytes) -> str | None:
    """What a backend/redis/nginx line is evidence of, or None. Text a client chose (a
    request path, a user agent: /api/rooms, "failed login") is no evidence: nginx's access
    lines are `access`'s business, the backend's request lines count by their level only,
    a backend line by how its message starts, another line (redis, nginx's error log) by
    its text before nginx's client context (`, client: `, `request: "…"`)."""
    if b'] "' in payload and lp.access_status(payload) is not None:
        return None  # an nginx access line
    level, message = lp.level_of(payload)
    if len(message) != len(payload):  # the backend's format: level, then the message
        if message.startswith(b"request method="):
            found = None
        else:
            found = next((k for k, start in _MARKERS if message.startswith(start)), None)
    else:
        text = payload.partition(b", client: ")[0].lower()
        if b"heap limit" in text or b"heap out of memory" in text:
            found = "out of memory"
        else:
            found = next((k for k, start in _MARKERS if start in text), None)
    if found:
        return found
    return "error" if level in (lp.ERROR, lp.FATAL) else None


def _other_kind(payload: bytes) -> tuple[str, bool] | None:
    kind = _log_kind(payload)
    return None if kind is None else (kind, False)


_PG_LEVELS = {  # the severity word, also as PostgreSQL's translations print it (lc_messages)
    b"LOG": "LOG",
    b"FATAL": "FATAL",
    b"\xd0\x92\xd0\x90\xd0\x96\xd0\x9d\xd0\x9e": "FATAL",  # ru: ВАЖНО
    b"PANIC": "PANIC",
    b"PANIK": "PANIC",  # de, sv
    b"\xd0\x9f\xd0\x90\xd0\x9d\xd0\x98\xd0\x9a\xd0\x90": "PANIC",  # ru: ПАНИКА
}


def _postgres_line(payload: bytes) -> tuple[str, bytes] | None:
    """(severity, message) of a PostgreSQL server-log line (`<prefix> LEVEL:  message`), or
    None for a continuation line (a multi-line statement's tab-indented rest) and a line
    of another kind (DETAIL, STATEMENT, ERROR: they quote what clients sent)."""
    if payload[:1] in (b"\t", b" ", b""):
        return None
    at = payload.find(b":  ")
    if at == -1:
        return None
    level = _PG_LEVELS.get(payload[payload.rfind(b" ", 0, at) + 1 : at])
    return None if level is None else (level, payload[at + 3 :])


def _postgres_kind(payload: bytes) -> tuple[str, bool] | None:
    """(kind, one entry per line?) of a PostgreSQL server-log line, or None. Told by the
    severity and how the message starts, never by text anywhere in the line: a statement or
    an error message may quote "ready to accept connections" or " FATAL:  "."""
    found = _postgres_line(payload)
    if found is None:
        return None
    level, message = found
    if level == "LOG":
        if message.startswith(b"database system is shut down") or (
            message.startswith(b"received ") and b" shutdown request" in message
        ):
            return "shutdown", True
        if message.startswith(b"database system is ready to accept"):
            return "ready to accept connections", True
        if message.startswith(b"database system was") and _RECOVERY in message:
            return "crash recovery (not properly shut down)", True
        if message.startswith(b"duration: ") and lp.slow_query(b" " + message) is not None:
            return "slow query", False
        return None
    if message.startswith(_TERMINATING):
        return "terminated backends", False
    return level, False


def _message(payload: bytes, postgres: bool, scrub: Callable[[str], str] = str) -> str:
    """The line's message without its own timestamp and level (a sample for the group),
    scrubbed whole before it is cut: a secret cut in two would no longer be found."""
    message = (payload.partition(b":  ")[2] or payload) if postgres else lp.level_of(payload)[1]
    shown = printable(message.decode(errors="replace"), one_line=True).strip()
    # cleaned first, then 4 KiB of a line up to 16 KiB long: far more than a secret masked
    # there can pull into the 200 characters kept
    return scrub(shown[:4096])[:200]


def _when(stamp: bytes) -> datetime | None:
    """Docker's timestamp of a line, or None where the line has none (a Source of lines
    written without `--timestamps`): a time without a zone cannot be placed in UTC."""
    when = lp.stamp_time(stamp)
    return when if when is not None and when.tzinfo is not None else None


_SINGLE_KIND = {
    "shutdown": "down",
    "ready to accept connections": "up",
    "crash recovery (not properly shut down)": "error",
}


@dataclass
class _Group:
    first: datetime
    last: datetime
    count: int
    sample: str


def _grouped(src: Stream, postgres: bool, scrub: Callable[[str], str] = str) -> Iterator[Entry]:
    """One container's lines of interest: per minute and kind one entry (first occurrence,
    last, count, a sample), single events (shutdown, ready) as they are; in time order."""
    groups: dict[str, _Group] = {}
    minute = b""
    pending: list[Entry] = []

    def flush() -> Iterator[Entry]:
        out = pending + [_group_entry(src, k, g, postgres) for k, g in groups.items()]
        pending.clear()
        groups.clear()
        yield from sorted(out, key=attrgetter("time"))

    for line in src.lines():
        stamp, payload = lp.split_time(line)
        if stamp[:16] != minute:
            if _when(stamp) is None:
                continue  # no docker timestamp: neither evidence nor the next minute
            yield from flush()
            minute = stamp[:16]
        found = _postgres_kind(payload) if postgres else _other_kind(payload)
        when = _when(stamp) if found else None
        if found is None or when is None:
            continue
        kind, single = found
        if single:
            pending.append(Entry(when, "postgres", src.service, kind, _SINGLE_KIND[kind], data={}))
        elif kind in groups:
            group = groups[kind]
            group.last, group.count = max(group.last, when), group.count + 1
        else:
            groups[kind] = _Group(when, when, 1, _message(payload, postgres, scrub))
    yield from flush()


def _group_entry(src: Stream, kind: str, group: _Group, postgres: bool) -> Entry:
    times = f"{group.first:%H:%M:%S}–{group.last:%H:%M:%S}"
    sample = lp.kind(group.sample, 80) if kind == "error" else group.sample[:90]
    event = f"{kind} ×{group.count} ({times}): {sample}"
    return Entry(
        group.first,
        "postgres" if postgres else "logs",
        src.service,
        event,
        "error" if kind not in ("slow query", "failed login") else kind,
        group.last,
        group.count,
        {"container": src.container},
    )


def logs(
    sources: Iterable[Source | Stream],
    postgres_service: str = "postgres",
    scrub: Callable[[str], str] = str,
) -> list[Iterator[Entry]]:
    """One sorted stream per container (nginx's access lines are `access`'s business). The
    sample each entry quotes is passed through `scrub` (the target's secrets) whole."""
    return [_grouped(Stream.of(src), src.service == postgres_service, scrub) for src in sources]


# --- nginx access log -----------------------------------------------------------------------


def _client(payload: bytes) -> str:
    return payload.partition(b" ")[0].decode(errors="replace")


def request_path(payload: bytes) -> str:
    """`GET /api/users` of an access line (query string dropped)."""
    request = (lp.quoted(payload, b'] "') or b"").decode(errors="replace").split(" ")
    return f"{request[0]} {request[1].split('?')[0]}" if len(request) > 1 else "?"


@dataclass
class _Minute:
    start: datetime
    first: datetime  # its first line: a window that starts within the minute still holds it
    requests: int = 0
    errors: int = 0
    times: list[float] = field(default_factory=list)
    first_5xx: datetime | None = None
    last_5xx: datetime | None = None
    clients: set[str] = field(default_factory=set)
    failing: Counter[str] = field(default_factory=Counter)

    def entry(self, service: str) -> Entry:
        p95 = percentile(self.times, 95) if self.times else None
        rate = round(self.errors / self.requests * 100, 2) if self.requests else 0.0
        event = f"{self.requests} requests, {self.errors} 5xx ({rate:g} %)" + (
            f", p95 {p95:.0f} ms" if p95 is not None else ""
        )
        data = {
            "minute": self.start.isoformat(),
            "requests": self.requests,
            "errors_5xx": self.errors,
            "error_rate_percent": rate,
            "p95_ms": p95,
            "first_5xx": self.first_5xx.isoformat() if self.first_5xx else None,
            "last_5xx": self.last_5xx.isoformat() if self.last_5xx else None,
            "clients_5xx": sorted(self.clients),
            "failing": dict(self.failing.most_common(5)),
        }
        when = self.first_5xx or self.first
        return Entry(when, "nginx", service, event, "traffic", data=data)


def access(src: Source | Stream) -> Iterator[Entry]:
    """One entry per minute of an nginx access log (kind "traffic"; see `_Minute`)."""
    minute: _Minute | None = None
    for line in Stream.of(src).lines(b'] "'):
        stamp, payload = lp.split_time(line)
        status = lp.access_status(payload)
        when = _when(stamp)
        if status is None or not 100 <= status <= 599 or when is None:
            continue  # no HTTP status (a line cut short) or no time
        start = when.replace(second=0, microsecond=0)
        if minute is None or minute.start != start:
            if minute is not None:
                yield minute.entry(src.service)
            minute = _Minute(start, when)
        minute.requests += 1
        rt = lp.access_rt_ms(payload)
        if rt is not None:
            minute.times.append(rt)
        if status >= 500:
            minute.errors += 1
            minute.first_5xx = minute.first_5xx or when
            minute.last_5xx = when
            minute.clients.add(_client(payload))
            minute.failing[request_path(payload)] += 1
    if minute is not None:
        yield minute.entry(src.service)


# --- ledger and incident --------------------------------------------------------------------


def _at(text: Any) -> datetime | None:
    """A ledger time, or None where it is missing or no time (a hand-edited line)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return jr.parse_time(text.replace("+00:00", "Z"))
    except ValueError:
        return None


def ledger_lines(path: Path, problems: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """The ledger's lines (format: netzops/runner/ledger.py; read here as data, since this
    layer does not import the runner). A line that is no JSON object (cut short by a full
    disk, odd bytes) is left out; with `problems`, their count is named there at the end."""
    if not path.exists():
        return
    unreadable = 0
    with path.open("rb") as fh:
        for raw in fh:
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except ValueError:  # UnicodeDecodeError too
                line = None
            if isinstance(line, dict):
                yield line
            else:
                unreadable += 1
    if unreadable and problems is not None:
        problems.append(f"ledger {path}: {unreadable} line(s) are no JSON object, left out")


def audits(line: dict[str, Any]) -> list[dict[str, Any]]:
    """A ledger line's audit entries: a run's `actions`; a kernel's `kind: action` line
    holds its one entry under `actions` too (one with the entry's fields at the top is
    taken as it is)."""
    if line.get("kind") == "action" and "action" in line:
        return [line]
    found = line.get("actions") or []
    return [a for a in found if isinstance(a, dict)] if isinstance(found, list) else []


def ledger_actions(path: Path) -> Iterator[dict[str, Any]]:
    """Every audit entry in the ledger once: run lines' `actions` and `kind: action` lines
    (written by a kernel as they happen) deduplicated by (at, action, fingerprint)."""
    seen: set[tuple[str, str, str]] = set()
    for line in ledger_lines(path):
        for a in audits(line):
            key = (str(a.get("at")), str(a.get("action")), str(a.get("fingerprint")))
            if key not in seen:
                seen.add(key)
                yield a


def ledger(lines: Iterable[dict[str, Any]], start: datetime, end: datetime) -> list[Entry]:
    """Runs (at their end, with the worst finding) and guarded actions (at their time) in
    the window, sorted (the ledger is in order of run ends; actions happen before). Incident
    updates are left to `updates` (they come from the incident record)."""
    found = []
    seen: set[tuple[str, str, str]] = set()
    for line in lines:
        ended = _at(line.get("ended"))
        if line.get("kind") not in ("action", "prune") and ended and start <= ended <= end:
            worst = line.get("worst") or "no findings"
            event = f"run {line.get('notebook')} {line.get('status')}, worst {worst}"
            found.append(Entry(ended, "ledger", "", event, "run"))
        for action in audits(line):
            at = _at(action.get("at"))
            key = (str(action.get("at")), str(action.get("action")), str(action.get("fingerprint")))
            if not at or not start <= at <= end or key in seen:
                continue
            seen.add(key)
            if action.get("action") == "incident_update":
                continue
            dry = "dry run" if action.get("dry_run") else "done"
            event = (
                f"guarded {action.get('action')} on {action.get('subject')} ({dry}) by "
                f"{action.get('who')}, plan #{action.get('fingerprint')}: "
                f"{action.get('outcome')}"
            )
            found.append(Entry(at, "ledger", "", event, "action"))
    return sorted(found, key=attrgetter("time"))


def updates(record: dict[str, Any] | None) -> list[Entry]:
    """The incident's status updates as entries."""
    if not record:
        return []
    return [
        Entry(
            jr.parse_time(u["at"]),
            "incident",
            "",
            f"{u['status']}: {u['summary']}"
            + (f" ({u['commander']})" if u.get("commander") else ""),
            "update",
            data={"status": u["status"]},
        )
        for u in record.get("updates", [])
    ]

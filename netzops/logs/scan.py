"""Every log analysis in one streaming pass, in bounded memory.

A log is fed in chunks of whole lines (`Scanner.feed`). One pass of a multi-pattern matcher
(Hyperscan, compiled once per thread) finds every needle of every analysis in the chunk at
once and reports where; only the lines holding a hit are cut out and parsed in Python, so
the bytes of the other lines (most of a log: plain requests) are touched only in C.
Lines are `<timestamp> <payload>` as `docker logs --timestamps` writes them, or a service's
own lines that start with an ISO time (exported logs); either way bytes 0–16 are the line's
minute ("2026-11-27T01:17").

Chosen by measurement (`bench/bench_logs.py`, engines side by side on the same bytes): one
Hyperscan pass replaced seven `bytes.find`/`bytes.count` passes and a `bytes.lower` (the
`bytes` engine, kept as the fallback where Hyperscan has no wheel); both beat one
alternation regex with Python's `re` and per-line splitting by far. A line-level count is
exact (`grep -c`: a line with two hits counts once); the dense per-minute request counts use
one `bytes.count` per minute region, found by bisection over the (time-ordered) chunk. The
parsed fields of failed logins and the kinds of errors are cached by the text they depend
on (a line's text after its two timestamps; a message up to its first `=`).

Memory is bounded whatever the log size: counters per minute, per kind, per (user, ip), per
status; durations and request times as exact value histograms (`Counter` of the logged
values: nearest-rank percentiles stay exact); the last SAMPLE out-of-memory lines; parse
caches of at most PARSED entries.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from netzops.logs import parse as lp

CHUNK = 1 << 22  # bytes read at a time (4 MiB)
SAMPLE = 50  # newest out-of-memory lines kept
KIND_EXAMPLE = 300  # characters kept of each error kind's newest message

ERROR = b"ERROR"  # `grep -c ERROR` (the runbook's)
SLOW = b"slow query"  # `grep "slow query"` (backend); PostgreSQL: " duration: "
PG_SLOW = b" duration: "
FAILED = b"failed login"
OOM = b"out of memory"  # case-insensitive, as `grep -i`
REQUEST = b" request method="
SERVER_ERROR = b" status=5"
ACCESS = b'] "'  # nginx access log line
PARSED = 1024  # entries of each parse cache (cleared when full)

#: Every needle of the pass, in the order of `Hits`, and whether it ignores case.
NEEDLES: tuple[tuple[bytes, bool], ...] = (
    (ERROR, False),
    (SLOW, False),
    (PG_SLOW, False),
    (FAILED, False),
    (OOM, True),
    (SERVER_ERROR, False),
    (ACCESS, False),
)
Hits = list[list[int]]  # per needle: end offsets of its matches in the chunk, ascending
Engine = Callable[[bytes], Hits]  # finds every needle in a chunk: find_hyperscan, find_bytes


@dataclass
class Kind:
    count: int = 0
    first: bytes = b""
    last: bytes = b""
    example: str = ""


@dataclass
class Slow:
    count: int = 0
    total: float = 0.0
    max: float = 0.0
    last: bytes = b""


@dataclass
class Logins:
    count: int = 0
    first: bytes = b""
    last: bytes = b""
    reasons: Counter[str] = field(default_factory=Counter)


@dataclass
class Tally:
    """What one pass over a service's logs found (all windows of the pass)."""

    lines: int = 0
    size: int = 0  # bytes in the window
    errors: int = 0  # lines containing ERROR in the window
    errors_recent: int = 0  # … since `recent_from` (errors in the last hour)
    kinds: dict[str, Kind] = field(default_factory=dict)  # of the recent ERROR lines
    error_minutes: Counter[bytes] = field(default_factory=Counter)  # lines with " ERROR "
    requests: Counter[bytes] = field(default_factory=Counter)  # per minute
    server_errors: Counter[bytes] = field(default_factory=Counter)  # status ≥ 500 per minute
    slow: dict[str, Slow] = field(default_factory=dict)
    slow_ms: Counter[float] = field(default_factory=Counter)
    slow_lines: int = 0  # lines containing the slow-query needle
    non_finite: int = 0  # slow-query durations that were NaN or ±Infinity (skipped)
    pg_slow: dict[str, Slow] = field(default_factory=dict)
    pg_slow_ms: Counter[float] = field(default_factory=Counter)
    logins: dict[tuple[str, str], Logins] = field(default_factory=dict)
    failed_lines: int = 0
    oom: int = 0
    #: (timestamp, source, payload) of the newest out-of-memory lines
    oom_lines: deque[tuple[bytes, str, bytes]] = field(default_factory=lambda: deque(maxlen=SAMPLE))
    statuses: Counter[int] = field(default_factory=Counter)
    rt_ms: Counter[float] = field(default_factory=Counter)
    unavailable: list[str] = field(default_factory=list)  # sources that could not be read

    def merge(self, other: Tally) -> None:
        """Add `other` (another container or file of the same service) to this tally."""
        for name in ("lines", "size", "errors", "errors_recent", "slow_lines", "non_finite"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failed_lines += other.failed_lines
        self.oom += other.oom
        for counter in ("error_minutes", "requests", "server_errors", "slow_ms", "pg_slow_ms"):
            getattr(self, counter).update(getattr(other, counter))
        self.statuses.update(other.statuses)
        self.rt_ms.update(other.rt_ms)
        for key, kind in other.kinds.items():
            mine = self.kinds.setdefault(key, Kind(0, kind.first, kind.last, kind.example))
            mine.count += kind.count
            mine.first = min(mine.first, kind.first)
            if kind.last >= mine.last:
                mine.last, mine.example = kind.last, kind.example
        for table in ("slow", "pg_slow"):
            mine_slow: dict[str, Slow] = getattr(self, table)
            for query, s in getattr(other, table).items():
                m = mine_slow.setdefault(query, Slow())
                m.count, m.total = m.count + s.count, m.total + s.total
                m.max, m.last = max(m.max, s.max), max(m.last, s.last)
        for pair, seen in other.logins.items():
            mine_l = self.logins.setdefault(pair, Logins(0, seen.first, seen.last))
            mine_l.count += seen.count
            mine_l.first, mine_l.last = min(mine_l.first, seen.first), max(mine_l.last, seen.last)
            mine_l.reasons.update(seen.reasons)
        newest = sorted([*self.oom_lines, *other.oom_lines])[-SAMPLE:]
        self.oom_lines.clear()
        self.oom_lines.extend(newest)
        self.unavailable += other.unavailable


def stamp_of(when: object) -> bytes | None:
    """A datetime as the fixed-width bytes Docker writes (`2026-11-27T01:17:34.000000000Z`),
    comparable with line timestamps as bytes; None stays None."""
    if when is None:
        return None
    from datetime import UTC, datetime

    assert isinstance(when, datetime)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z").encode()


def _line_at(chunk: bytes, at: int) -> tuple[int, int]:
    """(start, end) of the line holding byte `at` (end excludes the newline)."""
    start = chunk.rfind(b"\n", 0, at) + 1
    end = chunk.find(b"\n", at)
    return start, len(chunk) if end == -1 else end


def hit_lines(chunk: bytes, needle: bytes, hay: bytes | None = None) -> Iterator[bytes]:
    """Each line of `chunk` containing `needle` once (grep's selection), found by jumping
    from hit to hit; `hay` is a same-length variant to search in (e.g. lower-cased)."""
    hay = chunk if hay is None else hay
    at = hay.find(needle)
    while at != -1:
        start, end = _line_at(chunk, at)
        yield chunk[start:end]
        at = hay.find(needle, end)


def lines_at(chunk: bytes, ends: list[int]) -> list[bytes]:
    """The lines (without newline) holding the matches that end at `ends` (ascending),
    each line once however many matches it holds: what `grep` selects."""
    found, end = [], -1
    for at in ends:
        if at <= end:  # another match on the line just taken
            continue
        start = chunk.rfind(b"\n", 0, at) + 1
        end = chunk.find(b"\n", at - 1)
        if end == -1:
            end = len(chunk)
        found.append(chunk[start:end])
    return found


def find_bytes(chunk: bytes) -> Hits:
    """Every needle's match ends, one `bytes.find` walk per needle (`bytes.lower` once for
    the case-insensitive ones): the fallback engine, pure CPython."""
    low = chunk.lower() if any(fold for _, fold in NEEDLES) else chunk
    hits: Hits = []
    for needle, fold in NEEDLES:
        hay, word = (low, needle.lower()) if fold else (chunk, needle)
        ends: list[int] = []
        at = hay.find(word)
        while at != -1:
            ends.append(at + len(word))
            at = hay.find(word, at + len(word))
        hits.append(ends)
    return hits


_local = threading.local()


def _database() -> Any:
    """This thread's compiled Hyperscan database (a database's scratch space serves one
    scan at a time, and a scan lets other threads run)."""
    db = getattr(_local, "db", None)
    if db is None:
        import hyperscan

        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        db.compile(
            expressions=[_escape(needle) for needle, _ in NEEDLES],
            ids=list(range(len(NEEDLES))),
            elements=len(NEEDLES),
            flags=[hyperscan.HS_FLAG_CASELESS if fold else 0 for _, fold in NEEDLES],
        )
        _local.db = db
    return db


def _escape(needle: bytes) -> bytes:
    """A literal as a Hyperscan (PCRE) pattern."""
    return b"".join(b"\\x%02x" % byte for byte in needle)


def find_hyperscan(chunk: bytes) -> Hits:
    """Every needle's match ends in one Hyperscan pass over the chunk."""
    hits: Hits = [[] for _ in NEEDLES]
    append = [ends.append for ends in hits]

    def on_match(pattern: int, _start: int, end: int, _flags: int, _context: object) -> None:
        append[pattern](end)

    _database().scan(chunk, match_event_handler=on_match)
    for ends in hits:
        ends.sort()  # no-op when Hyperscan delivered them in order
    return hits


def _engine() -> Engine:
    try:
        import hyperscan  # noqa: F401
    except ImportError:  # no wheel for this platform: the pure CPython engine
        return find_bytes
    return find_hyperscan


ENGINES: dict[str, Engine] = {"hyperscan": find_hyperscan, "bytes": find_bytes}


def _tail(payload: bytes) -> bytes:
    """The payload without its first word (the service's own timestamp), from the space on:
    every parser keyed on `␣name=` reads the same fields from it, so it keys the caches."""
    cut = payload.find(b" ")
    return payload if cut == -1 else payload[cut:]


class Scanner:
    """Feed whole-line chunks; `tally` has every analysis. `since`/`until` (bytes stamps)
    bound the window; `recent_from` starts the "last hour" of errors_last_hour; `engine`
    finds the needles (`find_hyperscan`, or `find_bytes` where Hyperscan is missing)."""

    def __init__(
        self,
        since: bytes | None = None,
        until: bytes | None = None,
        recent_from: bytes | None = None,
        source: str = "",
        engine: Engine | None = None,
    ) -> None:
        self.since, self.until, self.recent_from = since, until, recent_from
        self.source = source
        self.tally = Tally()
        self.find = engine or _engine()
        self._login_seen: dict[bytes, tuple[str, str, str] | None] = {}
        self._kind_seen: dict[bytes, str] = {}

    # --- the window ----------------------------------------------------------------------

    def _cut(self, chunk: bytes, start: int, end: int) -> tuple[int, int]:
        """The part of [start, end) of a time-ordered chunk inside [since, until)."""
        if self.since is not None:
            start = _first_at_or_after(chunk, self.since, start, end)
        if self.until is not None:
            end = _first_at_or_after(chunk, self.until, start, end)
        return start, end

    def feed(self, chunk: bytes, start: int = 0, end: int | None = None) -> None:
        """The whole lines in [start, end) of `chunk` (default: all of it; each line ends
        with a newline but maybe the last), in time order. Bytes outside are not read."""
        start, end = self._cut(chunk, start, len(chunk) if end is None else end)
        if start >= end:
            return
        t = self.tally
        t.size += end - start
        t.lines += chunk.count(b"\n", start, end) + (chunk[end - 1] != 0x0A)
        outside = start > 0 or end < len(chunk)
        errors, slow, pg_slow, failed, oom, server_errors, access = (
            lines_at(chunk, _within(ends, start, end) if outside else ends) if ends else []
            for ends in self.find(chunk)
        )
        self._errors(errors)
        self._requests(chunk, start, end, server_errors)
        t.slow_lines += len(slow)
        self._slow(slow, t.slow, t.slow_ms)
        self._slow(pg_slow, t.pg_slow, t.pg_slow_ms)
        self._logins(failed)
        self._oom(oom)
        self._access(access)

    # --- the analyses (each gets the lines that hold its needle) --------------------------

    def _errors(self, lines: list[bytes]) -> None:
        t, recent, kinds = self.tally, self.recent_from, self.tally.kinds
        t.errors += len(lines)
        minutes = t.error_minutes
        latest: dict[str, bytes] = {}  # each kind's newest message: decoded once per chunk
        for line in lines:
            if b" ERROR " in line:
                minutes[line[:16]] += 1
            stamp, _, payload = line.partition(b" ")
            if recent is not None and stamp < recent:
                continue
            t.errors_recent += 1
            raw = lp.level_of(payload)[1]
            name = self._kind(raw)
            kind = kinds.get(name)
            if kind is None:
                kind = kinds[name] = Kind(0, stamp, stamp, "")
            kind.count += 1
            if stamp < kind.first:
                kind.first = stamp
            if stamp >= kind.last:
                kind.last = stamp
                latest[name] = raw
        for name, raw in latest.items():
            kinds[name].example = raw.decode(errors="replace")[:KIND_EXAMPLE]

    def _kind(self, raw: bytes) -> str:
        """`parse.kind` of the message, cached by the message up to its first `=`: the kind
        is its words before the first `key=value` word, so the rest cannot change it."""
        cut = raw.find(b"=")
        if cut == -1 or b" " not in raw[:cut]:  # no `=`, or in the first word: uncached
            return lp.kind(raw.decode(errors="replace"))
        key = raw[: cut + 1]
        name = self._kind_seen.get(key)
        if name is None:
            if len(self._kind_seen) >= PARSED:
                self._kind_seen.clear()
            name = self._kind_seen[key] = lp.kind(key.decode(errors="replace"))
        return name

    def _requests(self, chunk: bytes, start: int, end: int, server_errors: list[bytes]) -> None:
        t = self.tally
        for minute, at, stop in _minutes(chunk, start, end):
            found = chunk.count(REQUEST, at, stop)
            if found:
                t.requests[minute] += found
        for line in server_errors:
            if REQUEST in line:
                t.server_errors[line[:16]] += 1

    def _slow(self, lines: list[bytes], table: dict[str, Slow], values: Counter[float]) -> None:
        t, parse, isfinite = self.tally, lp.slow_query, math.isfinite  # uncached: durations vary
        counted: list[float] = []
        for line in lines:
            stamp, _, payload = line.partition(b" ")
            parsed = parse(payload)
            if parsed is None:
                continue
            ms, query = parsed
            if not isfinite(ms):
                t.non_finite += 1
                continue
            s = table.get(query)
            if s is None:
                s = table[query] = Slow()
            s.count += 1
            s.total += ms
            if ms > s.max:
                s.max = ms
            if stamp > s.last:
                s.last = stamp
            counted.append(ms)
        values.update(counted)  # counted in C

    def _logins(self, lines: list[bytes]) -> None:
        t, seen = self.tally, self._login_seen
        t.failed_lines += len(lines)
        for line in lines:
            stamp, _, payload = line.partition(b" ")
            key = _tail(payload)
            if key in seen:
                parsed = seen[key]
            else:
                if len(seen) >= PARSED:
                    seen.clear()
                parsed = seen[key] = lp.failed_login(payload)
            if parsed is None:
                continue
            pair = parsed[:2]
            found = t.logins.get(pair)
            if found is None:
                found = t.logins[pair] = Logins(0, stamp, stamp)
            found.count += 1
            if stamp < found.first:
                found.first = stamp
            if stamp > found.last:
                found.last = stamp
            found.reasons[parsed[2]] += 1

    def _oom(self, lines: list[bytes]) -> None:
        t = self.tally
        t.oom += len(lines)
        for line in lines[-SAMPLE:]:
            stamp, payload = lp.split_time(line)
            t.oom_lines.append((stamp, self.source, payload))

    def _access(self, lines: list[bytes]) -> None:
        t = self.tally
        for line in lines:
            status = lp.access_status(line)
            if status is None:
                continue
            t.statuses[status] += 1
            rt = lp.access_rt_ms(line)
            if rt is not None and math.isfinite(rt):
                t.rt_ms[round(rt, 3)] += 1


def _within(ends: list[int], start: int, end: int) -> list[int]:
    """The match ends (ascending) of matches inside [start, end) (a match never spans a
    line end, and start and end are line starts)."""
    return ends[bisect.bisect_right(ends, start) : bisect.bisect_right(ends, end)]


def _first_at_or_after(chunk: bytes, stamp: bytes, low: int = 0, high: int | None = None) -> int:
    """The offset of the first line in [low, high) (line starts; high default: the end)
    whose timestamp is ≥ `stamp` (`high` if none), by bisection over byte offsets of a
    time-ordered chunk."""
    high = len(chunk) if high is None else high
    while low < high:
        mid = (low + high) // 2
        start = chunk.rfind(b"\n", 0, mid) + 1
        if chunk[start : start + len(stamp)] < stamp:
            end = chunk.find(b"\n", mid, high)
            low = high if end == -1 else end + 1
        else:
            high = start
    return low


def _minutes(chunk: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(minute, start, end) of each minute's lines in [start, end) of a time-ordered chunk."""
    last = chunk.rfind(b"\n", start, end - 1) + 1 or start
    last_minute = chunk[last : last + 16]
    at = start
    while at < end:
        minute = chunk[at : at + 16]
        if minute == last_minute:
            yield minute, at, end
            return
        stop = _first_at_or_after(chunk, minute + b"\xff", at, end)  # \xff: after every second
        if stop <= at:  # not time-ordered here: take the line alone
            stop = chunk.find(b"\n", at, end) + 1 or end
        yield minute, at, stop
        at = stop


# --- sources ------------------------------------------------------------------------------


def whole_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Re-cut a stream of byte chunks at line ends (the last line may lack its newline)."""
    rest = b""
    for chunk in chunks:
        if not chunk:
            continue
        data = rest + chunk if rest else chunk
        cut = data.rfind(b"\n") + 1
        if cut:
            yield data[:cut]
        rest = data[cut:]
    if rest:
        yield rest + b"\n"


def line_pieces(blocks: Iterable[bytes]) -> Iterator[tuple[bytes, int, int]]:
    """(block, start, end): the whole lines of a stream of blocks without copying the
    blocks; a line cut between two blocks comes as a small piece of its own."""
    carry = b""
    for block in blocks:
        start = 0
        if carry:
            first = block.find(b"\n")
            if first == -1:
                carry += block
                continue
            glued = carry + block[: first + 1]
            yield glued, 0, len(glued)
            start = first + 1
        end = block.rfind(b"\n", start) + 1
        if end:
            yield block, start, end
        carry = block[max(start, end) :]
    if carry:
        yield carry + b"\n", 0, len(carry) + 1


def _histogram_quantile(histogram: Counter[float], q: float) -> float | None:
    """Nearest-rank percentile `q` of the values counted in `histogram` (None if empty)."""
    total = sum(histogram.values())
    if not total:
        return None
    rank, seen = max(1, math.ceil(q / 100.0 * total)), 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return None


def summary(tally: Tally) -> dict[str, object]:
    """The tally as plain data (JSON-safe: finite numbers only; minutes as text)."""
    requests, failed = sum(tally.requests.values()), sum(tally.server_errors.values())
    access = sum(tally.statuses.values())
    access_5xx = sum(n for s, n in tally.statuses.items() if s >= 500)
    per_ip: Counter[str] = Counter()
    for (_, ip), seen in tally.logins.items():
        per_ip[ip] += seen.count
    slow = sum(tally.slow_ms.values())
    return {
        "lines": tally.lines,
        "bytes": tally.size,
        "errors": tally.errors,
        "error_lines_per_minute": {m.decode(): n for m, n in sorted(tally.error_minutes.items())},
        "slow_query_lines": tally.slow_lines,
        "slow_queries": slow,
        "slow_query_non_finite": tally.non_finite,
        "slow_query_max_ms": max(tally.slow_ms) if slow else None,
        "slow_query_p95_ms": _histogram_quantile(tally.slow_ms, 95),
        "postgres_slow_queries": sum(tally.pg_slow_ms.values()),
        "failed_login_lines": tally.failed_lines,
        "failed_logins_by_ip": dict(per_ip.most_common()),
        "out_of_memory": tally.oom,
        "requests": requests,
        "errors_5xx": failed,
        "error_rate_percent": round(failed / requests * 100.0, 2) if requests else None,
        "requests_per_minute": {m.decode(): n for m, n in sorted(tally.requests.items())},
        "nginx_requests": access,
        "nginx_errors_5xx": access_5xx,
        "nginx_error_rate_percent": round(access_5xx / access * 100.0, 2) if access else None,
        "nginx_statuses": {str(s): n for s, n in sorted(tally.statuses.items())},
        "nginx_rt_p50_ms": _histogram_quantile(tally.rt_ms, 50),
        "nginx_rt_p95_ms": _histogram_quantile(tally.rt_ms, 95),
    }

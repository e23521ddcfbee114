"""Container logs streamed from the Engine API into one scan per service and window.

`tally(client, target, service, since, until)` reads each container of the service once
(`GET /containers/{id}/logs?timestamps=1`, the stream de-multiplexed in 64 KiB blocks, never held
whole) and feeds it to a `scan.Scanner`, which computes every analysis in that pass. The
engine sends the log as a chunked HTTP body with one HTTP chunk per log line; http.client
would take several Python calls per chunk (most of a scan's time), so `_body` reads the
connection's buffered bytes and `_dechunk` and `_demux` undo both framings in bulk. In a
headless run (the runner's kernels) the tally is kept for CACHE_S seconds, keyed by the
window, and "now" is shared for as long, so the checks of one notebook run (errors, slow
queries, failed logins, out of memory, rates) read each service's log once; concurrent
callers of the same scan wait for the first one. Interactive use reads afresh each time.

A container whose log driver cannot be read back (`none`, some remote drivers: the engine
answers "configured logging driver does not support reading") is listed in
`Tally.unavailable`; the engine is fine and the other replicas are counted.
"""

from __future__ import annotations

import http.client
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from docker import DockerClient
from docker.errors import APIError
from docker.models.containers import Container

from netzops.containers.status import project_containers
from netzops.logs.scan import Scanner, Tally, find_bytes, stamp_of, whole_lines
from netzops.targets import Target
from netzops.times import When, parse_time

CACHE_S = 30.0  # a scan (and "now") is reused this long after it ended: one notebook run
BLOCK = 1 << 16  # bytes read from the engine at a time: small, so peak memory stays low
HEADLESS_ENV = "NETZOPS_HEADLESS"  # guard.HEADLESS_ENV (only */actions.py import the guard)
RECENT = timedelta(hours=1)  # errors_last_hour's window
UNREADABLE = "does not support reading"

_lock = threading.Lock()
_scans: dict[tuple[Any, ...], tuple[float, threading.Event, list[Tally]]] = {}
_now: list[tuple[float, datetime]] = []


def _ttl() -> float:
    return CACHE_S if os.environ.get(HEADLESS_ENV) == "1" else 0.0


def now() -> datetime:
    """The current time, shared by the checks of one headless run (for CACHE_S seconds)."""
    with _lock:
        if _now and time.monotonic() - _now[0][0] < _ttl():
            return _now[0][1]
        _now[:] = [(time.monotonic(), datetime.now(UTC))]
        return _now[0][1]


def window(since: When, until: When) -> tuple[datetime | None, datetime]:
    """[since, until] resolved against the run's shared `now`."""
    at = now()
    return parse_time(since, at), parse_time(until, at) or at


def _dechunk(blocks: Iterator[bytes]) -> Iterator[bytes]:
    """The data of an HTTP/1.1 chunked body (`<hex size>[;ext]CRLF <data> CRLF`, …, a chunk
    of size 0 and an optional trailer last), joined per block. A body cut short raises
    http.client.IncompleteRead."""
    buffer = b""
    for block in blocks:
        buffer = buffer + block if buffer else block
        view, at = memoryview(buffer), 0
        out: list[memoryview] = []
        while (eol := buffer.find(b"\r\n", at)) != -1:
            size = int(buffer[at:eol].partition(b";")[0], 16)
            if size == 0:
                last = b"".join(out)
                view.release()
                if last:
                    yield last
                return
            end = eol + 2 + size
            if end + 2 > len(buffer):
                break
            out.append(view[eol + 2 : end])
            at = end + 2
        if out:
            yield b"".join(out)
        view.release()
        buffer = buffer[at:]
    raise http.client.IncompleteRead(buffer)


def _body(response: Any) -> Iterator[bytes]:
    """A streamed `requests` response's body in blocks of at most BLOCK bytes: a chunked one
    de-chunked here from the connection's buffered reader (the way docker-py's attach reads
    the raw connection), anything else through urllib3."""
    raw = response.raw
    inner = getattr(raw, "_fp", None)  # http.client.HTTPResponse
    reader: Any = getattr(inner, "fp", None)  # its buffered reader of the connection
    fresh = getattr(inner, "chunked", False) and getattr(inner, "chunk_left", 0) is None
    if fresh and not response.headers.get("Content-Encoding") and hasattr(reader, "read1"):
        return _dechunk(iter(lambda: reader.read1(BLOCK), b""))
    # raw.read gathers BLOCK bytes across many small HTTP chunks; iter_content would not
    return iter(lambda: raw.read(BLOCK, decode_content=True), b"")


def _demux(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The payloads of Docker's multiplexed stream (8-byte frame headers: stream, 0, 0, 0,
    big-endian size), joined per chunk."""
    buffer = b""
    for chunk in chunks:
        buffer = buffer + chunk if buffer else chunk
        view, at, out = memoryview(buffer), 0, []
        while at + 8 <= len(buffer):
            end = at + 8 + int.from_bytes(view[at + 4 : at + 8], "big")
            if end > len(buffer):
                break
            out.append(view[at + 8 : end])
            at = end
        view.release()
        buffer = buffer[at:]
        if out:
            yield b"".join(out)


def stream(
    client: DockerClient, container: Container, since: datetime | None, until: datetime | None
) -> Iterator[bytes]:
    """`docker logs --timestamps [--since] [--until] CONTAINER` as chunks of whole lines."""
    api = client.api
    params: dict[str, Any] = {"stdout": 1, "stderr": 1, "timestamps": 1, "tail": "all"}
    if since is not None:
        params["since"] = since.timestamp()
    if until is not None:
        params["until"] = until.timestamp()
    url = api._url("/containers/{0}/logs", container.id)
    response = api._get(url, params=params, stream=True)
    api._raise_for_status(response)
    try:
        chunks = _body(response)
        tty = bool(container.attrs.get("Config", {}).get("Tty"))
        yield from whole_lines(chunks if tty else _demux(chunks))
    finally:
        response.close()


def _scan(
    client: DockerClient, target: Target, service: str, since: datetime | None, until: datetime
) -> Tally:
    total = Tally()
    recent = stamp_of(until - RECENT)
    for container in project_containers(client, target.compose.project, service):
        # the engine streams a log at a few MB/s (its json-file decoding), far below either
        # matcher: the pure-CPython one spares Hyperscan's ~5 MB (bench/bench_logs.py)
        scanner = Scanner(recent_from=recent, source=container.name, engine=find_bytes)
        try:
            for chunk in stream(client, container, since, until):
                scanner.feed(chunk)
        except APIError as exc:
            if UNREADABLE not in str(exc):
                raise
            scanner.tally.unavailable.append(container.name)
        total.merge(scanner.tally)
    return total


def tally(
    client: DockerClient, target: Target, service: str, since: When = None, until: When = None
) -> tuple[Tally, datetime | None, datetime]:
    """The service's tally over [since, until] (`until` default: now), read once per run;
    with the resolved window. Engine errors propagate (the checks turn them into findings)."""
    start, end = window(since, until)
    key = (id(client), target.compose.project, service, start, end)
    with _lock:
        for stale in [k for k, v in _scans.items() if time.monotonic() - v[0] > _ttl()]:
            del _scans[stale]
        entry = _scans.get(key)
        mine = entry is None
        if entry is None:
            entry = _scans[key] = (time.monotonic(), threading.Event(), [])
    _born, ready, box = entry
    if not mine:
        ready.wait()
        if box:
            return box[0], start, end
    try:
        found = _scan(client, target, service, start, end)
    except BaseException:
        with _lock:
            _scans.pop(key, None)
        ready.set()
        raise
    box.append(found)
    with _lock:  # the run's checks share this scan (and "now") for CACHE_S from its end: a
        # scan longer than CACHE_S (a big log) must not make each later check read again
        renewed = time.monotonic()
        _scans[key] = (renewed, ready, box)
        if _now:
            _now[:] = [(renewed, _now[0][1])]
    ready.set()
    return found, start, end

"""Container logs as `docker compose logs` shows them: one service or all, --tail, --since,
--until, timestamps, a grep-like filter. Read through the Engine API (docker SDK) for every
container of the service, running or not. The analysis of logs lives in `netzops.logs.analysis`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from docker import DockerClient
from docker.errors import APIError, NotFound
from docker.models.containers import Container

from netzops.checks import Outcome, checker
from netzops.containers.status import ENGINE_ERRORS, SERVICE, engine_down, project_containers
from netzops.errors import BadInput
from netzops.logs import parse as lp
from netzops.logs.live import UNREADABLE  # the engine's answer for a log driver like `none`
from netzops.targets import Target
from netzops.times import When as When  # re-exported: logs.When
from netzops.times import parse_time

#: The logs check decorator (see `netzops.checks`): an engine that does not answer → P0.
check = checker("logs", ENGINE_ERRORS, engine_down)


def parse_when(value: When, now: datetime | None = None) -> datetime | None:
    """A point in time in the one grammar of `netzops.times` (RFC 3339 with any offset, Unix
    seconds, Go durations before `now` such as 1h30m); an aware UTC datetime or None."""
    return parse_time(value, now)


@dataclass(frozen=True)
class Source:
    """The raw log of one container (one stream, or both when `stream` is empty)."""

    service: str
    container: str
    stream: str
    blob: bytes
    unavailable: str = ""  # why this container's log could not be read (blob empty)


def _read_one(
    container: Container,
    since: datetime | None,
    until: datetime | None,
    tail: int | None,
    stream: str,
) -> Source:
    """One container's log; a container whose log driver cannot be read back (`none`, some
    remote drivers) or that was removed since it was listed is an empty, `unavailable`
    Source: that replica's logs are missing, the engine and the other replicas are fine."""
    service = container.labels.get(SERVICE, container.name)
    try:
        blob = container.logs(
            stdout=stream in ("", "stdout"),
            stderr=stream in ("", "stderr"),
            timestamps=True,
            since=since.timestamp() if since else None,
            until=until.timestamp() if until else None,
            tail="all" if tail is None else tail,
        )
    except NotFound:
        return Source(service, container.name, stream, b"", "removed since it was listed")
    except APIError as exc:
        if UNREADABLE not in str(exc):
            raise
        return Source(service, container.name, stream, b"", "log driver cannot be read back")
    return Source(service, container.name, stream, blob)


def read(
    client: DockerClient,
    target: Target,
    service: str | None = None,
    since: When = None,
    until: When = None,
    tail: int | None = None,
    split_streams: bool = False,
) -> list[Source]:
    """`docker logs --timestamps [--since] [--until] [--tail]` of the service's containers
    (all services when None), read in parallel; one Source per container, or per container
    and stream with `split_streams`."""
    service = target.service_or_all(service)
    if tail is not None and tail < 0:
        raise BadInput(f"tail must be ≥ 0, not {tail}")
    now = datetime.now(UTC)
    start, end = parse_when(since, now), parse_when(until, now)
    found = project_containers(client, target.compose.project, service)
    jobs = [(c, s) for c in found for s in (("stdout", "stderr") if split_streams else ("",))]
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(jobs)))) as pool:
        return list(pool.map(lambda job: _read_one(job[0], start, end, tail, job[1]), jobs))


@dataclass(frozen=True)
class LogLine:
    time: datetime | None
    service: str
    container: str
    stream: str
    message: str


def _matcher(pattern: str | None, regex: bool, ignore_case: bool) -> Callable[[bytes], bool] | None:
    if not pattern:
        return None
    if regex:
        try:
            compiled = re.compile(pattern.encode(), re.IGNORECASE if ignore_case else 0)
        except re.error as exc:
            raise BadInput(f"invalid regular expression {pattern!r}: {exc}") from None
        return lambda payload: compiled.search(payload) is not None
    needle = pattern.encode()
    if ignore_case:
        low = needle.lower()
        return lambda payload: low in payload.lower()
    return lambda payload: needle in payload


def _entries(sources: list[Source], tail: int | None) -> list[tuple[bytes, Source, bytes]]:
    """(timestamp, source, payload) per line; per container the streams merged in time
    order and cut to the last `tail` lines, as `docker logs --tail` does."""
    per_container: dict[str, list[tuple[bytes, Source, bytes]]] = defaultdict(list)
    for src in sources:
        bucket = per_container[src.container]
        for line in lp.lines(src.blob):
            stamp, payload = lp.split_time(line)
            bucket.append((stamp, src, payload))
    merged: list[tuple[bytes, Source, bytes]] = []
    for rows in per_container.values():
        rows.sort(key=lambda r: r[0])
        merged += rows if tail is None else rows[len(rows) - tail :]
    return merged


@check("logs", "Logs — {service}")
def view(
    client: DockerClient,
    target: Target,
    service: str | None = None,
    tail: int | None = 100,
    since: When = None,
    until: When = None,
    pattern: str | None = None,
    regex: bool = False,
    ignore_case: bool = False,
    timestamps: bool = True,
) -> Outcome:
    """`docker compose logs [-t] [--tail N] [--since] [--until] [SERVICE] | grep PATTERN`:
    one row per line (time, service, container, stream, message), oldest first. `pattern`
    is a plain substring unless `regex`; `tail` counts per container before the filter."""
    match = _matcher(pattern, regex, ignore_case)
    sources = read(client, target, service, since, until, tail, split_streams=True)
    rows = [
        LogLine(
            lp.stamp_time(stamp) if timestamps else None,
            src.service,
            src.container,
            src.stream,
            payload.decode(errors="replace"),
        )
        for stamp, src, payload in sorted(_entries(sources, tail), key=lambda e: e[0])
        if match is None or match(payload)
    ]
    missing = sorted({f"{src.container} ({src.unavailable})" for src in sources if src.unavailable})
    notes = [f"logs unavailable: {', '.join(missing)}"] if missing else []
    return Outcome(rows, metrics={"logs.lines": len(rows)}, notes=notes)

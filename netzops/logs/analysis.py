"""Log analysis (the runbook's "Log Analysis" greps and the error-rate target).

    logs --since 1h backend | grep -c ERROR   → errors_last_hour   logs.<service>.errors_last_hour
    logs backend | grep "slow query"         → slow_queries
    logs backend | grep "failed login"       → failed_logins      (by user and IP)
    logs backend | grep -i "out of memory"   → out_of_memory
    backend request lines (status ≥ 500)     → request_rates      (per minute, error rate)
    nginx access log (status ≥ 500, rt=)     → nginx_error_rate   (error rate, p50/p95)
    everything, parsed                       → frame              (a pandas DataFrame)

Built for large logs: one pass over the bytes, and only the lines that contain what a check
looks for (found with bytes.find, as grep does) are split and decoded. No regex per line.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from docker import DockerClient

from netzops.containers.status import ENGINE_ERRORS, engine_down
from netzops.findings import Finding, Priority, above
from netzops.logs import parse as lp
from netzops.logs.read import Source, When, parse_when, read
from netzops.quantiles import percentile
from netzops.results import Result
from netzops.targets import Target

if TYPE_CHECKING:
    import pandas as pd

MIN_REQUESTS = 20  # fewer requests in the window: too few to judge an error rate (our choice)
FAILED_LOGINS_PER_IP = 10  # more from one IP in the window: possible password guessing (ours)
SAMPLE = 50  # rows kept of line lists (newest)


def frame(
    client: DockerClient,
    target: Target,
    service: str | None = None,
    since: When = None,
    until: When = None,
    tail: int | None = None,
) -> pd.DataFrame:
    """The logs as a DataFrame (time, service, container, level, message), parsed in one
    pass; the level is best effort across the backend, PostgreSQL, Redis and nginx formats."""
    import pandas as pd

    stamps: list[str] = []
    columns: dict[str, list[str]] = {"service": [], "container": [], "level": [], "message": []}
    for src in read(client, target, service, since, until, tail):
        level = lp.UNKNOWN
        for line in lp.lines(src.blob):
            stamp, payload = lp.split_time(line)
            level, message = lp.level_of(payload, level)
            stamps.append(stamp.decode())
            columns["service"].append(src.service)
            columns["container"].append(src.container)
            columns["level"].append(level.decode())
            columns["message"].append(message.decode(errors="replace"))
    data = pd.DataFrame({"time": pd.to_datetime(stamps, format="ISO8601", utc=True), **columns})
    return data.sort_values("time", kind="stable", ignore_index=True)


_at = lp.stamp_time


def _window(since: datetime | None, until: datetime | None) -> str:
    start = since.isoformat(timespec="seconds") if since else "the first line"
    return f"window: {start} … {until.isoformat(timespec='seconds') if until else 'now'}"


def _matching(
    sources: list[Source], needle: bytes, ignore_case: bool = False
) -> Iterator[tuple[Source, bytes, bytes]]:
    """(source, timestamp, payload) of every line containing `needle`."""
    for src in sources:
        for line in lp.lines_with(src.blob, needle, ignore_case):
            stamp, payload = lp.split_time(line)
            yield src, stamp, payload


def _read(
    client: DockerClient, target: Target, service: str | None, since: When, until: When
) -> tuple[list[Source], str]:
    now = datetime.now(UTC)
    start, end = parse_when(since, now), parse_when(until, now)
    return read(client, target, service, start, end), _window(start, end)


# --- errors in the last hour ----------------------------------------------------------------


@dataclass(frozen=True)
class ErrorKind:
    kind: str
    count: int
    first_seen: datetime | None
    last_seen: datetime | None
    example: str


def errors_last_hour(
    client: DockerClient, target: Target, service: str = "backend", until: When = None
) -> Result:
    """`docker compose logs --since 1h SERVICE | grep -c ERROR` (every replica), with the
    error lines grouped by kind. `until` moves the hour's end (default: now)."""
    check, title = "log_errors", f"Errors in the last hour — {service}"
    end = parse_when(until) or datetime.now(UTC)
    start = parse_when("1h", end)
    try:
        sources, window = _read(client, target, service, start, end)
    except ENGINE_ERRORS as exc:
        return engine_down(check, title, exc)
    kinds: dict[str, list[tuple[bytes, str]]] = defaultdict(list)  # raw stamps sort in time
    for _src, stamp, payload in _matching(sources, b"ERROR"):
        message = lp.level_of(payload)[1].decode(errors="replace")
        kinds[lp.kind(message)].append((stamp, message))
    rows = sorted(
        (
            ErrorKind(k, len(seen), _at(min(seen)[0]), _at(max(seen)[0]), max(seen)[1][:300])
            for k, seen in kinds.items()
        ),
        key=lambda r: (-r.count, r.kind),
    )
    total = sum(r.count for r in rows)
    findings = (
        [Finding(check, service, Priority.P3, f"{total} ERROR lines in the last hour", total)]
        if total
        else []
    )
    return Result.of(
        check, title, rows, findings, {f"logs.{service}.errors_last_hour": total}, notes=[window]
    )


# --- slow queries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SlowQuery:
    query: str
    count: int
    mean_ms: float
    max_ms: float
    last_seen: datetime | None


def slow_queries(
    client: DockerClient,
    target: Target,
    service: str = "backend",
    since: When = None,
    until: When = None,
) -> Result:
    """`logs SERVICE | grep "slow query"` parsed: duration_ms per query text (backend lines;
    PostgreSQL's `duration: … ms` lines when SERVICE is postgres)."""
    check, title = "slow_queries", f"Slow queries — {service}"
    needle = b" duration: " if service == "postgres" else b"slow query"
    try:
        sources, window = _read(client, target, service, since, until)
    except ENGINE_ERRORS as exc:
        return engine_down(check, title, exc)
    by_query: dict[str, list[float]] = defaultdict(list)
    last: dict[str, bytes] = {}  # raw stamps sort in time
    for _src, stamp, payload in _matching(sources, needle):
        parsed = lp.slow_query(payload)
        if parsed:
            by_query[parsed[1]].append(parsed[0])
            last[parsed[1]] = max(last.get(parsed[1], stamp), stamp)
    rows = sorted(
        (
            SlowQuery(q, len(ms), round(sum(ms) / len(ms), 1), max(ms), _at(last[q]))
            for q, ms in by_query.items()
        ),
        key=lambda r: -r.max_ms,
    )
    durations = [ms for values in by_query.values() for ms in values]
    metrics: dict[str, float] = {f"logs.{service}.slow_queries": len(durations)}
    if durations:
        p95 = percentiles(durations, (95,))[0]
        metrics |= {
            f"logs.{service}.slow_query_max_ms": max(durations),
            f"logs.{service}.slow_query_p95_ms": p95,
        }
    findings = (
        [
            Finding(
                check,
                service,
                Priority.P3,
                f"{len(durations)} slow queries, slowest {max(durations):g} ms",
                len(durations),
            )
        ]
        if durations
        else []
    )
    return Result.of(check, title, rows, findings, metrics, notes=[window])


def percentiles(values: list[float], qs: tuple[float, ...] = (50, 95)) -> list[float]:
    """Nearest-rank percentiles (see netzops.quantiles), rounded to µs."""
    return [round(percentile(values, q), 3) for q in qs]


# --- failed logins --------------------------------------------------------------------------


@dataclass(frozen=True)
class FailedLogins:
    user: str
    ip: str
    count: int
    reasons: str
    first_seen: datetime | None
    last_seen: datetime | None


def failed_logins(
    client: DockerClient,
    target: Target,
    service: str = "backend",
    since: When = None,
    until: When = None,
    per_ip: int = FAILED_LOGINS_PER_IP,
) -> Result:
    """`logs backend | grep "failed login"` aggregated by user and IP; an IP with more than
    `per_ip` failures in the window is a P2 finding (password guessing?)."""
    check, title = "failed_logins", f"Failed logins — {service}"
    try:
        sources, window = _read(client, target, service, since, until)
    except ENGINE_ERRORS as exc:
        return engine_down(check, title, exc)
    seen: dict[tuple[str, str], list[bytes]] = defaultdict(list)  # raw stamps sort in time
    reasons: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for _src, stamp, payload in _matching(sources, b"failed login"):
        parsed = lp.failed_login(payload)
        if parsed:
            seen[parsed[:2]].append(stamp)
            reasons[parsed[:2]][parsed[2]] += 1
    rows = sorted(
        (
            FailedLogins(
                u,
                ip,
                len(t),
                ", ".join(f"{r} {n}" for r, n in reasons[u, ip].most_common()),
                _at(min(t)),
                _at(max(t)),
            )
            for (u, ip), t in seen.items()
        ),
        key=lambda r: (-r.count, r.user, r.ip),
    )
    per_address = Counter[str]()
    for row in rows:
        per_address[row.ip] += row.count
    findings = [
        Finding(check, ip, Priority.P2, f"{n} failed logins from {ip}", n, per_ip)
        for ip, n in per_address.most_common()
        if n > per_ip
    ]
    metrics = {
        f"logs.{service}.failed_logins": sum(r.count for r in rows),
        f"logs.{service}.failed_login_users": len({r.user for r in rows}),
        f"logs.{service}.failed_login_ips": len(per_address),
    }
    return Result.of(check, title, rows, findings, metrics, notes=[window])


# --- out of memory --------------------------------------------------------------------------


@dataclass(frozen=True)
class LogHit:
    time: datetime | None
    service: str
    container: str
    message: str


def out_of_memory(
    client: DockerClient,
    target: Target,
    service: str | None = "backend",
    since: When = None,
    until: When = None,
) -> Result:
    """`logs backend | grep -i "out of memory"` (None: every service): each line is a P1
    finding for its container, since the process died or is about to."""
    check, title = "out_of_memory", f"Out-of-memory lines — {service or 'all services'}"
    try:
        sources, window = _read(client, target, service, since, until)
    except ENGINE_ERRORS as exc:
        return engine_down(check, title, exc)
    found = sorted(_matching(sources, b"out of memory", ignore_case=True), key=lambda m: m[1])
    hits = [
        LogHit(_at(stamp), src.service, src.container, payload.decode(errors="replace"))
        for src, stamp, payload in found
    ]
    per_container = Counter(h.container for h in hits)
    findings = [
        Finding(check, name, Priority.P1, f"{n} out-of-memory line(s)", n)
        for name, n in per_container.items()
    ]
    return Result.of(
        check,
        title,
        hits[-SAMPLE:],
        findings,
        {f"logs.{service or 'all'}.out_of_memory": len(hits)},
        notes=[window],
    )


# --- error rates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Minute:
    minute: datetime | None
    error_lines: int
    requests: int
    errors_5xx: int
    error_rate_percent: float | None


def _rate(errors: int, requests: int) -> float | None:
    return round(errors / requests * 100.0, 2) if requests else None


def _rate_finding(
    check: str, subject: str, errors: int, requests: int, target: Target, min_requests: int
) -> list[Finding]:
    rate = _rate(errors, requests)
    if rate is None or requests < min_requests:
        return []
    found = above(check, subject, rate, target.bands["error_rate_percent"], "error rate %")
    return [found] if found else []


def request_rates(
    client: DockerClient,
    target: Target,
    service: str = "backend",
    since: When = "1h",
    until: When = None,
    min_requests: int = MIN_REQUESTS,
) -> Result:
    """ERROR lines, requests and 5xx responses per minute from the backend's
    `request … status=…` lines, and the error rate (status ≥ 500 / all requests) against
    the runbook's target (< 1 %; > 5 % is P1). Judged only with ≥ `min_requests` requests."""
    check, title = "request_error_rate", f"Requests and error rate — {service}"
    try:
        sources, window = _read(client, target, service, since, until)
    except ENGINE_ERRORS as exc:
        return engine_down(check, title, exc)
    errors: Counter[bytes] = Counter()
    requests: Counter[bytes] = Counter()
    failed: Counter[bytes] = Counter()
    for src in sources:  # a line starts with Docker's timestamp: [:16] is its minute
        errors.update(line[:16] for line in lp.lines_with(src.blob, b" ERROR "))
        seen, server_errors = lp.requests_per_minute(src.blob)
        requests.update(seen)
        failed.update(server_errors)
    rows = [
        Minute(_at(m + b":00Z"), errors[m], requests[m], failed[m], _rate(failed[m], requests[m]))
        for m in sorted(errors.keys() | requests.keys())
    ]
    total, bad = sum(requests.values()), sum(failed.values())
    metrics: dict[str, float] = {
        f"logs.{service}.requests": total,
        f"logs.{service}.errors_5xx": bad,
    }
    if total:
        metrics[f"logs.{service}.error_rate_percent"] = _rate(bad, total) or 0.0
    return Result.of(
        check,
        title,
        rows,
        _rate_finding(check, service, bad, total, target, min_requests),
        metrics,
        notes=[window],
    )


@dataclass(frozen=True)
class StatusCount:
    status: int
    count: int
    percent: float


def nginx_error_rate(
    client: DockerClient,
    target: Target,
    service: str = "frontend",
    since: When = "1h",
    until: When = None,
    min_requests: int = MIN_REQUESTS,
) -> Result:
    """The nginx access log (`timed` format): requests per status, the error rate (status
    ≥ 500 over all) against the runbook's target, and p50/p95 of the request time rt=."""
    check, title = "nginx_error_rate", f"nginx access log — {service}"
    try:
        sources, window = _read(client, target, service, since, until)
    except ENGINE_ERRORS as exc:
        return engine_down(check, title, exc)
    statuses: Counter[int] = Counter()
    times: list[float] = []
    for src in sources:
        for line in lp.lines_with(src.blob, b'] "'):
            status = lp.access_status(line)
            if status is None:
                continue
            statuses[status] += 1
            rt = lp.access_rt_ms(line)
            if rt is not None:
                times.append(rt)
    total = sum(statuses.values())
    bad = sum(n for s, n in statuses.items() if s >= 500)
    rows = [StatusCount(s, n, round(n / total * 100.0, 2)) for s, n in sorted(statuses.items())]
    metrics: dict[str, float] = {
        f"logs.{service}.requests": total,
        f"logs.{service}.errors_5xx": bad,
    }
    if total:
        metrics[f"logs.{service}.error_rate_percent"] = _rate(bad, total) or 0.0
    if times:
        p50, p95 = percentiles(times)
        metrics |= {f"logs.{service}.rt_p50_ms": p50, f"logs.{service}.rt_p95_ms": p95}
    return Result.of(
        check,
        title,
        rows,
        _rate_finding(check, service, bad, total, target, min_requests),
        metrics,
        notes=[window],
    )

"""Log analysis (the runbook's "Log Analysis" greps and the error-rate target).

    logs --since 1h backend | grep -c ERROR   → errors_last_hour   logs.<service>.errors_last_hour
    logs backend | grep "slow query"         → slow_queries
    logs backend | grep "failed login"       → failed_logins      (by user and IP)
    logs backend | grep -i "out of memory"   → out_of_memory
    backend request lines (status ≥ 500)     → request_rates      (per minute, error rate)
    nginx access log (status ≥ 500, rt=)     → nginx_error_rate   (error rate, p50/p95)
    both over the last 5 minutes             → request_rates_recent, nginx_error_rate_recent
    everything, parsed                       → frame              (a pandas DataFrame)

Built for large logs: each service's log is streamed once per run into one pass that
computes every analysis in bounded memory (`netzops.logs.scan`, `netzops.logs.live`); each
check reads its part of that tally. A replica whose log driver cannot be read back is named
in the notes and the `logs.<service>.unavailable_replicas` metric, never an engine failure.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from docker import DockerClient

from netzops.checks import Outcome
from netzops.findings import Finding, Priority, above
from netzops.logs import live
from netzops.logs import parse as lp
from netzops.logs.read import When, check, read
from netzops.logs.scan import Tally
from netzops.quantiles import percentile
from netzops.targets import Target

if TYPE_CHECKING:
    import pandas as pd

MIN_REQUESTS = 20  # fewer requests in the window: too few to judge an error rate (our choice)
SHORT_WINDOW = "5m"  # error rates are judged over the last 5 minutes as well as the hour (issue 12)
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


# --- errors in the last hour ----------------------------------------------------------------


@dataclass(frozen=True)
class ErrorKind:
    kind: str
    count: int
    first_seen: datetime | None
    last_seen: datetime | None
    example: str


def _notes(tally: Tally, since: datetime | None, until: datetime | None) -> list[str]:
    notes = [_window(since, until)]
    if tally.unavailable:
        names = ", ".join(tally.unavailable)
        notes.append(f"logs unavailable (log driver cannot be read back): {names}")
    return notes


def _unavailable(service: str, tally: Tally) -> dict[str, float]:
    return {f"logs.{service}.unavailable_replicas": len(tally.unavailable)}


@check("log_errors", "Errors in the last hour — {service}")
def errors_last_hour(
    client: DockerClient, target: Target, service: str = "backend", until: When = None
) -> Outcome:
    """`docker compose logs --since 1h SERVICE | grep -c ERROR` (every replica), with the
    error lines grouped by kind. `until` moves the hour's end (default: now)."""
    check = "log_errors"
    end = live.window(None, until)[1]
    tally, start, end = live.tally(client, target, service, end - live.RECENT, end)
    rows = sorted(
        (
            ErrorKind(k, v.count, _at(v.first), _at(v.last), v.example)
            for k, v in tally.kinds.items()
        ),
        key=lambda r: (-r.count, r.kind),
    )
    total = tally.errors_recent
    findings = (
        [Finding(check, service, Priority.P3, f"{total} ERROR lines in the last hour", total)]
        if total
        else []
    )
    metrics = {f"logs.{service}.errors_last_hour": float(total), **_unavailable(service, tally)}
    return Outcome(rows, findings, metrics, notes=_notes(tally, start, end))


# --- slow queries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SlowQuery:
    query: str
    count: int
    mean_ms: float
    max_ms: float
    last_seen: datetime | None


def _quantile(histogram: Counter[float], q: float) -> float:
    """Nearest-rank percentile `q` of the values counted in `histogram`."""
    rank, seen = max(1, -(-q * sum(histogram.values()) // 100)), 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    raise ValueError("empty histogram")


@check("slow_queries", "Slow queries — {service}")
def slow_queries(
    client: DockerClient,
    target: Target,
    service: str = "backend",
    since: When = None,
    until: When = None,
) -> Outcome:
    """`logs SERVICE | grep "slow query"` parsed: duration_ms per query text (backend lines;
    PostgreSQL's `duration: … ms` lines when SERVICE is postgres). Durations that are not
    finite numbers (NaN, Infinity) are skipped and counted in `…slow_query_non_finite`."""
    check = "slow_queries"
    tally, start, end = live.tally(client, target, service, since, until)
    table, values = (
        (tally.pg_slow, tally.pg_slow_ms) if service == "postgres" else (tally.slow, tally.slow_ms)
    )
    rows = sorted(
        (
            SlowQuery(q, s.count, round(s.total / s.count, 1), s.max, _at(s.last))
            for q, s in table.items()
        ),
        key=lambda r: -r.max_ms,
    )
    count = sum(values.values())
    metrics: dict[str, float] = {f"logs.{service}.slow_queries": count}
    metrics |= _unavailable(service, tally)
    notes = _notes(tally, start, end)
    if tally.non_finite:
        metrics[f"logs.{service}.slow_query_non_finite"] = tally.non_finite
        notes.append(f"{tally.non_finite} slow-query line(s) without a finite duration skipped")
    if count:
        top = max(values)
        metrics |= {
            f"logs.{service}.slow_query_max_ms": top,
            f"logs.{service}.slow_query_p95_ms": round(_quantile(values, 95), 3),
        }
    findings = (
        [Finding(check, service, Priority.P3, f"{count} slow queries, slowest {top:g} ms", count)]
        if count
        else []
    )
    return Outcome(rows, findings, metrics, notes=notes)


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


@check("failed_logins", "Failed logins — {service}")
def failed_logins(
    client: DockerClient,
    target: Target,
    service: str = "backend",
    since: When = None,
    until: When = None,
    per_ip: int | None = None,
) -> Outcome:
    """`logs backend | grep "failed login"` aggregated by user and IP; an IP with more than
    `per_ip` failures in the window is a P2 finding (password guessing?). Default: the
    target's `failed_logins_per_ip` threshold (data/thresholds.yaml: 10)."""
    check = "failed_logins"
    limit = per_ip if per_ip is not None else int(target.bands["failed_logins_per_ip"].warn or 0)
    tally, start, end = live.tally(client, target, service, since, until)
    rows = sorted(
        (
            FailedLogins(
                u,
                ip,
                seen.count,
                ", ".join(f"{r} {n}" for r, n in seen.reasons.most_common()),
                _at(seen.first),
                _at(seen.last),
            )
            for (u, ip), seen in tally.logins.items()
        ),
        key=lambda r: (-r.count, r.user, r.ip),
    )
    per_address = Counter[str]()
    for row in rows:
        per_address[row.ip] += row.count
    findings = [
        Finding(check, ip, Priority.P2, f"{n} failed logins from {ip}", n, limit)
        for ip, n in per_address.most_common()
        if n > limit
    ]
    metrics = {
        f"logs.{service}.failed_logins": sum(r.count for r in rows),
        f"logs.{service}.failed_login_users": len({r.user for r in rows}),
        f"logs.{service}.failed_login_ips": len(per_address),
        **_unavailable(service, tally),
    }
    return Outcome(rows, findings, metrics, notes=_notes(tally, start, end))


# --- out of memory --------------------------------------------------------------------------


@dataclass(frozen=True)
class LogHit:
    time: datetime | None
    service: str
    container: str
    message: str


@check("out_of_memory", "Out-of-memory lines — {service}")
def out_of_memory(
    client: DockerClient,
    target: Target,
    service: str | None = "backend",
    since: When = None,
    until: When = None,
) -> Outcome:
    """`logs backend | grep -i "out of memory"` (None: every service): each line is a P1
    finding for its container, since the process died or is about to."""
    check = "out_of_memory"
    chosen = target.service_or_all(service)
    services = [chosen] if chosen else list(target.services)
    tallies = [(s, *live.tally(client, target, s, since, until)) for s in services]
    hits = sorted(
        (stamp, name, container, payload)
        for name, tally, _, _ in tallies
        for stamp, container, payload in tally.oom_lines
    )
    rows = [
        LogHit(_at(stamp), name, container, payload.decode(errors="replace"))
        for stamp, name, container, payload in hits[-SAMPLE:]
    ]
    per_container = Counter(h.container for h in rows)
    findings = [
        Finding(check, name, Priority.P1, f"{n} out-of-memory line(s)", n)
        for name, n in per_container.items()
    ]
    merged = Tally()
    for _, tally, _, _ in tallies:
        merged.unavailable += tally.unavailable
    start, end = tallies[0][2:] if tallies else (None, None)
    total = sum(t.oom for _, t, _, _ in tallies)
    metrics = {f"logs.{service or 'all'}.out_of_memory": float(total)}
    return Outcome(rows, findings, metrics, notes=_notes(merged, start, end))


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


def _request_rates(
    client: DockerClient,
    target: Target,
    service: str,
    since: When,
    until: When,
    min_requests: int,
    check: str = "request_error_rate",
) -> Outcome:
    tally, start, end = live.tally(client, target, service, since, until)
    errors, requests, failed = tally.error_minutes, tally.requests, tally.server_errors
    rows = [
        Minute(_at(m + b":00Z"), errors[m], requests[m], failed[m], _rate(failed[m], requests[m]))
        for m in sorted(errors.keys() | requests.keys())
    ]
    total, bad = sum(requests.values()), sum(failed.values())
    metrics: dict[str, float] = {
        f"logs.{service}.requests": total,
        f"logs.{service}.errors_5xx": bad,
        **_unavailable(service, tally),
    }
    if total:
        metrics[f"logs.{service}.error_rate_percent"] = _rate(bad, total) or 0.0
    return Outcome(
        rows,
        _rate_finding(check, service, bad, total, target, min_requests),
        metrics,
        notes=_notes(tally, start, end),
    )


@check("request_error_rate", "Requests and error rate — {service}")
def request_rates(
    client: DockerClient,
    target: Target,
    service: str = "backend",
    since: When = "1h",
    until: When = None,
    min_requests: int = MIN_REQUESTS,
) -> Outcome:
    """ERROR lines, requests and 5xx responses per minute from the backend's
    `request … status=…` lines, and the error rate (status ≥ 500 / all requests) against
    the runbook's target (< 1 %; > 5 % is P1). Judged only with ≥ `min_requests` requests.
    The short window has a check of its own: `request_rates_recent`."""
    return _request_rates(client, target, service, since, until, min_requests)


def _recent(outcome: Outcome, check: str) -> Outcome:
    """The outcome over SHORT_WINDOW, told apart from the hour's: findings named `check`
    and saying "last 5 minutes", metrics with `.5m` before their last part."""
    outcome.findings = [
        replace(f, check=check, summary=f"{f.summary} (last 5 minutes)") for f in outcome.findings
    ]
    outcome.metrics = {
        f"{k.rpartition('.')[0]}.5m.{k.rpartition('.')[2]}": v for k, v in outcome.metrics.items()
    }
    return outcome


@check("request_error_rate_recent", "Requests and error rate — {service} — last 5 minutes")
def request_rates_recent(
    client: DockerClient,
    target: Target,
    service: str = "backend",
    until: When = None,
    min_requests: int = MIN_REQUESTS,
) -> Outcome:
    """`request_rates` over the last 5 minutes (SHORT_WINDOW), as every notebook and the
    alert sweep judge the short window: findings `request_error_rate_recent`, metrics
    `logs.<service>.5m.<name>` (e.g. `logs.backend.5m.error_rate_percent`)."""
    check = "request_error_rate_recent"
    done = _request_rates(client, target, service, SHORT_WINDOW, until, min_requests, check)
    return _recent(done, check)


@dataclass(frozen=True)
class StatusCount:
    status: int
    count: int
    percent: float


def _nginx_error_rate(
    client: DockerClient,
    target: Target,
    service: str,
    since: When,
    until: When,
    min_requests: int,
    check: str = "nginx_error_rate",
) -> Outcome:
    tally, start, end = live.tally(client, target, service, since, until)
    statuses = tally.statuses
    total = sum(statuses.values())
    bad = sum(n for s, n in statuses.items() if s >= 500)
    rows = [StatusCount(s, n, round(n / total * 100.0, 2)) for s, n in sorted(statuses.items())]
    metrics: dict[str, float] = {
        f"logs.{service}.requests": total,
        f"logs.{service}.errors_5xx": bad,
        **_unavailable(service, tally),
    }
    if total:
        metrics[f"logs.{service}.error_rate_percent"] = _rate(bad, total) or 0.0
    if tally.rt_ms:
        metrics |= {
            f"logs.{service}.rt_p50_ms": round(_quantile(tally.rt_ms, 50), 3),
            f"logs.{service}.rt_p95_ms": round(_quantile(tally.rt_ms, 95), 3),
        }
    return Outcome(
        rows,
        _rate_finding(check, service, bad, total, target, min_requests),
        metrics,
        notes=_notes(tally, start, end),
    )


@check("nginx_error_rate", "nginx access log — {service}")
def nginx_error_rate(
    client: DockerClient,
    target: Target,
    service: str = "frontend",
    since: When = "1h",
    until: When = None,
    min_requests: int = MIN_REQUESTS,
) -> Outcome:
    """The nginx access log (`timed` format): requests per status, the error rate (status
    ≥ 500 over all) against the runbook's target, and p50/p95 of the request time rt=.
    The short window has a check of its own: `nginx_error_rate_recent`."""
    return _nginx_error_rate(client, target, service, since, until, min_requests)


@check("nginx_error_rate_recent", "nginx access log — {service} — last 5 minutes")
def nginx_error_rate_recent(
    client: DockerClient,
    target: Target,
    service: str = "frontend",
    until: When = None,
    min_requests: int = MIN_REQUESTS,
) -> Outcome:
    """`nginx_error_rate` over the last 5 minutes (SHORT_WINDOW), named apart from the
    hour's like `request_rates_recent`."""
    check = "nginx_error_rate_recent"
    done = _nginx_error_rate(client, target, service, SHORT_WINDOW, until, min_requests, check)
    return _recent(done, check)

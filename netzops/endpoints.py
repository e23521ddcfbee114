"""HTTP endpoints: the runbook's health checks and response-time sampling (httpx)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from itertools import takewhile
from urllib.parse import urlsplit

import httpx
from docker import DockerClient

from netzops import containers
from netzops.checks import Outcome, checker
from netzops.errors import BadInput
from netzops.findings import Band, Finding, Priority, above, thresholds
from netzops.quantiles import percentile
from netzops.results import Result
from netzops.targets import Target


@dataclass(frozen=True)
class Probe:
    name: str
    url: str
    status: int | None
    latency_ms: float | None
    ok: bool
    error: str


def client(target: Target) -> httpx.Client:
    """An HTTP client with the target's TLS policy and timeouts."""
    return httpx.Client(
        verify=target.http.verify_tls, timeout=target.http.timeout_s, follow_redirects=False
    )


def probe(http: httpx.Client, name: str, url: str) -> Probe:
    """GET `url` once: status and latency, or the error that stopped it."""
    start = time.perf_counter()
    try:
        response = http.get(url)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return Probe(name, url, None, None, False, f"{type(exc).__name__}: {exc}"[:200])
    latency = round((time.perf_counter() - start) * 1000.0, 1)
    return Probe(name, url, response.status_code, latency, response.is_success, "")


def service_urls(target: Target, url: str, docker: DockerClient | None = None) -> dict[str, str]:
    """`url` as {name: url}. A `compose://SERVICE:PORT` URL names every running replica of
    that service by its published host port (replicas of a scaled service get ports from a
    range, so no single URL reaches them all), asked of the engine through `docker` (the
    caller's client; without one, a client made and closed for this call). Raises one of
    `containers.ENGINE_ERRORS` when the engine does not answer (`health` makes it a finding)."""
    if not url.startswith("compose://"):
        return {"": url}
    if docker is None:
        own = containers.connect(target)
        try:
            return service_urls(target, url, own)
        finally:
            own.close()
    service, _, port = url.removeprefix("compose://").partition(":")
    urls = {}
    for c in containers.project_containers(docker, target.compose.project, service):
        binds = (c.attrs["NetworkSettings"].get("Ports") or {}).get(f"{port}/tcp") or []
        if c.status == "running" and binds:
            replica = c.labels.get(containers.NUMBER, "1")
            urls[f"-{replica}"] = f"http://127.0.0.1:{binds[0]['HostPort']}"
    if len(urls) == 1:
        return {"": next(iter(urls.values()))}
    return urls or {"": f"http://{service}.invalid:{port}"}  # none running: the probe fails


def health_urls(target: Target, docker: DockerClient | None = None) -> dict[str, str]:
    """The runbook's HTTP health checks: frontend GET /health, backend GET /api/users
    (every backend replica when the target reaches them through compose; engine errors
    raise as in `service_urls`)."""
    checks = {"frontend": target.http.frontend_url.rstrip("/") + "/health"}
    for suffix, url in service_urls(target, target.http.backend_url, docker).items():
        checks[f"backend{suffix}"] = url.rstrip("/") + "/api/users"
    return checks


def _unresolved(target: Target, exc: BaseException) -> Finding:
    """The finding for backend replicas the engine could not name: that check is not made,
    the others are (the engine itself is service_status's P0)."""
    why = f"{type(exc).__name__}: {exc}"[:160]
    return Finding(
        "http_health",
        "backend",
        Priority.P2,
        f"backend health not checked: its replicas ({target.http.backend_url}) are found "
        f"through the Docker engine, which did not answer ({why})",
    )


def _failed(check: str, title: str, exc: Exception) -> Result:
    """The HTTP client itself failed (not one request: those are rows): P1."""
    why = f"HTTP client failed: {type(exc).__name__}: {exc}"[:240]
    return Result.of(check, title, findings=[Finding(check, "http", Priority.P1, why)])


#: The HTTP check decorator (see `netzops.checks`).
check = checker("endpoints", (httpx.HTTPError,), _failed)


@check("http_health", "HTTP health checks")
def health(http: httpx.Client, target: Target, docker: DockerClient | None = None) -> Outcome:
    """The HTTP health checks with status and latency, against the 200 ms budget. Backend
    replicas behind a `compose://` URL are found through `docker` (see `service_urls`); an
    engine that does not answer leaves that one check out with a P2 finding."""
    findings: list[Finding] = []
    try:
        urls = health_urls(target, docker)
    except containers.ENGINE_ERRORS as exc:
        urls = {"frontend": target.http.frontend_url.rstrip("/") + "/health"}
        findings.append(_unresolved(target, exc))
    probes = [probe(http, name, url) for name, url in urls.items()]
    metrics: dict[str, float] = {}
    for p in probes:
        metrics[f"http.{p.name}.up"] = float(p.ok)
        if not p.ok:
            why = p.error or f"HTTP {p.status}"
            findings.append(
                Finding("http_health", p.name, Priority.P0, f"health check failed: {why}")
            )
            continue
        assert p.latency_ms is not None
        metrics[f"http.{p.name}.latency_ms"] = p.latency_ms
        slow = above(
            "http_health", p.name, p.latency_ms, target.bands["api_response_ms"], "response time ms"
        )
        if slow:
            findings.append(slow)
    return Outcome(probes, findings, metrics)


# --- response-time sampling (runbook: time curl -o /dev/null -s -w '%{time_total}' URL) -------


@dataclass(frozen=True)
class ResponseTimes:
    name: str
    url: str
    requests: int
    errors: int  # transport errors and non-2xx answers
    p50_ms: float | None  # percentiles over the answered requests (nearest rank)
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    first_error: str


def _sample_name(url: str) -> str:
    parts = urlsplit(url)
    return re.sub(
        r"[^a-z0-9]+", "_", f"{parts.hostname}_{parts.port or ''}{parts.path}".lower()
    ).strip("_")


@check("http_sample", "Response times of {url}")
def sample(
    http: httpx.Client,
    url: str,
    count: int = 20,
    *,
    name: str | None = None,
    target: Target | None = None,
    pause_s: float = 0.0,
    give_up_after: int = 2,
    budget_s: float | None = None,
) -> Outcome:
    """GET `url` up to `count` times, one after another: p50/p95/p99/max and errors. The
    p95 is judged against the API budget (api_response_ms), the error share against
    error_rate_percent; no answer at all is P0 (as in the health checks). A hanging or
    crawling service is told in seconds, not in `count` slow requests: sampling stops after
    `give_up_after` requests in a row timed out (each waited out the client's timeout), and
    once it has taken `budget_s` seconds (default: twice the client's read timeout; a note
    gives how many requests were sent). BadInput for count < 1 or a budget ≤ 0."""
    if count < 1:
        raise BadInput(f"count must be at least 1, not {count}")
    budget = _budget(http, budget_s)
    label = name or _sample_name(url)
    probes: list[Probe] = []
    notes: list[str] = []
    start = time.monotonic()
    for i in range(count):
        probes.append(probe(http, label, url))
        unanswered = list(takewhile(_timed_out, reversed(probes)))
        if give_up_after and len(unanswered) >= give_up_after:
            probes[-1] = replace(
                probes[-1], error=f"{probes[-1].error} (stopped after {len(unanswered)} in a row)"
            )
            break
        spent = time.monotonic() - start
        if budget is not None and spent >= budget and i < count - 1:
            notes.append(
                f"{label}: sampling stopped after {spent:.1f} s (budget {budget:g} s): "
                f"{i + 1} of {count} requests sent"
            )
            break
        if pause_s and i < count - 1:
            time.sleep(pause_s)
    times = [p.latency_ms for p in probes if p.latency_ms is not None]
    failed = [p for p in probes if not p.ok]
    first = (failed[0].error or f"HTTP {failed[0].status}") if failed else ""
    p50, p95, p99 = (percentile(times, q) for q in (50, 95, 99)) if times else (None,) * 3
    row = ResponseTimes(
        label, url, len(probes), len(failed), p50, p95, p99, max(times) if times else None, first
    )
    bands = target.bands if target else thresholds()
    findings = _sample_findings(row, bands)
    return Outcome([row], findings, _sample_metrics(row), notes, title=f"Response times of {label}")


def _budget(http: httpx.Client, budget_s: float | None) -> float | None:
    """The sampling budget in seconds: `budget_s`, else twice the client's read timeout
    (None: the client waits forever, and so may the sampling)."""
    if budget_s is not None:
        if budget_s <= 0:
            raise BadInput(f"budget_s must be above 0 s, not {budget_s}")
        return budget_s
    read = http.timeout.read
    return None if read is None else 2 * read


def sample_url(target: Target, name: str) -> str:
    """The URL of the target's sampled endpoint `name` (`http.samples`: page, api, sites)."""
    path = target.http.samples.get(name)
    if path is None:
        known = ", ".join(target.http.samples)
        raise BadInput(f"no sampled endpoint {name!r} in target {target.name}; known: {known}")
    return target.http.frontend_url.rstrip("/") + path


def response_times(
    http: httpx.Client, target: Target, names: tuple[str, ...] = ("page", "api"), count: int = 20
) -> list[Result]:
    """`sample` of each named endpoint of the target (see `sample_url`), one Result each."""
    return [sample(http, sample_url(target, n), count, name=n, target=target) for n in names]


def _timed_out(p: Probe) -> bool:
    """The request got no answer within the client's timeout (httpx's *Timeout errors)."""
    return p.status is None and p.error.partition(":")[0].endswith("Timeout")


def _sample_metrics(row: ResponseTimes) -> dict[str, float]:
    prefix = f"http.{row.name}"
    metrics = {
        f"{prefix}.errors": float(row.errors),
        f"{prefix}.error_rate_percent": round(row.errors * 100.0 / row.requests, 2),
    }
    for field_name in ("p50_ms", "p95_ms", "p99_ms", "max_ms"):
        value = getattr(row, field_name)
        if value is not None:
            metrics[f"{prefix}.{field_name}"] = float(value)
    return metrics


def _sample_findings(row: ResponseTimes, bands: dict[str, Band]) -> list[Finding]:
    if row.p95_ms is None:
        return [
            Finding(
                "http_sample",
                row.name,
                Priority.P0,
                f"no answer in {row.requests} requests: {row.first_error}",
            )
        ]
    found = [
        above(
            "http_sample", row.name, row.p95_ms, bands["api_response_ms"], "p95 response time ms"
        ),
        above(
            "http_sample",
            row.name,
            round(row.errors * 100.0 / row.requests, 2),
            bands["error_rate_percent"],
            f"error rate % (first: {row.first_error})",
        ),
    ]
    return [f for f in found if f]

"""HTTP endpoints: the runbook's health checks and response-time sampling (httpx)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from netzops import containers
from netzops.findings import Finding, Priority
from netzops.results import Result
from netzops.targets import Target
from netzops.thresholds import above


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
    return httpx.Client(verify=target.http.verify_tls, timeout=target.http.timeout_s,
                        follow_redirects=False)


def probe(http: httpx.Client, name: str, url: str) -> Probe:
    """GET `url` once: status and latency, or the error that stopped it."""
    start = time.perf_counter()
    try:
        response = http.get(url)
    except httpx.HTTPError as exc:
        return Probe(name, url, None, None, False, f"{type(exc).__name__}: {exc}"[:200])
    latency = round((time.perf_counter() - start) * 1000.0, 1)
    return Probe(name, url, response.status_code, latency, response.is_success, "")


def service_urls(target: Target, url: str) -> dict[str, str]:
    """`url` as {name: url}. A `compose://SERVICE:PORT` URL names every running replica of
    that service by its published host port (replicas of a scaled service get ports from a
    range, so no single URL reaches them all)."""
    if not url.startswith("compose://"):
        return {"": url}
    service, _, port = url.removeprefix("compose://").partition(":")
    client = containers.connect(target)
    urls = {}
    for c in containers.project_containers(client, target.compose.project, service):
        binds = (c.attrs["NetworkSettings"].get("Ports") or {}).get(f"{port}/tcp") or []
        if c.status == "running" and binds:
            replica = c.labels.get(containers.NUMBER, "1")
            urls[f"-{replica}"] = f"http://127.0.0.1:{binds[0]['HostPort']}"
    if len(urls) == 1:
        return {"": next(iter(urls.values()))}
    return urls or {"": f"http://{service}.invalid:{port}"}  # none running: the probe fails


def health_urls(target: Target) -> dict[str, str]:
    """The runbook's HTTP health checks: frontend GET /health, backend GET /api/users
    (every backend replica when the target reaches them through compose)."""
    checks = {"frontend": target.http.frontend_url.rstrip("/") + "/health"}
    for suffix, url in service_urls(target, target.http.backend_url).items():
        checks[f"backend{suffix}"] = url.rstrip("/") + "/api/users"
    return checks


def health(http: httpx.Client, target: Target) -> Result:
    """The HTTP health checks with status and latency, against the 200 ms budget."""
    probes = [probe(http, name, url) for name, url in health_urls(target).items()]
    findings: list[Finding] = []
    metrics: dict[str, float] = {}
    for p in probes:
        metrics[f"http.{p.name}.up"] = float(p.ok)
        if not p.ok:
            why = p.error or f"HTTP {p.status}"
            findings.append(Finding("http_health", p.name, Priority.P0, f"health check failed: {why}"))
            continue
        assert p.latency_ms is not None
        metrics[f"http.{p.name}.latency_ms"] = p.latency_ms
        slow = above("http_health", p.name, p.latency_ms, target.bands["api_response_ms"],
                     "response time ms")
        if slow:
            findings.append(slow)
    return Result.of("http_health", "HTTP health checks", probes, findings, metrics)

"""Every read-only check of a target in one pass: the input of alert evaluation,
automatic troubleshooting and escalation. Each check bounds its own time and turns an
unreachable service into a finding, so a sweep always completes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from netzops import cache, certs, containers, endpoints, host, logs, postgres
from netzops.findings import worst
from netzops.results import Result
from netzops.targets import Target
from netzops.triage.clients import Clients

Check = Callable[[], Result]


def registry(target: Target, clients: Clients) -> dict[str, Check]:
    """The sweep's checks by name, bound to the shared, lazily created `clients`."""
    c = clients
    api = target.http.frontend_url.rstrip("/") + "/api/users"
    return {
        "service_status": lambda: containers.service_status(c.docker, target),
        "container_stats": lambda: containers.stats(c.docker, target),
        "http_health": lambda: endpoints.health(c.http, target),
        "api_response": lambda: endpoints.sample(c.http, api, count=20, name="api", target=target),
        "postgres_ping": lambda: postgres.ping(c.db),
        "postgres_connections": lambda: postgres.connections(c.db),
        "postgres_long_queries": lambda: postgres.long_running_queries(c.db),
        "redis_ping": lambda: cache.ping(c.redis),
        "redis_memory": lambda: cache.memory(c.redis, target),
        "tls": lambda: certs.check(target),
        "host_disks": lambda: host.disks(target),
        "host_memory": lambda: host.memory(target),
        "errors_last_hour": lambda: logs.errors_last_hour(c.docker, target),
        "backend_error_rate": lambda: logs.request_rates(c.docker, target),
        "nginx_error_rate": lambda: logs.nginx_error_rate(c.docker, target),
        "out_of_memory": lambda: logs.out_of_memory(c.docker, target, service=None, since="1h"),
    }


def run(target: Target, only: list[str] | None = None) -> list[Result]:
    """The results of every check (or of the named ones), in registry order."""
    clients = Clients(target)
    try:
        checks = registry(target, clients)
        unknown = sorted(set(only or []) - set(checks))
        if unknown:
            raise ValueError(f"unknown checks {unknown}; known: {', '.join(checks)}")
        return [check() for name, check in checks.items() if not only or name in only]
    finally:
        clients.close()


@dataclass(frozen=True)
class CheckSummary:
    check: str
    title: str
    worst: str
    findings: int


def summary(results: list[Result]) -> Result:
    """One row per check with its worst priority, and every check's metrics. Findings stay
    with whoever shows them next (e.g. incidents.responses), so none is counted twice."""
    rows = []
    metrics: dict[str, float] = {}
    for r in results:
        top = worst(r.findings)
        rows.append(
            CheckSummary(r.check, r.title, top.name if top is not None else "ok", len(r.findings))
        )
        metrics.update(r.metrics)
    return Result.of("sweep", f"{len(results)} checks", rows, metrics=metrics)

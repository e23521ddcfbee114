"""The runbook's Troubleshooting Guide as data: seven scenarios, each a set of diagnoses
(checks) and a rule for when what they found matches the scenario's symptoms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from netzops import (
    cache,
    certs,
    container_logs,
    containers,
    docker_system,
    endpoints,
    logs,
    pg_activity,
    pg_users,
    postgres,
)
from netzops.errors import BadInput
from netzops.findings import Finding, Priority
from netzops.results import Result
from netzops.targets import Target

Diagnosis = Callable[[Target], Result]


def _status(t: Target) -> Result:
    return containers.service_status(containers.connect(t), t)


def _stats(t: Target) -> Result:
    return containers.stats(containers.connect(t), t)


def _tail(service: str | None, pattern: str | None = None) -> Diagnosis:
    def diagnose(t: Target) -> Result:
        return container_logs.logs(containers.connect(t), t, service, tail=50, since="1h",
                                   pattern=pattern, ignore_case=True)
    return diagnose


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    symptoms: str
    diagnoses: tuple[Diagnosis, ...]
    resolution: tuple[str, ...]


SCENARIOS = {s.name: s for s in (
    Scenario("service-wont-start", "Service Won't Start",
             "container exits immediately after starting",
             (_status, lambda t: docker_system.config_check(t),
              lambda t: containers.env_names(containers.connect(t), t, "backend"),
              lambda t: docker_system.port_conflicts(containers.connect(t), t),
              _tail(None, "fatal")),
             ("fix the environment (.env) and the compose file", "free the conflicting port",
              "check that postgres is running", "restart fresh (restart-scale notebook)")),
    Scenario("database-connection", "Database Connection Errors",
             '"Connection refused" or "Connection timeout" in backend logs',
             (lambda t: postgres.ping(postgres.connect(t)),
              lambda t: pg_activity.connections(postgres.connect(t)),
              _tail("postgres"), _tail("backend", "database error")),
             ("restart postgres, wait for its health check", "restart the backend")),
    Scenario("redis-connection", "Redis Connection Issues",
             "session errors, authentication failures",
             (lambda t: cache.ping(cache.connect(t)), _tail("redis"),
              _tail("backend", "redis error")),
             ("restart redis", "clear corrupted data only as a last resort (cache notebook)")),
    Scenario("slow-performance", "Slow Performance", "application responds slowly, timeouts",
             (_stats, lambda t: endpoints.sample(endpoints.client(t), t.http.frontend_url
                                                 .rstrip("/") + "/api/sites", 20, name="api",
                                                 target=t),
              lambda t: pg_activity.active_queries(postgres.connect(t)),
              lambda t: logs.slow_queries(containers.connect(t), t, since="1h"),
              lambda t: cache.stats(cache.connect(t), t, interval_s=2.0)),
             ("VACUUM ANALYZE (database notebook)", "scale the backend (restart-scale notebook)",
              "see the performance notebook")),
    Scenario("high-memory", "High Memory Usage", "container restarts, OOM errors",
             (_stats, _status,
              lambda t: logs.out_of_memory(containers.connect(t), t, service=None),
              lambda t: containers.node_heap(containers.connect(t), t),
              _tail("backend", "memory")),
             ("restart the affected container", "raise its memory limit in the compose file")),
    Scenario("login-issues", "Login Issues", "users cannot authenticate",
             (lambda t: logs.failed_logins(containers.connect(t), t, since="1h"),
              lambda t: cache.keys(cache.connect(t), "session:*"),
              lambda t: pg_users.users(postgres.connect(t)),
              lambda t: containers.env_names(containers.connect(t), t, "backend")),
             ("clear sessions (cache notebook, guarded)", "restart the backend",
              "reset the user's password in the application")),
    Scenario("ssl-certificate", "SSL Certificate Issues", "HTTPS not working, warnings",
             (lambda t: certs.check(t),),
             ("renew the certificate (certbot renew)", "reload nginx")),
)}


def scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise BadInput(f"unknown symptom {name!r}; use auto or one of: "
                       f"{', '.join(SCENARIOS)}") from None


def diagnose(target: Target, name: str) -> list[Result]:
    """Run the diagnoses of scenario `name`."""
    return [d(target) for d in scenario(name).diagnoses]


@dataclass(frozen=True)
class Match:
    scenario: str
    title: str
    matches: bool
    evidence: list[str]
    resolution: list[str]


def matches(found: list[Finding]) -> bool:
    """A scenario matches when its diagnoses found something more than informational."""
    return any(f.priority <= Priority.P2 for f in found)


def verdict(results_by_scenario: dict[str, list[Result]]) -> Result:
    """Which scenarios match what their diagnoses found, with the evidence."""
    rows = []
    for name, results in results_by_scenario.items():
        found = [f for r in results for f in r.findings]
        s = SCENARIOS[name]
        rows.append(Match(name, s.title, matches(found),
                          [f"[{f.priority.name}] {f.subject}: {f.summary}" for f in found
                           if f.priority <= Priority.P2][:5], list(s.resolution)))
    rows.sort(key=lambda m: not m.matches)
    hits = [m.title for m in rows if m.matches]
    notes = [f"Matching: {', '.join(hits)}" if hits else "No scenario matches: nothing found."]
    return Result.of("troubleshooting", "Troubleshooting scenarios", rows, notes=notes)

"""The runbook's Troubleshooting Guide as data: seven scenarios, each a set of diagnoses
(checks) and a rule for when what they found matches the scenario's symptoms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import overload

from netzops import cache, certs, containers, endpoints, logs, postgres
from netzops.errors import BadInput
from netzops.findings import Finding, Priority
from netzops.results import Result
from netzops.targets import Target
from netzops.triage.causes import causes as find_causes
from netzops.triage.clients import Clients
from netzops.triage.sweep import DEADLINE_S, Check, registry, run_checks, stats, status

Diagnose = Callable[[Clients], Result]


def _status(c: Clients) -> Result:
    return status(c)  # the run's one sample, shared with the sweep


def _stats(c: Clients) -> Result:
    return stats(c)


def _env(c: Clients) -> Result:
    return containers.env_names(c.docker, c.target, "backend")


def _tail(service: str | None, pattern: str | None = None) -> Diagnose:
    def diagnose(c: Clients) -> Result:
        return logs.view(
            c.docker, c.target, service, tail=50, since="1h", pattern=pattern, ignore_case=True
        )

    return diagnose


def _api_times(c: Clients) -> Result:
    return endpoints.response_times(c.http, c.target, ("sites",))[0]


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    symptoms: str
    diagnoses: tuple[Diagnose, ...]
    resolution: tuple[str, ...]


SCENARIOS = {
    s.name: s
    for s in (
        Scenario(
            "service-wont-start",
            "Service Won't Start",
            "container exits immediately after starting",
            (
                _status,
                lambda c: containers.config_check(c.target),
                _env,
                lambda c: containers.port_conflicts(c.docker, c.target),
                _tail(None, "fatal"),
            ),
            (
                "fix the environment (.env) and the compose file",
                "free the conflicting port",
                "check that postgres is running",
                "restart fresh (restart-scale notebook)",
            ),
        ),
        Scenario(
            "database-connection",
            "Database Connection Errors",
            '"Connection refused" or "Connection timeout" in backend logs',
            (
                lambda c: postgres.ping(c.db),
                lambda c: postgres.connections(c.db),
                _tail("postgres"),
                _tail("backend", "database error"),
            ),
            ("restart postgres, wait for its health check", "restart the backend"),
        ),
        Scenario(
            "redis-connection",
            "Redis Connection Issues",
            "session errors, authentication failures",
            (lambda c: cache.ping(c.redis), _tail("redis"), _tail("backend", "redis error")),
            ("restart redis", "clear corrupted data only as a last resort (cache notebook)"),
        ),
        Scenario(
            "slow-performance",
            "Slow Performance",
            "application responds slowly, timeouts",
            (
                _stats,
                _api_times,
                lambda c: postgres.active_queries(c.db),
                lambda c: logs.slow_queries(c.docker, c.target, since="1h"),
                lambda c: cache.stats(c.redis, interval_s=2.0),
            ),
            (
                "VACUUM ANALYZE (database notebook)",
                "scale the backend (restart-scale notebook)",
                "see the performance notebook",
            ),
        ),
        Scenario(
            "high-memory",
            "High Memory Usage",
            "container restarts, OOM errors",
            (
                _stats,
                _status,
                lambda c: logs.out_of_memory(c.docker, c.target, service=None),
                lambda c: containers.node_heap(c.docker, c.target),
                _tail("backend", "memory"),
            ),
            ("restart the affected container", "raise its memory limit in the compose file"),
        ),
        Scenario(
            "login-issues",
            "Login Issues",
            "users cannot authenticate",
            (
                lambda c: logs.failed_logins(c.docker, c.target, since="1h"),
                lambda c: cache.keys(c.redis, "session:*"),
                lambda c: postgres.users(c.db),
                _env,
            ),
            (
                "clear sessions (cache notebook, guarded)",
                "restart the backend",
                "reset the user's password in the application",
            ),
        ),
        Scenario(
            "ssl-certificate",
            "SSL Certificate Issues",
            "HTTPS not working, warnings",
            (lambda c: certs.check(c.target),),
            ("renew the certificate (certbot renew)", "reload nginx"),
        ),
    )
}


def scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise BadInput(
            f"unknown symptom {name!r}; use auto or one of: {', '.join(SCENARIOS)}"
        ) from None


@overload
def diagnose(target: Target, symptom: str, deadline_s: float = ...) -> Diagnosis: ...


@overload
def diagnose(
    target: Target, symptom: list[str], deadline_s: float = ...
) -> dict[str, list[Result]]: ...


def diagnose(
    target: Target, symptom: str | list[str], deadline_s: float = DEADLINE_S
) -> Diagnosis | dict[str, list[Result]]:
    """`symptom` "auto": the whole sweep, its causes ranked and the scenarios with evidence
    ranked by them (the rest ruled out). A scenario's name: the sweep and that scenario's
    diagnoses, concurrently, within `deadline_s`. A list of names: each scenario's results
    (no sweep), as {name: results}. Unknown names are refused before anything runs."""
    if isinstance(symptom, list):
        chosen = [scenario(name) for name in symptom]
        clients = Clients(target)
        try:
            return {s.name: [d(clients) for d in s.diagnoses] for s in chosen}
        finally:
            clients.close()
    own = [] if symptom == "auto" else list(scenario(symptom).diagnoses)
    clients = Clients(target)
    checks = list(registry(target, clients).values())
    extra = [
        Check(f"{symptom} #{i}", partial(d, clients), "stack", "*", "scenario")
        for i, d in enumerate(own, 1)
    ]
    results = run_checks(clients, checks + extra, deadline_s)
    swept, mine = results[: len(checks)], results[len(checks) :]
    found = find_causes(swept, target)
    names = list(SCENARIOS) if symptom == "auto" else [symptom]
    return Diagnosis(symptom, found, ranked(found, names, mine), mine or swept, swept)


@dataclass(frozen=True)
class Diagnosis:
    """What `diagnose` found: the ranked causes (their first note is the headline), the
    scenarios ranked by evidence, the results to show (the scenario's own diagnoses, or
    the sweep's for auto) and the sweep's results the causes come from."""

    symptom: str
    causes: Result
    scenarios: Result
    results: list[Result]
    sweep: list[Result]

    @property
    def headline(self) -> str:
        return self.causes.notes[0]


def ranked(found: Result, names: list[str], own: list[Result]) -> Result:
    """The scenarios `names` ranked by the causes that belong to them (with the causes and
    their evidence beside each); a scenario without evidence is "ruled out"."""
    rows = []
    for name in names:
        mine = [c for c in found.rows if c["scenario"] == name]
        evidence = [f"#{c['rank']} [{c['priority']}] {c['cause']}" for c in mine]
        evidence += [
            f"[{f.priority.name}] {f.subject}: {f.summary}"
            for r in own
            for f in r.findings
            if f.priority <= Priority.P2
        ][:5]
        best = min((c["rank"] for c in mine), default=None)
        s = SCENARIOS[name]
        rows.append(
            (
                best if best is not None else (0 if evidence else len(found.rows) + 1),
                Match(name, s.title, bool(evidence), evidence, list(s.resolution)),
            )
        )
    rows.sort(key=lambda pair: (not pair[1].matches, pair[0]))
    hits = [m.title for _, m in rows if m.matches]
    ruled_out = [m.title for _, m in rows if not m.matches]
    notes = [f"Matching, most likely first: {', '.join(hits)}" if hits else "No scenario matches."]
    if ruled_out:
        notes.append(f"Ruled out (no evidence): {', '.join(ruled_out)}")
    return Result.of(
        "troubleshooting", "Troubleshooting scenarios", [m for _, m in rows], notes=notes
    )


@dataclass(frozen=True)
class Match:
    scenario: str
    title: str
    matches: bool  # False: ruled out (no evidence)
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
        rows.append(
            Match(
                name,
                s.title,
                matches(found),
                [
                    f"[{f.priority.name}] {f.subject}: {f.summary}"
                    for f in found
                    if f.priority <= Priority.P2
                ][:5],
                list(s.resolution),
            )
        )
    rows.sort(key=lambda m: not m.matches)
    hits = [m.title for m in rows if m.matches]
    notes = [f"Matching: {', '.join(hits)}" if hits else "No scenario matches: nothing found."]
    return Result.of("troubleshooting", "Troubleshooting scenarios", rows, notes=notes)

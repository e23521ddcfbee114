"""Every read-only check of a target in one pass: the input of alert evaluation,
automatic troubleshooting and escalation.

The checks run concurrently (threads), each bounded by its own timeouts (connect, socket,
HTTP: shorter than the run's deadline). Checks sharing one connection (PostgreSQL) run one
after another in a lane, and a lane stops at its first unanswered probe: the rest of it is
"not run". Whatever has not finished when the run's deadline passes is cut short: a finding
"no answer within N s" for the service it waited for, and a row in the sweep summary. So a
sweep always completes, in about the deadline at worst (default 10 s: a whole triage,
kernel and notebook included, has 20 s)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from netzops import backups, cache, certs, containers, endpoints, host, logs, postgres
from netzops.findings import Finding, Priority, worst
from netzops.results import Result
from netzops.targets import Target
from netzops.triage.clients import Clients

DEADLINE_S = 10.0  # the run's deadline: every probe's own timeout is shorter (5 s)
SAMPLE_REQUESTS = 20  # requests of the API response-time sample (stops at the first timeouts)
SITES_REQUESTS = 5  # requests to /api/sites, whose time is its database queries' time
GIVE_UP_AFTER = 1  # a sample stops at its first timeout: the service hangs, say so and move on


@dataclass(frozen=True)
class Check:
    """One check of the sweep: what it waits for (`service`, named when it hangs), the
    client it uses (not closed while it hangs) and its lane (one at a time per lane)."""

    name: str
    run: Callable[[], Result]
    service: str
    uses: str = ""  # docker | http | db | redis | * (any) | "" (its own connections)
    lane: str = ""  # checks of a lane share a connection: they run in order


def registry(target: Target, clients: Clients) -> dict[str, Check]:
    """The sweep's checks by name, bound to the shared, lazily created `clients`. It holds
    every check another notebook shows a priority for (status, restarts, health, response
    times, PostgreSQL, Redis, certificate, disks, memory, CPU, errors and error rates over
    the hour and the last 5 minutes, slow queries, failed logins, out-of-memory, network,
    backups), so alerts, escalation and troubleshooting judge the same facts."""
    c, t = clients, target
    api, sites = endpoints.sample_url(t, "api"), endpoints.sample_url(t, "sites")
    checks = [
        Check("service_status", lambda: status(c), "docker", "docker"),
        Check("container_stats", lambda: stats(c), "docker", "docker"),
        Check("network", lambda: containers.network(c.docker, t), "docker", "docker"),
        Check("http_health", lambda: endpoints.health(c.http, t, c.docker), "frontend", "http"),
        Check("api_response", lambda: api_sample(c, api), "backend", "http"),
        Check(
            "api_sites_response",
            lambda: api_sample(c, sites, SITES_REQUESTS, "sites"),
            "backend",
            "http",
            "sites",
        ),
        Check("postgres_ping", lambda: postgres.ping(c.db), "postgres", "db", "db"),
        Check("postgres_connections", lambda: postgres.connections(c.db), "postgres", "db", "db"),
        Check(
            "postgres_long_queries",
            lambda: postgres.long_running_queries(c.db),
            "postgres",
            "db",
            "db",
        ),
        Check("redis_ping", lambda: cache.ping(c.redis), "redis", "redis"),
        Check("redis_memory", lambda: cache.memory(c.redis), "redis", "redis"),
        Check("tls", lambda: certs.check(t), "frontend"),
        Check("host_disks", lambda: host.disks(t), "host"),
        Check("host_memory", lambda: host.memory(t), "host"),
        Check("host_cpu", lambda: c.once("host_cpu", lambda: host.cpu(t)), "host"),
        Check("errors_last_hour", lambda: logs.errors_last_hour(c.docker, t), "docker", "docker"),
        Check("backend_error_rate", lambda: logs.request_rates(c.docker, t), "docker", "docker"),
        Check(
            "backend_error_rate_5m",
            lambda: logs.request_rates_recent(c.docker, t),
            "docker",
            "docker",
        ),
        Check("nginx_error_rate", lambda: logs.nginx_error_rate(c.docker, t), "docker", "docker"),
        Check(
            "nginx_error_rate_5m",
            lambda: logs.nginx_error_rate_recent(c.docker, t),
            "docker",
            "docker",
        ),
        Check(  # after the sites sample (its lane): the log then holds the sample's queries
            "slow_queries",
            lambda: logs.slow_queries(c.docker, t, since="1h"),
            "docker",
            "docker",
            "sites",
        ),
        Check(
            "failed_logins",
            lambda: logs.failed_logins(c.docker, t, since="1h"),
            "docker",
            "docker",
        ),
        Check(
            "out_of_memory",
            lambda: logs.out_of_memory(c.docker, t, service=None, since="1h"),
            "docker",
            "docker",
        ),
        # issue 16: the DBA, host and Redis checks operators run with check_postgres & co.
        *(
            Check(name, run, "postgres", "db", "db")
            for name, run in (
                ("postgres_oldest_transaction", lambda: postgres.oldest_transaction(c.db)),
                ("postgres_prepared_transactions", lambda: postgres.prepared_transactions(c.db)),
                ("postgres_waiting_locks", lambda: postgres.waiting_locks(c.db)),
                (
                    "postgres_connection_capacity",
                    lambda: postgres.connection_capacity(
                        c.db, replicas=int(status(c).metrics.get("containers.backend.replicas", 1))
                    ),
                ),
                ("postgres_sequence_danger", lambda: postgres.sequence_danger(c.db)),
                ("postgres_freeze_age", lambda: postgres.freeze_age(c.db)),
                (  # issue 12: every check a notebook shows a priority for (database notebook)
                    "postgres_transaction_id_danger",
                    lambda: postgres.transaction_id_danger(c.db),
                ),
                ("postgres_idle_in_transaction", lambda: postgres.idle_in_transaction(c.db)),
                ("postgres_blocked_queries", lambda: postgres.blocked_queries(c.db)),
                ("postgres_slow_queries", lambda: postgres.slow_queries(c.db)),
                ("postgres_maintenance_staleness", lambda: postgres.maintenance_staleness(c.db)),
                ("postgres_rollback_ratio", lambda: postgres.rollback_ratio(c.db)),
                ("postgres_wal_archiving", lambda: postgres.wal_archiving(c.db)),
                ("postgres_checkpoint_age", lambda: postgres.checkpoint_age(c.db)),
                ("postgres_replication_slots", lambda: postgres.replication_slots(c.db)),
                ("postgres_dead_tuples", lambda: postgres.dead_tuples(c.db)),
            )
        ),
        Check("redis_persistence", lambda: cache.persistence(c.redis), "redis", "redis"),
        Check("redis_slowlog", lambda: cache.slowlog(c.redis), "redis", "redis"),
        Check("redis_evictions", lambda: cache.evictions(c.redis), "redis", "redis"),
        Check("redis_client_capacity", lambda: cache.client_capacity(c.redis), "redis", "redis"),
        Check("host_inodes", lambda: host.inodes(t), "host"),
        Check("host_load", lambda: host.load(t), "host"),
        Check("backups", lambda: backups.catalog(t), "backups"),
    ]
    return {check.name: check for check in checks}


def status(c: Clients) -> Result:
    """The run's one `docker compose ps` (shared by every check needing it)."""
    return c.once("service_status", lambda: containers.service_status(c.docker, c.target))


def stats(c: Clients) -> Result:
    """The run's one `docker stats` sample (shared by every check needing it)."""
    return c.once("container_stats", lambda: containers.stats(c.docker, c.target))


def api_sample(c: Clients, url: str, count: int = SAMPLE_REQUESTS, name: str = "api") -> Result:
    """The run's one response-time sample of `url`; it stops after the first timeouts."""
    return c.once(
        f"sample {url}",
        lambda: endpoints.sample(
            c.http, url, count, name=name, target=c.target, give_up_after=GIVE_UP_AFTER
        ),
    )


def run(
    target: Target, only: list[str] | None = None, deadline_s: float = DEADLINE_S
) -> list[Result]:
    """The results of every check (or of the named ones), in registry order; checks run
    concurrently and whatever is not done after `deadline_s` is cut short (a finding)."""
    clients = Clients(target)
    checks = registry(target, clients)
    unknown = sorted(set(only or []) - set(checks))
    if unknown:
        raise ValueError(f"unknown checks {unknown}; known: {', '.join(checks)}")
    chosen = [check for name, check in checks.items() if not only or name in only]
    return run_checks(clients, chosen, deadline_s)


def run_checks(clients: Clients, checks: list[Check], deadline_s: float) -> list[Result]:
    """Run `checks` concurrently (lanes in order) and close the clients no hanging check
    still uses. Returns one result per check, in the given order."""
    results: dict[str, Result] = {}
    lanes: dict[str, list[Check]] = {}
    for check in checks:
        lanes.setdefault(check.lane or check.name, []).append(check)
    started = time.monotonic()
    threads = [
        threading.Thread(target=_lane, args=(lane, results), daemon=True, name=f"check {key}")
        for key, lane in lanes.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline_s - (time.monotonic() - started)))
    elapsed = round(time.monotonic() - started, 1)
    hanging = {c.uses for c in checks if c.name not in results and c.uses}
    done = [results.get(c.name) or cut_short(c, deadline_s) for c in checks]
    for check, result in zip(checks, done, strict=True):
        result.metrics.setdefault(f"sweep.{check.name}.seconds", elapsed)
    _close(clients, hanging)
    return done


def _lane(lane: list[Check], results: dict[str, Result]) -> None:
    for i, check in enumerate(lane):
        start = time.monotonic()
        result = check.run()
        result.metrics[f"sweep.{check.name}.seconds"] = round(time.monotonic() - start, 2)
        results[check.name] = result
        if i == 0 and len(lane) > 1 and result.metrics.get(f"{check.service}.up") == 0.0:
            for rest in lane[1:]:  # the lane's service did not answer: the rest would wait too
                results[rest.name] = Result.of(
                    rest.name,
                    rest.name,
                    metrics={f"sweep.{rest.name}.not_run": 1.0},
                    notes=[f"not run: {check.service} did not answer {check.name}"],
                )
            return


def cut_short(check: Check, deadline_s: float) -> Result:
    """The result of a check that did not finish within the run's deadline."""
    finding = Finding(
        check.name,
        check.service,
        Priority.P1,
        f"no answer within {deadline_s:g} s: {check.name} was cut short",
        deadline_s,
    )
    return Result.of(
        check.name,
        f"{check.name} (cut short)",
        findings=[finding],
        metrics={"sweep.cut_short": 1.0},
        notes=[f"cut short after {deadline_s:g} s: the run's deadline"],
    )


def _close(clients: Clients, hanging: set[str]) -> None:
    """Close the clients, except those a cut-short check may still be using (its own
    timeout ends it; closing a connection under a running call is not safe)."""
    made = vars(clients)
    for name in ("_docker", "_http", "_redis", "_db"):
        if name in made and not {name.removeprefix("_"), "*"} & hanging:
            made[name].close()


def cut_short_checks(results: list[Result]) -> list[str]:
    """The names of the checks that did not finish within the run's deadline."""
    return [r.check for r in results if r.metrics.get("sweep.cut_short")]


@dataclass(frozen=True)
class CheckSummary:
    check: str
    title: str
    worst: str
    findings: int
    seconds: float | None


def _timing(result: Result) -> tuple[str, float | None, bool]:
    """The registry name a result ran under, its seconds, and whether it was not run."""
    name, seconds, not_run = result.check, None, False
    for key, value in result.metrics.items():
        if key.startswith("sweep.") and key.endswith(".seconds"):
            name, seconds = key[len("sweep.") : -len(".seconds")], value
        not_run = not_run or (key.startswith("sweep.") and key.endswith(".not_run"))
    return name, seconds, not_run


def summary(results: list[Result]) -> Result:
    """One row per check with its worst priority and its time, and every check's metrics.
    Findings stay with whoever shows them next (e.g. incidents.responses), so none is
    counted twice. A note names the checks that were cut short."""
    rows = []
    metrics: dict[str, float] = {}
    for r in results:
        top = worst(r.findings)
        name, seconds, not_run = _timing(r)
        verdict = top.name if top is not None else ("not run" if not_run else "ok")
        rows.append(CheckSummary(name, r.title, verdict, len(r.findings), seconds))
        metrics.update(r.metrics)
    short = cut_short_checks(results)
    notes = [f"Cut short (no answer within the deadline): {', '.join(short)}"] if short else []
    metrics.pop("sweep.cut_short", None)
    metrics["sweep.cut_short_checks"] = float(len(short))
    done = Result.of("sweep", f"{len(results)} checks", rows, metrics=metrics, notes=notes)
    done.verdict = _verdict(results)
    return done


def _verdict(results: list[Result]) -> str | None:
    """The line above the summary table: the findings its rows count (None: "✔ no findings")."""
    found = [f for r in results for f in r.findings]
    top = worst(found)
    if top is None:
        return None
    return f"{len(found)} finding(s), worst {top.name}: listed with their responses below"

"""Containers of a compose project, through the Docker Engine API (docker SDK).

Services are found by compose labels, so this works for compose v1 and v2 alike and
for scaled services (several replicas of one service).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from docker import DockerClient
from docker.errors import APIError, DockerException, NotFound
from docker.models.containers import Container
from requests.exceptions import RequestException

from netzops.checks import Outcome, checker
from netzops.errors import BadInput
from netzops.findings import Band, Finding, Priority, above
from netzops.results import Result
from netzops.targets import Target
from netzops.times import parse_time

PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
NUMBER = "com.docker.compose.container-number"
ONEOFF = "com.docker.compose.oneoff"
TIMEOUT_S = 10
FALLBACK_API = "1.41"  # used only when the engine does not answer the version probe
ENGINE_ERRORS = (DockerException, RequestException, OSError)
DEFAULT_ENGINE = "unix:///var/run/docker.sock"
LOOP_WINDOW_S = 3600.0  # restarts count as a loop while the last start is this recent (ours)


def connect(target: Target) -> DockerClient:
    """A client for the target's engine. Never raises for an engine that is down: calls made
    with the client then fail, and checks turn that into a finding."""
    base_url = engine_address(target)
    try:
        return DockerClient(base_url=base_url, version="auto", timeout=TIMEOUT_S)
    except ENGINE_ERRORS:
        return DockerClient(base_url=base_url, version=FALLBACK_API, timeout=TIMEOUT_S)


def engine_address(target: Target | None) -> str:
    """Where the target's engine is asked: its docker_host, else DOCKER_HOST, else the
    local socket (the docker CLI's order)."""
    found = target.docker_host if target is not None else None
    return found or os.environ.get("DOCKER_HOST") or DEFAULT_ENGINE


def project_containers(
    client: DockerClient, project: str, service: str | None = None
) -> list[Container]:
    """The project's containers (running or not), without one-off `run` containers."""
    labels = [f"{PROJECT}={project}"] + ([f"{SERVICE}={service}"] if service else [])
    found = client.containers.list(all=True, filters={"label": labels})
    return sorted(
        (c for c in found if c.labels.get(ONEOFF, "False") != "True"),
        key=lambda c: (c.labels.get(SERVICE, ""), int(c.labels.get(NUMBER, "0") or 0)),
    )


@dataclass(frozen=True)
class ContainerState:
    service: str
    container: str
    replica: int
    state: str
    health: str  # healthy, unhealthy, starting, or none (no health check)
    failing_streak: int
    last_health_output: str
    started_at: datetime | None
    uptime_s: float | None
    restart_count: int
    oom_killed: bool
    exit_code: int
    image: str
    ports: str

    @property
    def serving(self) -> bool:
        return self.state == "running" and self.health in ("healthy", "none")


def _parse_time(text: str | None) -> datetime | None:
    """An engine timestamp (RFC 3339, nanoseconds, any offset) as aware UTC; None for
    Go's zero time (never started) and for text that is not a time."""
    if not text or text.startswith("0001-"):
        return None
    try:
        return parse_time(text)
    except BadInput:
        return None


def _uptime(started: datetime | None, now: datetime) -> float | None:
    """Seconds since `started`; None when unknown, also when the engine's clock is ahead of
    this machine's (a start in the future: unknown, never a negative uptime)."""
    if started is None or started > now:
        return None
    return round((now - started).total_seconds(), 1)


def _ports(attrs: dict[str, Any]) -> str:
    bound = attrs.get("NetworkSettings", {}).get("Ports") or {}
    parts = []
    for inner, binds in sorted(bound.items()):
        for b in binds or []:
            parts.append(f"{b['HostIp']}:{b['HostPort']}->{inner}")
    return ", ".join(parts)


def container_state(container: Container, now: datetime | None = None) -> ContainerState:
    attrs = container.attrs
    state = attrs.get("State") or {}  # the oldest engines and a container being removed
    health = state.get("Health") or {}
    log = health.get("Log") or []
    started = _parse_time(state.get("StartedAt"))
    now = now or datetime.now(UTC)
    running = state.get("Status") == "running"
    return ContainerState(
        service=container.labels.get(SERVICE, container.name),
        container=container.name,
        replica=int(container.labels.get(NUMBER, "1") or 1),
        state=state.get("Status", "unknown"),
        health=health.get("Status", "none"),
        failing_streak=int(health.get("FailingStreak", 0)),
        last_health_output=(str(log[-1].get("Output") or "").strip()[-200:] if log else ""),
        started_at=started,
        uptime_s=_uptime(started, now) if running else None,
        restart_count=int(attrs.get("RestartCount", 0)),
        oom_killed=bool(state.get("OOMKilled")),
        exit_code=int(state.get("ExitCode", 0)),
        image=attrs.get("Config", {}).get("Image", ""),
        ports=_ports(attrs),
    )


def _service_findings(service: str, states: list[ContainerState], band: Band) -> list[Finding]:
    check = "service_status"
    if not states:
        return [Finding(check, service, Priority.P0, "no container: service is not deployed")]
    serving = [s for s in states if s.serving]
    found: list[Finding] = []
    if not any(s.state == "running" for s in states):
        last = states[0]
        why = "killed by the OOM killer" if last.oom_killed else f"exit code {last.exit_code}"
        found.append(Finding(check, service, Priority.P0, f"service down: {last.state}, {why}"))
    elif not serving:
        worst = max(states, key=lambda s: s.failing_streak)
        found.append(
            Finding(
                check,
                service,
                Priority.P1,
                f"unhealthy: failing streak {worst.failing_streak}, "
                f"last check: {worst.last_health_output[:80] or 'no output'}",
            )
        )
    elif len(serving) < len(states):
        found.append(
            Finding(
                check,
                service,
                Priority.P2,
                f"degraded: {len(serving)} of {len(states)} replicas serving",
            )
        )
    if any(s.health == "starting" for s in states):
        found.append(Finding(check, service, Priority.P3, "health check still starting"))
    restart = restarts(service, states, band)
    if restart:
        found.append(restart)
    return found


def restarts(service: str, states: list[ContainerState], band: Band) -> Finding | None:
    """The one verdict on a service's restart count (every notebook and the alert sweep
    show this finding): more than `band.critical` restarts (data/thresholds.yaml
    `restart_count`) while a replica is down or last started within LOOP_WINDOW_S is a
    restart loop, P1; any other restart count is P3. None without restarts."""
    count = sum(s.restart_count for s in states)
    if not count:
        return None
    recent = any(s.uptime_s is None or s.uptime_s < LOOP_WINDOW_S for s in states)
    if recent and band.critical is not None and count > band.critical:
        return Finding(
            "service_status",
            service,
            Priority.P1,
            f"restart loop: restarted {count} time(s) > {band.critical:g}, "
            "the last start within the hour",
            count,
            band.critical,
        )
    return Finding("service_status", service, Priority.P3, f"restarted {count} time(s)", count)


#: Root causes of an unanswered engine call, as an operator reads them (first match wins).
_WHY: tuple[tuple[type[BaseException], str], ...] = (
    (FileNotFoundError, "no socket there"),
    (PermissionError, "permission denied: run as root or as a member of the docker group"),
    (ConnectionRefusedError, "connection refused"),
    (TimeoutError, "no answer in time"),
)


def engine_down(
    check: str,
    title: str,
    exc: BaseException,
    arguments: Mapping[str, Any] | None = None,
    address: str | None = None,
) -> Result:
    """The result of a check whose Docker engine did not answer: a P0 naming the address
    asked (from `address`, else the call's `target` argument) and what to do."""
    if address is None:
        target = (arguments or {}).get("target")
        address = engine_address(target if isinstance(target, Target) else None)
    why = (
        f"Docker engine unreachable at {address} ({engine_error(exc)}): start dockerd "
        "(`make bootstrap` does, as root) or point docker_host in the target file, or "
        "DOCKER_HOST, at a running engine"
    )
    return Result.of(check, title, findings=[Finding(check, "docker", Priority.P0, why)])


def engine_error(exc: BaseException) -> str:
    """What went wrong, from the exception chain of a docker/requests error: the OS error
    underneath when there is one, else the error's type and first line (≤ 120 characters)."""
    seen: list[BaseException] = []
    pending: list[BaseException] = [exc]
    while pending and len(seen) < 20:
        current = pending.pop(0)
        seen.append(current)
        pending += [a for a in current.args if isinstance(a, BaseException)]
        pending += [c for c in (current.__cause__, current.__context__) if c is not None]
    for kind, text in _WHY:
        if any(isinstance(e, kind) for e in seen):
            return text
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {first}"[:120]


#: The Docker check decorator (see `netzops.checks`): an engine that does not answer → P0.
check = checker("containers", ENGINE_ERRORS, engine_down)


@check("service_status", "Service status — {target.compose.project}")
def service_status(client: DockerClient, target: Target) -> Outcome:
    """`docker compose ps` + health: every service's containers, state and health."""
    states = [container_state(c) for c in project_containers(client, target.compose.project)]
    services = list(dict.fromkeys([*target.services, *(s.service for s in states)]))
    findings: list[Finding] = []
    metrics: dict[str, float] = {}
    for service in services:
        mine = [s for s in states if s.service == service]
        findings += _service_findings(service, mine, target.bands["restart_count"])
        metrics[f"containers.{service}.replicas"] = len(mine)
        metrics[f"containers.{service}.running"] = sum(s.state == "running" for s in mine)
        healthy = bool(mine) and all(s.serving for s in mine)
        metrics[f"containers.{service}.healthy"] = float(healthy)
    degraded = {f.subject for f in findings if f.priority <= Priority.P2}
    if len(degraded) > 1:
        names = ", ".join(sorted(degraded))
        findings.append(
            Finding(
                "service_status",
                "stack",
                Priority.P1,
                f"{len(degraded)} services degraded: {names}",
            )
        )
    return Outcome(states, findings, metrics)


@dataclass(frozen=True)
class ContainerStats:
    service: str
    container: str
    cpu_percent: float | None  # None: no figure, `cpu_note` says why
    memory_bytes: int
    memory_limit_bytes: int
    memory_percent: float
    net_rx_bytes: int
    net_tx_bytes: int
    block_read_bytes: int
    block_write_bytes: int
    pids: int
    cpu_note: str = ""


CPU_RESET = "unknown/reset: CPU counters went backwards between the samples (restarted)"
CPU_NO_SAMPLE = "unknown: no earlier sample to compare with"
CPU_STOPPED = "unknown: no CPU counters (the container stopped)"
CPU_NO_TIME = "unknown: no system time passed between the samples"


def _counter(value: Any) -> float | None:
    """A counter from the Engine API: a finite number ≥ 0, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


def cpu_reading(stats: dict[str, Any]) -> tuple[float | None, str]:
    """docker stats' CPU % and, when there is no figure, why (`CPU_*`): cpu delta / system
    delta × online CPUs × 100 (may exceed 100); without `online_cpus` (older engines) the
    number of per-CPU counters, else 1. A counter that went backwards between the two
    samples (the container or the engine restarted) gives no figure — never 0 %."""
    cpu, pre = stats.get("cpu_stats") or {}, stats.get("precpu_stats") or {}
    usage = cpu.get("cpu_usage") or {}  # empty for a container that just stopped
    total, system = _counter(usage.get("total_usage")), _counter(cpu.get("system_cpu_usage"))
    if total is None or system is None:
        return None, CPU_STOPPED
    pre_total = _counter((pre.get("cpu_usage") or {}).get("total_usage"))
    pre_system = _counter(pre.get("system_cpu_usage"))
    if pre_total is None or not pre_system:  # the first sample: precpu is empty or zero
        return None, CPU_NO_SAMPLE
    cpu_delta, system_delta = total - pre_total, system - pre_system
    if cpu_delta < 0 or system_delta < 0:
        return None, CPU_RESET
    if system_delta == 0:
        return None, CPU_NO_TIME
    online = cpu.get("online_cpus") or len(usage.get("percpu_usage") or []) or 1
    return float(cpu_delta / system_delta * online * 100.0), ""


def cpu_percent(stats: dict[str, Any]) -> float | None:
    """docker stats' CPU % (`cpu_reading`), None when there is no figure."""
    return cpu_reading(stats)[0]


def memory_used(stats: dict[str, Any]) -> int:
    """docker stats' memory: usage minus the inactive file cache, as the docker CLI does:
    `total_inactive_file` on cgroup v1 (whose stats also carry a non-hierarchical
    `inactive_file`), `inactive_file` on cgroup v2; plain usage when that is not smaller."""
    mem = stats.get("memory_stats") or {}
    usage = int(mem.get("usage", 0))
    detail = mem.get("stats") or {}
    key = "total_inactive_file" if "total_inactive_file" in detail else "inactive_file"
    inactive = int(detail.get(key, 0))
    return usage - inactive if inactive < usage else usage


def _sum_io(entries: Iterable[dict[str, Any]] | None, op: str) -> int:
    return sum(int(e["value"]) for e in entries or [] if e.get("op", "").lower() == op)


def container_stats(container: Container) -> ContainerStats:
    raw = container.stats(stream=False)
    cpu, cpu_note = cpu_reading(raw)
    used = memory_used(raw)
    limit = int((raw.get("memory_stats") or {}).get("limit", 0))
    nets = (raw.get("networks") or {}).values()
    blkio = (raw.get("blkio_stats") or {}).get("io_service_bytes_recursive")
    return ContainerStats(
        service=container.labels.get(SERVICE, container.name),
        container=container.name,
        cpu_percent=None if cpu is None else round(cpu, 2),
        memory_bytes=used,
        memory_limit_bytes=limit,
        memory_percent=round(used / limit * 100.0, 2) if limit else 0.0,
        net_rx_bytes=sum(int(n.get("rx_bytes", 0)) for n in nets),
        net_tx_bytes=sum(int(n.get("tx_bytes", 0)) for n in nets),
        block_read_bytes=_sum_io(blkio, "read"),
        block_write_bytes=_sum_io(blkio, "write"),
        pids=int((raw.get("pids_stats") or {}).get("current", 0)),
        cpu_note=cpu_note,
    )


@check(
    "container_stats",
    "Container resources — {target.compose.project}",
    emits=("container_memory", "container_cpu"),
)
def stats(client: DockerClient, target: Target) -> Outcome:
    """`docker stats --no-stream` for the project's running containers, against thresholds."""
    running = [
        c for c in project_containers(client, target.compose.project) if c.status == "running"
    ]
    with ThreadPoolExecutor(max_workers=max(1, len(running))) as pool:
        sampled = list(pool.map(_sampled, running))
    rows = [r for r in sampled if isinstance(r, ContainerStats)]
    findings: list[Finding] = [f for f in sampled if isinstance(f, Finding)]
    metrics: dict[str, float] = {}
    notes = [f"{r.container}: CPU {r.cpu_note}" for r in rows if r.cpu_percent is None]
    notes += [f"{n}: gone between listing and sampling" for n in sampled if isinstance(n, str)]
    for r in rows:
        key = f"containers.{r.service}" if _single(rows, r.service) else f"containers.{r.container}"
        metrics |= {
            f"{key}.memory_bytes": r.memory_bytes,
            f"{key}.memory_percent": r.memory_percent,
        }
        if r.cpu_percent is not None:
            metrics[f"{key}.cpu_percent"] = r.cpu_percent
        for found in (
            above(
                "container_memory",
                r.container,
                r.memory_percent,
                target.bands["memory_percent"],
                "memory %",
            ),
            above("container_cpu", r.container, r.cpu_percent, target.bands["cpu_percent"], "CPU %")
            if r.cpu_percent is not None
            else None,
        ):
            if found:
                findings.append(found)
    return Outcome(rows, findings, metrics, notes)


def _sampled(container: Container) -> ContainerStats | Finding | str:
    """One container's stats; the engine refusing that one container is its own finding
    (P2), a container removed since it was listed its name: the others still count."""
    try:
        return container_stats(container)
    except NotFound:
        return str(container.name)
    except APIError as exc:
        why = str(exc.explanation or exc)[:200]
        return Finding("container_stats", container.name, Priority.P2, f"no stats: {why}")


def _single(rows: list[ContainerStats], service: str) -> bool:
    return sum(r.service == service for r in rows) == 1


@dataclass(frozen=True)
class EnvName:
    service: str
    container: str
    name: str


@check("env_names", "Environment variable names — {service}")
def env_names(client: DockerClient, target: Target, service: str) -> Outcome:
    """The NAMES of the environment variables of the service's containers (runbook: "verify
    environment variables"). Values never leave this function: they may be secrets."""
    target.check_service(service)
    found = project_containers(client, target.compose.project, service)
    rows = [
        EnvName(service, c.name, entry.partition("=")[0])
        for c in found
        for entry in c.attrs.get("Config", {}).get("Env") or []
    ]
    return Outcome(sorted(rows, key=lambda r: (r.container, r.name)))


@dataclass(frozen=True)
class NodeMemory:
    service: str
    container: str
    rss_bytes: int
    heap_total_bytes: int
    heap_used_bytes: int
    external_bytes: int
    array_buffers_bytes: int


NODE_MEMORY_JS = "process.stdout.write(JSON.stringify(process.memoryUsage()))"


def _node_memory(container: Container) -> NodeMemory:
    code, out = container.exec_run(["node", "-e", NODE_MEMORY_JS])
    text = out.decode(errors="replace") if isinstance(out, bytes) else str(out)
    if code != 0:
        raise ValueError(f"node exited with {code}: {text.strip()[-160:]}")
    usage = json.loads(text)
    return NodeMemory(
        container.labels.get(SERVICE, container.name),
        container.name,
        int(usage["rss"]),
        int(usage["heapTotal"]),
        int(usage["heapUsed"]),
        int(usage["external"]),
        int(usage.get("arrayBuffers", 0)),
    )


@check("node_heap", "Node.js memory (new node process) — {service}")
def node_heap(client: DockerClient, target: Target, service: str = "backend") -> Outcome:
    """The runbook's `docker exec netzwaechter-backend node -e "console.log(process.memoryUsage())"`
    in every running replica.

    Note: this starts a NEW node process inside the container, so it measures a fresh
    interpreter (baseline heap of the image's Node and the container's limits), not the
    server's own heap; the server's memory is what `stats` shows for the container. The
    backend exposes no heap endpoint, so this is what the runbook does, kept as it is."""
    target.check_service(service)
    running = [
        c
        for c in project_containers(client, target.compose.project, service)
        if c.status == "running"
    ]
    rows, findings = [], []
    for c in running:
        try:
            rows.append(_node_memory(c))
        except (*ENGINE_ERRORS, ValueError, KeyError) as exc:
            findings.append(
                Finding(
                    "node_heap",
                    c.name,
                    Priority.P3,
                    f"node -e failed: {type(exc).__name__}: {exc}"[:240],
                )
            )
    metrics = {f"node.{r.container}.heap_used_bytes": float(r.heap_used_bytes) for r in rows}
    return Outcome(rows, findings, metrics)

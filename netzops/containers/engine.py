"""The Docker host as the runbook inspects it: `docker system df`, the project's volumes,
`docker network inspect`, port conflicts (`netstat -tlnp | grep :PORT`) and the compose
configuration check (`docker compose config -q`)."""

from __future__ import annotations

import subprocess
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import psutil
from docker import DockerClient
from docker.errors import NotFound
from docker.models.containers import Container

from netzops.checks import Outcome
from netzops.containers import compose
from netzops.containers.status import (
    PROJECT,
    SERVICE,
    check,
    project_containers,
)
from netzops.errors import NetzopsError
from netzops.findings import Finding, Priority
from netzops.targets import Target

RECLAIM_HINT_BYTES = 1 << 30  # reclaimable ≥ 1 GiB: suggest `docker system prune` (our choice)
WILDCARDS = ("", "0.0.0.0", "::")


# --- docker system df -----------------------------------------------------------------------


@dataclass(frozen=True)
class DiskUsage:
    type: str
    total: int
    active: int
    size_bytes: int
    reclaimable_bytes: int


def _images(df: dict[str, Any]) -> DiskUsage:
    images = df.get("Images") or []
    used = [i for i in images if i.get("Containers", 0) != 0]
    in_use = sum(
        i["VirtualSize"] - i["SharedSize"]
        for i in used
        if i.get("VirtualSize", -1) != -1 and i.get("SharedSize", -1) != -1
    )
    size = int(df.get("LayersSize") or 0)
    return DiskUsage("Images", len(images), len(used), size, max(0, size - in_use))


def _containers(df: dict[str, Any]) -> DiskUsage:
    found = df.get("Containers") or []
    running = [c for c in found if c.get("State") == "running"]
    size = sum(int(c.get("SizeRw") or 0) for c in found)
    idle = sum(int(c.get("SizeRw") or 0) for c in found if c.get("State") != "running")
    return DiskUsage("Containers", len(found), len(running), size, idle)


def _volume_size(volume: dict[str, Any]) -> int:
    return max(0, int((volume.get("UsageData") or {}).get("Size", -1)))


def _volumes(df: dict[str, Any]) -> DiskUsage:
    found = df.get("Volumes") or []
    used = [v for v in found if (v.get("UsageData") or {}).get("RefCount", 0) > 0]
    size = sum(_volume_size(v) for v in found)
    return DiskUsage(
        "Local Volumes", len(found), len(used), size, size - sum(_volume_size(v) for v in used)
    )


def _build_cache(df: dict[str, Any]) -> DiskUsage:
    found = df.get("BuildCache") or []
    own = [b for b in found if not b.get("Shared")]
    return DiskUsage(
        "Build Cache",
        len(found),
        sum(bool(b.get("InUse")) for b in found),
        sum(int(b.get("Size", 0)) for b in own),
        sum(int(b.get("Size", 0)) for b in own if not b.get("InUse")),
    )


def disk_usage(df: dict[str, Any]) -> list[DiskUsage]:
    """The four lines of `docker system df` from the Engine's /system/df answer, computed
    as the docker CLI computes them."""
    return [_images(df), _containers(df), _volumes(df), _build_cache(df)]


@check("docker_disk_usage", "Docker disk usage (docker system df)")
def system_df(client: DockerClient, hint_bytes: int = RECLAIM_HINT_BYTES) -> Outcome:
    """`docker system df`: images, containers, volumes and build cache (count, active, size,
    reclaimable); a P3 hint when `docker system prune` could free ≥ `hint_bytes`."""
    rows = disk_usage(client.df())
    metrics: dict[str, float] = {}
    for r in rows:
        key = "docker." + r.type.lower().replace("local ", "").replace(" ", "_")
        metrics |= {
            f"{key}.count": r.total,
            f"{key}.size_bytes": r.size_bytes,
            f"{key}.reclaimable_bytes": r.reclaimable_bytes,
        }
    metrics["docker.total_bytes"] = sum(r.size_bytes for r in rows)
    free = sum(r.reclaimable_bytes for r in rows)
    findings = (
        [
            Finding(
                "docker_disk_usage",
                "docker",
                Priority.P3,
                f"{free / 1e9:.1f} GB reclaimable "
                "(docker system prune; -a also removes unused images)",
                free,
                hint_bytes,
            )
        ]
        if free >= hint_bytes
        else []
    )
    return Outcome(rows, findings, metrics)


# --- volumes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Volume:
    name: str
    volume: str
    size_bytes: int | None
    ref_count: int
    containers: str
    mountpoint: str


@check("volumes", "Volumes — {target.compose.project}")
def project_volumes(client: DockerClient, target: Target) -> Outcome:
    """The project's named volumes with their sizes (`docker system df -v`, instead of
    `du -sh /var/lib/docker/volumes/<name>/_data`) and the containers using them."""
    df = client.df()
    users: dict[str, list[str]] = defaultdict(list)
    for c in project_containers(client, target.compose.project):
        for mount in c.attrs.get("Mounts") or []:
            if mount.get("Type") == "volume":
                users[mount.get("Name", "")].append(c.name)
    mine = [
        v
        for v in df.get("Volumes") or []
        if (v.get("Labels") or {}).get(PROJECT) == target.compose.project
    ]
    rows = [
        Volume(
            v["Name"],
            (v.get("Labels") or {}).get("com.docker.compose.volume", ""),
            _volume_size(v) if (v.get("UsageData") or {}).get("Size", -1) != -1 else None,
            int((v.get("UsageData") or {}).get("RefCount", 0)),
            ", ".join(sorted(users.get(v["Name"], []))),
            v.get("Mountpoint", ""),
        )
        for v in sorted(mine, key=lambda v: str(v["Name"]))
    ]
    metrics = {
        f"volumes.{r.volume or r.name}.size_bytes": r.size_bytes
        for r in rows
        if r.size_bytes is not None
    }
    return Outcome(rows, metrics=metrics)


# --- networks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    network: str
    container: str
    service: str
    ipv4: str
    ipv6: str
    mac: str


@check("network", "Networks — {target.compose.project}")
def network(client: DockerClient, target: Target, name: str | None = None) -> Outcome:
    """`docker network inspect NAME`: the containers on it and their addresses. Without a
    name: every network the project's containers are attached to."""
    mine = project_containers(client, target.compose.project)
    names = (
        [name]
        if name
        else sorted({n for c in mine for n in c.attrs["NetworkSettings"].get("Networks") or {}})
    )
    services = {c.id: c.labels.get(SERVICE, "") for c in mine}
    members = {n: _members(client, n) for n in names}
    rows = sorted(
        (
            _endpoint(n, cid, info, services)
            for n, found in members.items()
            if found is not None
            for cid, info in found.items()
        ),
        key=lambda r: (r.network, r.container),
    )
    missing = [
        Finding("network", n, Priority.P2, f"no network named {n}")
        for n, found in members.items()
        if found is None
    ]
    return Outcome(
        rows,
        missing + ([] if name else detached(mine)),
        {f"network.{n}.containers": sum(r.network == n for r in rows) for n in names},
        title=f"Networks — {name}" if name else None,
    )


def detached(mine: list[Container]) -> list[Finding]:
    """A running container on none of the networks the rest of the project shares is cut
    off from its peers (`docker network disconnect`): P1 naming the network."""
    nets = [set(c.attrs["NetworkSettings"].get("Networks") or {}) for c in mine]
    shared = Counter(n for found in nets for n in found).most_common(1)
    if not shared:
        return []
    project_net = shared[0][0]
    return [
        Finding(
            "network",
            c.labels.get(SERVICE, c.name),
            Priority.P1,
            f"{c.name} is detached from the project network {project_net} "
            f"(attached to: {', '.join(sorted(found)) or 'no network'})",
            project_net,
        )
        for c, found in zip(mine, nets, strict=True)
        if c.status == "running" and project_net not in found
    ]


def _members(client: DockerClient, name: str) -> dict[str, Any] | None:
    """`docker network inspect NAME`'s containers (id → endpoint), None without the network."""
    try:
        return dict(client.networks.get(name).attrs.get("Containers") or {})
    except NotFound:
        return None


def _endpoint(net: str, cid: str, info: dict[str, Any], services: dict[str, str]) -> Endpoint:
    return Endpoint(
        net,
        info.get("Name", cid[:12]),
        services.get(cid, ""),
        info.get("IPv4Address", "").split("/")[0],
        info.get("IPv6Address", "").split("/")[0],
        info.get("MacAddress", ""),
    )


# --- port conflicts -------------------------------------------------------------------------


@dataclass(frozen=True)
class PortUse:
    service: str
    host_ip: str
    port: int
    range: str  # "15000-15009" when the service publishes a range (any free port will do)
    holder: str  # "", the project's container, or "pid N (name)" of another program
    conflict: bool


def published_ports(spec: Any) -> tuple[str, list[int], str] | None:
    """(host ip, host ports, protocol) of one compose `ports:` entry, short ("127.0.0.1:
    15000-15009:5000/tcp") or long syntax; None when no host port is published."""
    if isinstance(spec, dict):
        host_ip, published = str(spec.get("host_ip") or ""), str(spec.get("published") or "")
        protocol = str(spec.get("protocol") or "tcp")
    else:
        text, _, protocol = str(spec).partition("/")
        rest = text.rpartition(":")[0]
        if not rest:
            return None
        host_ip, _, published = rest.rpartition(":")
        host_ip, protocol = host_ip.strip("[]"), protocol or "tcp"
    first, _, last = published.partition("-")
    if not first.isdigit():
        return None
    return host_ip, list(range(int(first), int(last or first) + 1)), protocol


def _listeners() -> dict[int, list[tuple[str, int | None]]]:
    """TCP listening sockets: port → [(address, pid)] (pid None when not visible)."""
    found: dict[int, list[tuple[str, int | None]]] = defaultdict(list)
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr:
            found[conn.laddr.port].append((conn.laddr.ip, conn.pid))
    return found


def _holder(pid: int | None) -> str:
    if pid is None:
        return "another program (pid not visible)"
    try:
        return f"pid {pid} ({psutil.Process(pid).name()})"
    except psutil.Error:
        return f"pid {pid}"


def _published(client: DockerClient, target: Target) -> dict[int, str]:
    """Host port → the project's container that publishes it."""
    return {
        int(b["HostPort"]): c.name
        for c in project_containers(client, target.compose.project)
        for binds in (c.attrs["NetworkSettings"].get("Ports") or {}).values()
        for b in binds or []
        if str(b.get("HostPort", "")).isdigit()
    }


def _needed(target: Target) -> list[tuple[str, str, list[int]]]:
    needs = []
    for service, spec in (compose.compose_config(target).get("services") or {}).items():
        for entry in spec.get("ports") or []:
            parsed = published_ports(entry)
            if parsed and parsed[2] == "tcp":
                needs.append((str(service), parsed[0], parsed[1]))
    return needs


@check("port_conflicts", "Port conflicts — {target.compose.project}")
def port_conflicts(client: DockerClient, target: Target, ports: list[int] | None = None) -> Outcome:
    """Host ports the target needs (its compose file's published ports, or `ports`) that a
    program other than the project's own containers listens on (`netstat -tlnp | grep
    :PORT`). A taken fixed port is P1 (the service cannot start); a taken part of a port
    range is P3 (fewer replicas fit), all of it P1."""
    check = "port_conflicts"
    try:
        needs = _needed(target) if ports is None else [("(asked)", "", list(ports))]
    except (NetzopsError, subprocess.TimeoutExpired) as exc:
        why = f"ports unknown: {exc}"[:240]
        return Outcome(findings=[Finding(check, target.compose.project, Priority.P2, why)])
    ours = _published(client, target)
    listening = _listeners()
    rows = [
        _use(service, ip, port, group, ours, listening)
        for service, ip, group in needs
        for port in group
    ]
    return Outcome(
        rows, _port_findings(check, rows), {"ports.conflicts": sum(r.conflict for r in rows)}
    )


def _use(
    service: str,
    ip: str,
    port: int,
    group: list[int],
    ours: dict[int, str],
    listening: dict[int, list[tuple[str, int | None]]],
) -> PortUse:
    span = f"{group[0]}-{group[-1]}" if len(group) > 1 else ""
    if port in ours:
        return PortUse(service, ip, port, span, ours[port], False)
    clash = [
        pid
        for addr, pid in listening.get(port, [])
        if ip in WILDCARDS or addr in WILDCARDS or addr == ip
    ]
    return PortUse(service, ip, port, span, _holder(clash[0]) if clash else "", bool(clash))


def _port_findings(check: str, rows: list[PortUse]) -> list[Finding]:
    found = []
    for r in rows:
        if r.conflict and not r.range:
            found.append(
                Finding(
                    check,
                    f"{r.service}:{r.port}",
                    Priority.P1,
                    f"port {r.port} needed by {r.service} is taken by {r.holder}: "
                    "the service cannot start",
                    r.port,
                )
            )
    spans: dict[tuple[str, str], list[PortUse]] = defaultdict(list)
    for r in rows:
        if r.range:
            spans[r.service, r.range].append(r)
    for (service, span), group in spans.items():
        taken = [r for r in group if r.conflict]
        if taken:
            priority = Priority.P1 if len(taken) == len(group) else Priority.P3
            found.append(
                Finding(
                    check,
                    f"{service}:{span}",
                    priority,
                    f"{len(taken)} of {len(group)} ports of {span} taken by other "
                    f"programs: {', '.join(str(r.port) for r in taken)}",
                    len(taken),
                )
            )
    return found

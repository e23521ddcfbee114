"""The host's resources (psutil): `df -h`, `free -h`, `top` (CPU, load), and the disk that
holds Docker's data-root. Measures the machine netzops runs on: run it on the Docker host.

Findings against the runbook's targets: disk < 80 % (> 90 % is P1), memory < 80 %,
CPU < 70 % (target.bands: disk_percent, memory_percent, cpu_percent).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import psutil
from docker import DockerClient

from netzops.checks import Outcome, checker
from netzops.containers.engine import disk_usage
from netzops.containers.status import check as docker_check
from netzops.findings import Finding, Priority, above
from netzops.results import Result
from netzops.targets import Target

CPU_INTERVAL_S = 1.0


def _unreadable(check: str, title: str, exc: Exception) -> Result:
    """A host figure the OS would not give (a vanished mount, /proc not readable): P3."""
    why = f"cannot read: {type(exc).__name__}: {exc}"[:240]
    return Result.of(check, title, findings=[Finding(check, "host", Priority.P3, why)])


#: The host check decorator (see `netzops.checks`).
check = checker("host", (OSError, psutil.Error), _unreadable)


@dataclass(frozen=True)
class Mount:
    mount: str
    device: str
    fstype: str
    size_bytes: int
    used_bytes: int
    free_bytes: int
    percent: float


def mount_usage(path: str, device: str = "", fstype: str = "") -> Mount:
    """One mount's use as df shows it: percent = used / (used + available to users)."""
    use = psutil.disk_usage(path)
    return Mount(
        path, device, fstype, int(use.total), int(use.used), int(use.free), float(use.percent)
    )


def _disk_findings(target: Target, rows: list[Mount]) -> list[Finding]:
    found = (
        above("host_disk", r.mount, r.percent, target.bands["disk_percent"], "disk use %")
        for r in rows
    )
    return [f for f in found if f]


@check("host_disk", "Disk use per mount (df -h)")
def disks(target: Target) -> Outcome:
    """`df -h` for the physical file systems: size, used, free and use % per mount."""
    rows = []
    for part in psutil.disk_partitions(all=False):
        try:
            rows.append(mount_usage(part.mountpoint, part.device, part.fstype))
        except OSError:
            continue  # vanished or unreadable mount
    metrics = {f"host.disk.{r.mount}.percent": r.percent for r in rows}
    return Outcome(rows, _disk_findings(target, rows), metrics)


@dataclass(frozen=True)
class Memory:
    total_bytes: int
    used_bytes: int
    free_bytes: int
    available_bytes: int
    buffers_cache_bytes: int
    swap_total_bytes: int
    swap_used_bytes: int
    percent: float


@check("host_memory", "Host memory (free -h)")
def memory(target: Target) -> Outcome:
    """`free -h`: used = total − available (as procps ≥ 4 and psutil compute it); percent
    of total in use against the memory band."""
    vm, swap = psutil.virtual_memory(), psutil.swap_memory()
    cache = int(getattr(vm, "buffers", 0)) + int(getattr(vm, "cached", 0))
    row = Memory(
        int(vm.total),
        int(vm.total - vm.available),
        int(vm.free),
        int(vm.available),
        cache,
        int(swap.total),
        int(swap.used),
        round((vm.total - vm.available) / vm.total * 100.0, 1),
    )
    found = above("host_memory", "host", row.percent, target.bands["memory_percent"], "memory %")
    return Outcome(
        [row],
        [found] if found else [],
        {"host.memory.percent": row.percent, "host.memory.available_bytes": row.available_bytes},
    )


@dataclass(frozen=True)
class Cpu:
    cpu_percent: float
    cpus: int
    load_1m: float
    load_5m: float
    load_15m: float
    load_1m_per_cpu: float


@check("host_cpu", "Host CPU over {interval_s:g} s (top)")
def cpu(target: Target, interval_s: float = CPU_INTERVAL_S) -> Outcome:
    """`top`'s summary: CPU busy % over `interval_s` seconds (all CPUs) and the load
    averages; the CPU % against the cpu band."""
    busy = float(psutil.cpu_percent(interval=interval_s))
    cpus = psutil.cpu_count() or 1
    load1, load5, load15 = os.getloadavg()
    row = Cpu(
        busy, cpus, round(load1, 2), round(load5, 2), round(load15, 2), round(load1 / cpus, 2)
    )
    found = above("host_cpu", "host", busy, target.bands["cpu_percent"], "CPU %")
    return Outcome(
        [row],
        [found] if found else [],
        {
            "host.cpu.percent": busy,
            "host.load.1m": row.load_1m,
            "host.load.5m": row.load_5m,
            "host.load.15m": row.load_15m,
        },
    )


@dataclass(frozen=True)
class DataRoot:
    path: str
    docker_bytes: int
    fs_size_bytes: int
    fs_used_bytes: int
    fs_free_bytes: int
    fs_percent: float


@docker_check("docker_data_root", "Docker data-root")
def docker_data_root(client: DockerClient, target: Target) -> Outcome:
    """Docker's data-root (`docker info`), what Docker keeps there (images, containers,
    volumes, build cache, as `docker system df` adds them up) and the use of the file system
    holding it, against the disk band."""
    path = str(client.info().get("DockerRootDir", ""))
    docker_bytes = float(sum(r.size_bytes for r in disk_usage(client.df())))
    try:
        fs = mount_usage(path)
    except OSError:
        return Outcome(
            metrics={"docker.total_bytes": docker_bytes},
            notes=[f"{path} is not visible here (remote engine?): run this on the Docker host"],
        )
    row = DataRoot(path, int(docker_bytes), fs.size_bytes, fs.used_bytes, fs.free_bytes, fs.percent)
    return Outcome(
        [row],
        _disk_findings(target, [fs]),
        {"docker.total_bytes": docker_bytes, "host.docker_root.percent": fs.percent},
    )

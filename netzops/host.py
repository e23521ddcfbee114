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


@dataclass(frozen=True)
class Inodes:
    mount: str
    device: str
    inodes: int
    used: int
    free: int
    percent: float  # of inodes in use, as `df -i` shows it


def inode_usage(path: str, device: str = "") -> Inodes | None:
    """`df -i` for one mount (None for file systems without an inode limit: btrfs, …)."""
    st = os.statvfs(path)
    if st.f_files == 0:
        return None
    used = st.f_files - st.f_ffree
    return Inodes(path, device, st.f_files, used, st.f_favail, round(100.0 * used / st.f_files, 1))


@check("host_inodes", "Inode use per mount (df -i)")
def inodes(
    target: Target,
    warn_percent: float = 90.0,  # check_disk -W 10% (free inodes) as Nagios/Icinga configure it
    critical_percent: float = 95.0,  # check_disk -K 5%
) -> Outcome:
    """`df -i` for the physical file systems: a disk with free bytes but no free inodes
    refuses new files. P2 from `warn_percent` in use, P1 from `critical_percent`."""
    rows = [
        row
        for part in psutil.disk_partitions(all=False)
        if (row := inode_usage(part.mountpoint, part.device)) is not None
    ]
    findings = [
        Finding(
            "host_inodes",
            r.mount,
            Priority.P1 if r.percent >= critical_percent else Priority.P2,
            f"{r.percent:g} % of inodes in use ({r.free} free)",
            r.percent,
            critical_percent if r.percent >= critical_percent else warn_percent,
        )
        for r in rows
        if r.percent >= warn_percent
    ]
    return Outcome(rows, findings, {f"host.inodes.{r.mount}.percent": r.percent for r in rows})


@dataclass(frozen=True)
class LoadPerCpu:
    cpus: int
    load_1m: float
    load_5m: float
    load_15m: float
    per_cpu_1m: float
    per_cpu_5m: float
    per_cpu_15m: float


@check("host_load", "Host load per CPU")
def load(
    target: Target,
    warn_per_cpu: float = 1.0,  # more runnable tasks than CPUs (check_load -r: per CPU)
    critical_per_cpu: float = 2.0,  # twice as many: requests queue
) -> Outcome:
    """Load averages divided by the CPUs (`check_load -r`); the 5-minute figure is judged:
    P3 from `warn_per_cpu`, P2 from `critical_per_cpu` (a 1-minute spike is not an alert)."""
    cpus = psutil.cpu_count() or 1
    one, five, fifteen = os.getloadavg()
    row = LoadPerCpu(
        cpus,
        round(one, 2),
        round(five, 2),
        round(fifteen, 2),
        round(one / cpus, 3),
        round(five / cpus, 3),
        round(fifteen / cpus, 3),
    )
    findings = []
    if row.per_cpu_5m >= warn_per_cpu:
        high = row.per_cpu_5m >= critical_per_cpu
        findings.append(
            Finding(
                "host_load",
                "host",
                Priority.P2 if high else Priority.P3,
                f"5-minute load {row.load_5m:g} on {cpus} CPUs = {row.per_cpu_5m:g} per CPU",
                row.per_cpu_5m,
                critical_per_cpu if high else warn_per_cpu,
            )
        )
    metrics = {
        "host.load.per_cpu_1m": row.per_cpu_1m,
        "host.load.per_cpu_5m": row.per_cpu_5m,
        "host.load.per_cpu_15m": row.per_cpu_15m,
    }
    return Outcome([row], findings, metrics)

"""Host resources against df, free, /proc/loadavg and docker info."""

from __future__ import annotations

import pytest
from docker import DockerClient

from netzops import containers, host
from netzops.targets import Target, parse_target
from tests.conftest import sh


def _with_bands(target: Target, **bands: dict[str, float]) -> Target:
    return parse_target({**target.model_dump(), "thresholds": bands})


def _df(path: str) -> tuple[int, int]:
    """(used, size) in bytes from `df -B1 --output=used,size PATH`."""
    used, size = sh("df", "-B1", "--output=used,size", path).splitlines()[1].split()
    return int(used), int(size)


def test_disks_match_df_within_one_percent(target: Target) -> None:
    result = host.disks(target)
    mounts = {r["mount"] for r in result.rows}
    assert "/" in mounts
    listed = {
        line.split()[0] for line in sh("df", "-B1", "--output=target,used,size").splitlines()[1:]
    }
    assert mounts & listed
    for row in result.rows:
        used, size = _df(row["mount"])
        assert row["size_bytes"] == pytest.approx(size, rel=0.01)
        assert row["used_bytes"] == pytest.approx(used, rel=0.01)
        assert row["percent"] == pytest.approx(
            row["used_bytes"] / (row["used_bytes"] + row["free_bytes"]) * 100, abs=0.1
        )


def test_disk_bands_give_p1_above_critical_and_p2_above_warn(target: Target) -> None:
    percent = host.disks(target).rows[0]["percent"]
    assert 0 < percent < 90
    critical = host.disks(_with_bands(target, disk_percent={"warn": 0.01, "critical": 0.02}))
    assert {f.priority.name for f in critical.findings} == {"P1"}
    warn = host.disks(_with_bands(target, disk_percent={"warn": 0.01, "critical": 99.9}))
    assert {f.priority.name for f in warn.findings} == {"P2"}
    assert host.disks(target).findings == [] or percent > 80


def test_memory_matches_free_within_two_percent(target: Target) -> None:
    result = host.memory(target)
    row = result.rows[0]
    fields = sh("free", "-b").splitlines()[1].split()
    total, used, available = int(fields[1]), int(fields[2]), int(fields[6])
    assert row["total_bytes"] == total
    assert abs(row["available_bytes"] - available) <= 0.02 * total
    assert abs(row["used_bytes"] - used) <= 0.02 * total
    assert result.metrics["host.memory.percent"] == row["percent"]
    strict = host.memory(_with_bands(target, memory_percent={"warn": 0.01}))
    assert [f.priority.name for f in strict.findings] == ["P2"]


def test_cpu_and_load_average(target: Target) -> None:
    result = host.cpu(target, interval_s=0.5)
    row = result.rows[0]
    load = [float(v) for v in sh("cat", "/proc/loadavg").split()[:3]]
    assert 0.0 <= row["cpu_percent"] <= 100.0
    assert row["cpus"] == int(sh("nproc", "--all").strip())
    assert row["load_15m"] == pytest.approx(load[2], abs=0.2)
    assert row["load_1m"] == pytest.approx(load[0], abs=1.0)
    always = host.cpu(_with_bands(target, cpu_percent={"critical": -1}), interval_s=0.1)
    assert [f.priority.name for f in always.findings] == ["P1"]


def test_docker_data_root_matches_docker_info_and_df(client: DockerClient, target: Target) -> None:
    result = host.docker_data_root(client, target)
    row = result.rows[0]
    assert row["path"] == sh("docker", "info", "--format", "{{.DockerRootDir}}").strip()
    used, size = _df(row["path"])
    assert row["fs_size_bytes"] == pytest.approx(size, rel=0.01)
    assert row["fs_used_bytes"] == pytest.approx(used, rel=0.01)
    assert row["docker_bytes"] > 0
    down = target.model_copy(update={"docker_host": "tcp://127.0.0.1:9"})
    failed = host.docker_data_root(containers.connect(down), down)
    assert [f.priority.name for f in failed.findings] == ["P0"]

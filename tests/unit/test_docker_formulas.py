"""docker stats' CPU and memory formulas, docker system df's sums and compose port specs,
on hand-made Engine API answers (cgroup v1 and v2 shapes)."""

from __future__ import annotations

from typing import Any

import pytest

from netzops.containers.engine import DiskUsage, disk_usage, published_ports
from netzops.containers.status import cpu_percent, memory_used

MiB = 1024 * 1024


def _cpu(total: int, system: int, pre_total: int, pre_system: int, **extra: Any) -> dict[str, Any]:
    usage: dict[str, Any] = {"total_usage": total}
    if "percpu" in extra:
        usage["percpu_usage"] = extra.pop("percpu")
    return {
        "cpu_stats": {"cpu_usage": usage, "system_cpu_usage": system, **extra},
        "precpu_stats": {"cpu_usage": {"total_usage": pre_total}, "system_cpu_usage": pre_system},
    }


def test_cpu_percent_cgroup_v2_uses_online_cpus() -> None:
    # 0.5 s of CPU over 4 s of system time (all CPUs), 4 CPUs online → 50 %
    stats = _cpu(1_500_000_000, 14_000_000_000, 1_000_000_000, 10_000_000_000, online_cpus=4)
    assert cpu_percent(stats) == pytest.approx(50.0)


def test_cpu_percent_cgroup_v1_without_online_cpus_counts_percpu_entries() -> None:
    stats = _cpu(3_000, 10_000, 1_000, 6_000, percpu=[1, 2, 3, 4, 5, 6, 7, 8])
    assert cpu_percent(stats) == pytest.approx(2_000 / 4_000 * 8 * 100)


def test_cpu_percent_without_any_cpu_count_assumes_one() -> None:
    assert cpu_percent(_cpu(2_000, 10_000, 1_000, 6_000)) == pytest.approx(25.0)


def test_cpu_percent_may_exceed_100_on_several_cpus() -> None:
    assert cpu_percent(_cpu(9_000, 10_000, 1_000, 6_000, online_cpus=2)) == pytest.approx(400.0)


@pytest.mark.parametrize(
    "stats",
    [
        _cpu(5_000, 6_000, 1_000, 6_000, online_cpus=2),  # no system delta (first sample)
        _cpu(500, 10_000, 1_000, 6_000, online_cpus=2),  # counter went back (restart)
        {"cpu_stats": {"cpu_usage": {"total_usage": 10}, "system_cpu_usage": 0}},  # no precpu
    ],
)
def test_cpu_percent_is_unknown_without_usable_deltas(stats: dict[str, Any]) -> None:
    assert cpu_percent(stats) is None  # no figure (issue 11 B): not 0 %


def test_memory_cgroup_v2_subtracts_inactive_file() -> None:
    stats = {
        "memory_stats": {
            "usage": 100 * MiB,
            "limit": 512 * MiB,
            "stats": {"inactive_file": 30 * MiB, "anon": 60 * MiB},
        }
    }
    assert memory_used(stats) == 70 * MiB


def test_memory_cgroup_v1_prefers_total_inactive_file_like_the_docker_cli() -> None:
    stats = {
        "memory_stats": {
            "usage": 100 * MiB,
            "stats": {
                "inactive_file": 10 * MiB,
                "total_inactive_file": 25 * MiB,
                "cache": 40 * MiB,
            },
        }
    }
    assert memory_used(stats) == 75 * MiB


def test_memory_keeps_usage_when_inactive_is_not_smaller() -> None:
    assert memory_used({"memory_stats": {"usage": 5, "stats": {"inactive_file": 9}}}) == 5
    assert memory_used({"memory_stats": {"usage": 7}}) == 7
    assert memory_used({}) == 0


def test_system_df_sums_like_the_docker_cli() -> None:
    df = {
        "LayersSize": 1000,
        "Images": [
            {"Containers": 2, "VirtualSize": 600, "SharedSize": 100},
            {"Containers": 0, "VirtualSize": 400, "SharedSize": 0},
        ],
        "Containers": [{"State": "running", "SizeRw": 10}, {"State": "exited", "SizeRw": 7}],
        "Volumes": [
            {"UsageData": {"RefCount": 1, "Size": 300}},
            {"UsageData": {"RefCount": 0, "Size": 50}},
            {"UsageData": {"RefCount": 0, "Size": -1}},
        ],  # size not computed
        "BuildCache": [
            {"InUse": True, "Shared": False, "Size": 5},
            {"InUse": False, "Shared": False, "Size": 11},
            {"InUse": False, "Shared": True, "Size": 99},
        ],
    }
    assert disk_usage(df) == [
        DiskUsage("Images", 2, 1, 1000, 500),
        DiskUsage("Containers", 2, 1, 17, 7),
        DiskUsage("Local Volumes", 3, 1, 350, 50),
        DiskUsage("Build Cache", 3, 1, 16, 11),
    ]
    assert disk_usage({}) == [
        DiskUsage(t, 0, 0, 0, 0) for t in ("Images", "Containers", "Local Volumes", "Build Cache")
    ]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("127.0.0.1:15000-15009:5000/tcp", ("127.0.0.1", list(range(15000, 15010)), "tcp")),
        ("8080:80", ("", [8080], "tcp")),
        ("127.0.0.1:5353:53/udp", ("127.0.0.1", [5353], "udp")),
        ("[::1]:8443:443", ("::1", [8443], "tcp")),
        ("5000", None),  # container port only: nothing on the host
        ("127.0.0.1::5000", None),  # ephemeral host port
        (
            {"host_ip": "127.0.0.1", "target": 5432, "published": "15432", "protocol": "tcp"},
            ("127.0.0.1", [15432], "tcp"),
        ),
        ({"target": 5000, "published": "15000-15002"}, ("", [15000, 15001, 15002], "tcp")),
        ({"target": 80}, None),
    ],
)
def test_published_ports_short_and_long_syntax(spec: Any, expected: Any) -> None:
    assert published_ports(spec) == expected

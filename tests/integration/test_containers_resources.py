"""Container resources and Docker's disk use against `docker stats --no-stream` and
`docker system df`. Counters that only grow are checked between a CLI reading taken before
and one taken after ours; memory, which moves, within 5 % or 2 MiB."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import psutil
import pytest
from docker import DockerClient

from netzops import containers
from netzops.targets import Target, parse_target
from tests.conftest import sh

MiB = 1024 * 1024
_UNITS = {
    "B": 1,
    "kB": 1e3,
    "KB": 1e3,
    "MB": 1e6,
    "GB": 1e9,
    "TB": 1e12,
    "KiB": 1024,
    "MiB": MiB,
    "GiB": 1024 * MiB,
    "TiB": 1024**4,
}


def size(text: str) -> float:
    """Bytes of a docker CLI size ("30.27MiB", "8.91MB", "0B (0%)")."""
    found = re.match(r"\s*([\d.]+)\s*([A-Za-z]+)", text)
    assert found, text
    return float(found.group(1)) * _UNITS[found.group(2)]


def _pair(text: str) -> tuple[float, float]:
    left, right = text.split(" / ")
    return size(left), size(right)


def _docker_stats(names: list[str]) -> dict[str, dict[str, str]]:
    out = sh("docker", "stats", "--no-stream", "--format", "{{json .}}", *names)
    return {row["Name"]: row for row in map(json.loads, out.splitlines())}


def test_container_stats_match_docker_stats(client: DockerClient, target: Target) -> None:
    names = [
        c.name
        for c in containers.project_containers(client, "netzwaechter")
        if c.status == "running"
    ]
    first = _docker_stats(names)
    ours = {r["container"]: SimpleNamespace(**r) for r in containers.stats(client, target).rows}
    second = _docker_stats(names)
    assert set(ours) == set(names)
    for name, row in ours.items():
        mem = [_pair(cli[name]["MemUsage"]) for cli in (first, second)]
        assert any(abs(row.memory_bytes - used) <= max(0.05 * used, 2 * MiB) for used, _ in mem), (
            name,
            row.memory_bytes,
            mem,
        )
        assert row.memory_limit_bytes == pytest.approx(mem[1][1], rel=0.005)
        for ours_value, key, side in (
            (row.net_rx_bytes, "NetIO", 0),
            (row.net_tx_bytes, "NetIO", 1),
            (row.block_read_bytes, "BlockIO", 0),
            (row.block_write_bytes, "BlockIO", 1),
        ):
            low, high = _pair(first[name][key])[side], _pair(second[name][key])[side]
            # the CLI prints 3 significant digits: allow its rounding on both sides
            assert low * 0.994 - 1 <= ours_value <= high * 1.006 + 1, (name, key, side)
        assert row.cpu_percent is not None, row.cpu_note  # steady containers: a figure
        assert 0.0 <= row.cpu_percent <= 100.0 * (psutil.cpu_count() or 1)
        assert row.pids >= 1


def test_stats_result_carries_metrics_and_judges_memory(
    client: DockerClient, target: Target
) -> None:
    result = containers.stats(client, target)
    assert {r["service"] for r in result.rows} >= {"backend", "postgres", "redis", "frontend"}
    backend = [r for r in result.rows if r["service"] == "backend"]
    limit = int(
        sh("docker", "inspect", "--format", "{{.HostConfig.Memory}}", backend[0]["container"])
    )
    assert backend[0]["memory_limit_bytes"] == limit == 512 * MiB
    key = "containers.backend" if len(backend) == 1 else f"containers.{backend[0]['container']}"
    assert result.metrics[f"{key}.memory_bytes"] == backend[0]["memory_bytes"]
    tight = {"memory_percent": {"warn": 0.0001}}
    strict = parse_target({**target.model_dump(), "thresholds": tight})
    judged = containers.stats(client, strict)
    assert {f.subject for f in judged.findings if f.check == "container_memory"} >= {
        r["container"] for r in judged.rows if r["memory_percent"] > 0.0001
    }


def _system_df() -> dict[str, dict[str, str]]:
    out = sh("docker", "system", "df", "--format", "{{json .}}")
    return {row["Type"]: row for row in map(json.loads, out.splitlines())}


def test_system_df_matches_docker_system_df(client: DockerClient) -> None:
    first = _system_df()
    ours = {r["type"]: r for r in containers.system_df(client).rows}
    second = _system_df()
    assert set(ours) == set(first)
    for kind, row in ours.items():
        clis = (first[kind], second[kind])
        assert any(row["total"] == int(c["TotalCount"]) for c in clis), (kind, row, clis)
        assert any(row["active"] == int(c["Active"]) for c in clis), (kind, row, clis)
        for ours_value, key in (
            (row["size_bytes"], "Size"),
            (row["reclaimable_bytes"], "Reclaimable"),
        ):
            cli = [size(c[key]) for c in clis]
            assert any(abs(ours_value - v) <= max(0.02 * v, 1000) for v in cli), (kind, key, cli)


def test_system_df_metrics_add_up(client: DockerClient) -> None:
    result = containers.system_df(client)
    assert result.metrics["docker.total_bytes"] == sum(r["size_bytes"] for r in result.rows)
    volumes = next(r for r in result.rows if r["type"] == "Local Volumes")
    assert result.metrics["docker.volumes.size_bytes"] == volumes["size_bytes"]

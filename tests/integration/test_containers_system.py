"""Volumes, networks, environment names, port conflicts, the compose config check and the
Node.js heap probe, against docker volume/network/inspect, du, compose and node itself."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

from docker import DockerClient

from netzops import containers
from netzops.containers import compose
from netzops.paths import project_root
from netzops.targets import Target
from tests.conftest import sh

NETWORK = "netzwaechter-network"


def test_project_volumes_match_docker_and_du(client: DockerClient, target: Target) -> None:
    result = containers.project_volumes(client, target)
    listed = sh(
        "docker", "volume", "ls", "-q", "--filter", "label=com.docker.compose.project=netzwaechter"
    ).split()
    assert sorted(r["name"] for r in result.rows) == sorted(listed)
    by_volume = {r["volume"]: r for r in result.rows}
    assert by_volume["postgres-data"]["containers"] == "netzwaechter-postgres"
    assert by_volume["redis-data"]["containers"] == "netzwaechter-redis"
    for row in result.rows:
        assert (
            row["mountpoint"]
            == sh("docker", "volume", "inspect", "--format", "{{.Mountpoint}}", row["name"]).strip()
        )
        du = int(sh("du", "-sb", row["mountpoint"]).split()[0])  # counts directories too
        assert abs(row["size_bytes"] - du) <= max(0.05 * du, 64 * 1024), (row, du)
        assert result.metrics[f"volumes.{row['volume']}.size_bytes"] == row["size_bytes"]


def _inspect_network() -> dict[str, str]:
    out = sh("docker", "network", "inspect", NETWORK, "--format", "{{json .Containers}}")
    return {c["Name"]: c["IPv4Address"].split("/")[0] for c in json.loads(out).values()}


def test_network_members_and_addresses_match_docker_network_inspect(
    client: DockerClient, target: Target
) -> None:
    before = _inspect_network()
    result = containers.network(client, target)
    after = _inspect_network()
    ours = {r["container"]: r["ipv4"] for r in result.rows if r["network"] == NETWORK}
    assert ours in (before, after)
    services = {r["service"] for r in result.rows if r["network"] == NETWORK}
    assert {"frontend", "backend", "postgres", "redis"} <= services
    assert containers.network(client, target, NETWORK).rows == [
        r for r in result.rows if r["network"] == NETWORK
    ]
    missing = containers.network(client, target, "netzops-test-no-such-network")
    assert missing.rows == [] and [f.priority.name for f in missing.findings] == ["P2"]


def test_env_names_show_names_but_never_values(client: DockerClient, target: Target) -> None:
    result = containers.env_names(client, target, "backend")
    names = {r["name"] for r in result.rows}
    assert {"PGHOST", "PGDATABASE", "REDIS_HOST", "SESSION_SECRET_FILE"} <= names
    text = json.dumps(result.to_json())
    for container in {r["container"] for r in result.rows}:
        env = json.loads(sh("docker", "inspect", "--format", "{{json .Config.Env}}", container))
        assert {e.partition("=")[0] for e in env} <= names
        text = text.replace(container, "")
        values = [e.partition("=")[2] for e in env]
        for name in sorted(names, key=len, reverse=True):
            text = text.replace(name, "")
        for value in values:
            assert json.dumps(value) not in text, "a value appears as a JSON string"
            assert len(value) < 4 or value not in text, "a value appears in the result"


def test_a_port_taken_by_another_program_is_a_conflict(
    client: DockerClient, target: Target
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        taken = containers.port_conflicts(client, target, ports=[port])
        assert f":{port} " in sh("ss", "-ltnH") + " "
    assert taken.rows[0]["conflict"] is True
    assert f"pid {os.getpid()}" in taken.rows[0]["holder"]
    assert [f.priority.name for f in taken.findings] == ["P1"]
    free = containers.port_conflicts(client, target, ports=[port])
    assert free.rows[0]["conflict"] is False and free.findings == []


def test_the_sandbox_needs_its_ports_and_holds_them_itself(
    client: DockerClient, target: Target
) -> None:
    result = containers.port_conflicts(client, target)
    holders = {r["port"]: r["holder"] for r in result.rows}
    for name in ("netzwaechter-postgres", "netzwaechter-redis", "netzwaechter-frontend"):
        for line in sh("docker", "port", name).splitlines():
            host_port = int(line.rsplit(":", 1)[1])
            assert holders[host_port] == name
    assert {15432, 16379, 8080, 8443} <= set(holders)
    assert set(range(15000, 15010)) <= set(holders)
    fixed = [r for r in result.rows if not r["range"]]
    assert not any(r["conflict"] for r in fixed)


def _copy_target(target: Target, folder: Path, text: str) -> Target:
    path = folder / "docker-compose.yml"
    path.write_text(text)
    return target.model_copy(
        update={"compose": target.compose.model_copy(update={"file": str(path)})}
    )


def test_compose_config_check_ok_and_broken(target: Target, tmp_path: Path) -> None:
    assert containers.config_check(target).rows[0]["ok"] is True
    text = (project_root() / "sandbox" / "docker-compose.yml").read_text()
    intact = _copy_target(target, tmp_path, text)
    assert containers.config_check(intact).findings == []
    broken_dir = tmp_path / "broken"
    broken_dir.mkdir()
    broken = _copy_target(
        target, broken_dir, text.replace("  backend:\n", "  backend:\n    bogus_option: 1\n", 1)
    )
    result = containers.config_check(broken)
    assert result.rows[0]["ok"] is False
    assert [f.priority.name for f in result.findings] == ["P1"]
    assert "bogus_option" in result.findings[0].summary
    cli = subprocess.run(
        [*compose.base_command(broken), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert cli.returncode != 0 and "bogus_option" in cli.stderr
    shutil.rmtree(broken_dir)


def test_node_heap_is_a_fresh_node_process_inside_each_replica(
    client: DockerClient, target: Target
) -> None:
    result = containers.node_heap(client, target)
    assert result.findings == []
    running = [
        c.name
        for c in containers.project_containers(client, "netzwaechter", "backend")
        if c.status == "running"
    ]
    assert sorted(r["container"] for r in result.rows) == sorted(running)
    for row in result.rows:
        runbook = json.loads(
            sh(
                "docker",
                "exec",
                row["container"],
                "node",
                "-e",
                "console.log(JSON.stringify(process.memoryUsage()))",
            )
        )
        assert 0 < row["heap_used_bytes"] <= row["heap_total_bytes"] <= row["rss_bytes"]
        assert row["rss_bytes"] < 512 * 1024 * 1024  # the backend's mem_limit
        # two fresh node processes: same order of magnitude
        assert 0.5 < row["heap_total_bytes"] / runbook["heapTotal"] < 2.0
        assert 0.5 < row["rss_bytes"] / runbook["rss"] < 2.0


def test_an_unreachable_engine_gives_findings_not_exceptions(target: Target) -> None:
    down = target.model_copy(update={"docker_host": "tcp://127.0.0.1:9"})
    client = containers.connect(down)
    for result in (
        containers.system_df(client),
        containers.project_volumes(client, down),
        containers.network(client, down),
        containers.env_names(client, down, "backend"),
        containers.node_heap(client, down),
        containers.port_conflicts(client, down),
    ):
        assert [f.priority.name for f in result.findings] == ["P0"], result.title

"""Container logs streamed once into the one-pass scan (issue 13), on a throwaway project
with two backend replicas: one logs slow queries with a NaN duration beside a finite one
and ERROR lines; the other uses the `none` log driver, whose log the engine cannot read
back. Figures are compared with `docker logs | grep -c`."""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from docker import DockerClient

from netzops import logs
from netzops.targets import Target
from tests.conftest import sh

LINES = [
    '2026-11-27T01:17:34.796Z WARN slow query duration_ms=NaN query="SELECT 1"',
    '2026-11-27T01:17:35.001Z WARN slow query duration_ms=812.0 query="SELECT 2"',
    "2026-11-27T01:17:35.100Z ERROR database error: connection terminated",
    "2026-11-27T01:17:35.200Z ERROR request method=GET path=/api/x status=500 latency_ms=2.0",
    "2026-11-27T01:17:35.300Z INFO request method=GET path=/api/x status=200 latency_ms=1.0",
]


def _replica(project: str, number: int, folder: Path, *driver: str) -> str:
    name = f"{project}-backend-{number}"
    sh(
        "docker", "run", "-d", "--name", name, "--network", "none", *driver,
        "--label", f"com.docker.compose.project={project}",
        "--label", "com.docker.compose.service=backend",
        "--label", f"com.docker.compose.container-number={number}",
        "-v", "/usr:/usr:ro", "-v", f"{folder}:/t:ro",
        "netzwaechter/base:local", "/bin/sh", "-c", "cat /t/out.txt",
    )  # fmt: skip
    return name


@pytest.fixture(scope="module")
def project(target: Target, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    folder = tmp_path_factory.mktemp("replicas")
    (folder / "out.txt").write_text("".join(line + "\n" for line in LINES))
    name = f"netzops-test-scan-{secrets.token_hex(4)}"
    made = []
    try:
        made.append(_replica(name, 1, folder))
        made.append(_replica(name, 2, folder, "--log-driver", "none"))
        for container in made:
            sh("docker", "wait", container, timeout=30)
        yield target.model_copy(
            update={"compose": target.compose.model_copy(update={"project": name})}
        )
    finally:
        for container in made:
            sh("docker", "rm", "-f", container, check=False)


def _grep_c(container: str, pattern: str) -> int:
    text = subprocess.run(
        ["docker", "logs", container], capture_output=True, text=True, check=True
    ).stdout
    return sum(pattern in line for line in text.splitlines())


def test_none_driver_replica_is_unavailable_not_an_engine_failure(
    client: DockerClient, project: Target
) -> None:
    readable = f"{project.compose.project}-backend-1"
    unreadable = f"{project.compose.project}-backend-2"
    done = subprocess.run(["docker", "logs", unreadable], capture_output=True, text=True)
    assert "does not support reading" in done.stderr  # the engine says so itself
    result = logs.errors_last_hour(client, project)
    assert result.metrics["logs.backend.errors_last_hour"] == _grep_c(readable, "ERROR") == 2
    assert result.metrics["logs.backend.unavailable_replicas"] == 1
    assert not [f for f in result.findings if f.priority.name == "P0"]
    assert any(unreadable in note for note in result.notes)
    rates = logs.request_rates(client, project, since=None)
    assert rates.metrics["logs.backend.requests"] == _grep_c(readable, " request method=")


def test_non_finite_durations_are_skipped_and_counted_apart(
    client: DockerClient, project: Target
) -> None:
    result = logs.slow_queries(client, project)
    assert result.metrics["logs.backend.slow_query_max_ms"] == 812.0
    assert result.metrics["logs.backend.slow_query_p95_ms"] == 812.0
    assert result.metrics["logs.backend.slow_queries"] == 1
    assert result.metrics["logs.backend.slow_query_non_finite"] == 1
    text = json.dumps(result.to_json(), allow_nan=False)  # raises on a NaN
    assert "NaN" not in text.replace("duration_ms=NaN", "")
    assert [r["query"] for r in result.rows] == ["SELECT 2"]

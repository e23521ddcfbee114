"""Issue 15: with the Docker engine unreachable, every check says where it asked and what to
do (the docker CLI names the same address), and `sandbox status` exits 1 on that P0."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from netzops import containers
from netzops.findings import Priority
from netzops.targets import load_target

NETZOPS = str(Path(sys.executable).with_name("netzops"))


def _refusing_socket(folder: Path) -> str:
    """A unix socket file nobody listens on: connecting is refused."""
    path = folder / "refused.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.close()
    return f"unix://{path}"


@pytest.mark.parametrize(
    ("kind", "why"),
    [
        ("missing", "no socket there"),
        ("refused", "connection refused"),
        ("tcp", "connection refused"),
    ],
)
def test_engine_down_names_the_address_the_cause_and_the_fix(
    kind: str, why: str, tmp_path: Path
) -> None:
    address = {
        "missing": f"unix://{tmp_path}/none.sock",
        "refused": _refusing_socket(tmp_path) if kind == "refused" else "",
        "tcp": "tcp://127.0.0.1:1",
    }[kind]
    target = load_target("sandbox").model_copy(update={"docker_host": address})
    result = containers.service_status(containers.connect(target), target)
    (finding,) = result.findings
    assert finding.priority == Priority.P0 and finding.subject == "docker"
    assert f"unreachable at {address} ({why})" in finding.summary
    assert "start dockerd" in finding.summary and "docker_host" in finding.summary
    assert "ConnectionError(" not in finding.summary and "Errno" not in finding.summary
    cli = subprocess.run(["docker", "-H", address, "info"], capture_output=True, text=True)
    assert cli.returncode != 0 and address in cli.stdout + cli.stderr  # the same address


def test_sandbox_status_exits_1_and_says_what_to_do_when_the_engine_is_down(
    tmp_path: Path,
) -> None:
    address = f"unix://{tmp_path}/none.sock"
    env = {**os.environ, "DOCKER_HOST": address}
    done = subprocess.run(
        [NETZOPS, "sandbox", "status"], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"[P0] docker: Docker engine unreachable at {address} (no socket there)" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_an_odd_error_keeps_its_type_and_first_line() -> None:
    error = containers.engine_error(RuntimeError("first line\nsecond line"))
    assert error == "RuntimeError: first line"

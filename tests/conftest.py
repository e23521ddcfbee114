"""Shared fixtures. Integration and notebook tests run against the real sandbox stack;
when it cannot be brought up they fail (never skip)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from netzops.sandbox import stack, traffic
from netzops.targets import Target, load_target

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent


def sh(*args: str, check: bool = True, input: str | None = None, timeout: float = 120) -> str:
    """Run a command (argument list, no shell) and return its stdout."""
    done = subprocess.run(
        args, capture_output=True, text=True, check=False, input=input, timeout=timeout
    )
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def wait_for(condition: Callable[[], T | None], seconds: float, what: str) -> T:
    """The first truthy value of `condition()`, polled every 0.2 s for up to `seconds`;
    AssertionError naming `what` after that."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} within {seconds:g} s")


def pause_unpause(container: str) -> None:
    """Pause and unpause a sandbox container (a pair of journal events), then wait until
    Docker reports it healthy again: a health check that met the pause marks it unhealthy
    until the next one, and later tests expect the sandbox healthy."""
    sh("docker", "pause", container)
    sh("docker", "unpause", container)
    status = ["docker", "inspect", "-f", "{{.State.Health.Status}}", container]
    wait_for(lambda: sh(*status).strip() == "healthy", 90, f"{container} healthy again")


def psql_command(
    *args: str, dbname: str = "netzwaechter", docker_args: Sequence[str] = ()
) -> list[str]:
    """The argv of psql as the superuser inside the sandbox's PostgreSQL container, bare rows
    and no psqlrc (-AtX); `args` are psql's own, `docker_args` docker exec's (-i, -e ...)."""
    container = ["docker", "exec", *docker_args, "netzwaechter-postgres"]
    return [*container, "psql", "-U", "postgres", "-d", dbname, "-AtX", *args]


def psql(
    *statements: str, dbname: str = "netzwaechter", check: bool = True, timeout: float = 120
) -> str:
    """Each statement as its own -c (its own transaction, so VACUUM may be one), stopping at
    the first error; stdout stripped."""
    args = [arg for s in statements for arg in ("-c", s)]
    command = psql_command("-v", "ON_ERROR_STOP=1", *args, dbname=dbname)
    return sh(*command, check=check, timeout=timeout).strip()


@pytest.fixture(scope="session", autouse=True)
def _outputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Records of test runs go to a temporary outputs folder, not the user's."""
    folder = tmp_path_factory.mktemp("outputs")
    old = os.environ.get("NETZOPS_OUTPUTS")
    os.environ["NETZOPS_OUTPUTS"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("NETZOPS_OUTPUTS", None)
    else:
        os.environ["NETZOPS_OUTPUTS"] = old


@pytest.fixture(scope="session")
def target() -> Target:
    return load_target("sandbox")


@pytest.fixture(scope="session")
def sandbox(target: Target) -> Target:
    """The sandbox, up and healthy, with some traffic behind it (integration and notebook
    tests use it automatically; see their conftest files)."""
    stack.up(target)
    tally = traffic.generate(target.http.frontend_url, seconds=6, verify=False, seed=7)
    assert tally.requests > 50 and tally.errors == 0
    return target


def redis_cli(*args: str, input: str | None = None) -> str:
    """redis-cli in the sandbox container; the password travels in the environment only."""
    env = {**os.environ, "REDISCLI_AUTH": load_target("sandbox").secret("redis_password")}
    done = subprocess.run(
        [
            "docker",
            "exec",
            "-i",
            "-e",
            "REDISCLI_AUTH",
            "netzwaechter-redis",
            "redis-cli",
            "--no-auth-warning",
            *args,
        ],
        capture_output=True,
        text=True,
        input=input,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-500:]
    return done.stdout


@pytest.fixture(scope="module")
def session_keys(sandbox: Target) -> list[str]:
    """At least one app session key (`session:*`, TTL 1 h) in the sandbox Redis, as
    redis-cli scans them: when none is left (flushed, expired), a seeded user logs in
    through the frontend and this waits until redis-cli sees its key."""
    keys = redis_cli("--scan", "--pattern", "session:*").split()
    if keys:
        return keys
    with httpx.Client(base_url=sandbox.http.frontend_url, verify=False, timeout=10) as http:
        reply = http.post("/api/login", json={"username": "viewer1", "password": traffic.PASSWORD})
    assert reply.status_code == 200, reply.text[:200]
    key = f"session:{reply.json()['session']}"

    def listed() -> list[str] | None:
        found = redis_cli("--scan", "--pattern", "session:*").split()
        return found if key in found else None

    return wait_for(listed, 30, f"redis-cli --scan to list {key}")

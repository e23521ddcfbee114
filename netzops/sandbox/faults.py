"""`netzops sandbox fault NAME on|off`: the faults the diagnosis is tested against, injected
into the sandbox one at a time and switched off again, leaving the stack healthy.

Faults of the stack (containers, the backend's fault API, the certificate) change the
sandbox itself; faults of netzops's own configuration (a wrong secret, an unreachable
engine) write a copy of the sandbox target, `parameters/targets/sandbox-fault-<name>.yaml`,
that differs only there (the real dockerd and Redis are never touched); `off` deletes it.

    fault("postgres-paused", True)    # → the target to diagnose: "sandbox"
    fault("postgres-paused", False)   # unpaused, and waits until every service is healthy
"""

from __future__ import annotations

import secrets as token
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import docker
import httpx
import yaml
from docker.errors import DockerException
from docker.models.containers import Container

from netzops import containers
from netzops.errors import NetzopsError
from netzops.paths import targets_dir
from netzops.sandbox import stack
from netzops.targets import Target, load_target

NETWORK = "netzwaechter-network"
WAIT_S = 120.0  # for the stack to be healthy again after `off`
ERROR_RATE = 0.3  # share of API requests the backend fails while `high-error-rate` is on
SLOW_QUERY_MS = 800  # delay of each monitoring query while `slow-queries` is on
MISSING_SOCKET = "unix:///run/netzops-fault/no-such-docker.sock"
LEAK_MB_PER_S = 200  # backend memory growth while `backend-oom-loop` is on (its limit: 256 MB)
BACKEND_FAULTS = ("NW_FAULT_CRASH_ON_START", "NW_FAULT_MEMORY_GROWTH_MB_PER_S")  # start-time


@dataclass(frozen=True)
class Fault:
    name: str
    what: str
    on: Callable[[docker.DockerClient, Target], None]
    off: Callable[[docker.DockerClient, Target], None]
    target: str = "sandbox"  # the target whose diagnosis shows the fault


def _container(client: docker.DockerClient, target: Target, service: str) -> list[Container]:
    found = containers.project_containers(client, target.compose.project, service)
    if not found:
        raise NetzopsError(f"no {service} container: is the sandbox up? (netzops sandbox up)")
    return found


def _each(service: str, action: str) -> Callable[[docker.DockerClient, Target], None]:
    def act(client: docker.DockerClient, target: Target) -> None:
        for c in _container(client, target, service):
            c.reload()
            if action == "stop" and c.status == "running":
                c.stop(timeout=10)
            elif action == "start" and c.status in ("exited", "created"):
                c.start()
            elif action == "pause" and c.status == "running":
                c.pause()
            elif action == "unpause" and c.status == "paused":
                c.unpause()

    return act


def _recreate_backend(**faults: str) -> Callable[[docker.DockerClient, Target], None]:
    """Recreate the backend with the start-time `faults` (compose variables; none: healthy);
    with a fault, return once its replicas have restarted 3 times."""

    def act(client: docker.DockerClient, target: Target) -> None:
        env = {**target.compose.env, **dict.fromkeys(BACKEND_FAULTS, "0"), **faults}
        changed = target.model_copy(
            update={"compose": target.compose.model_copy(update={"env": env})}
        )
        replicas = len(_container(client, target, "backend"))
        containers.compose.run(
            changed,
            "up",
            "-d",
            "--no-deps",
            "--force-recreate",
            "--scale",
            f"backend={replicas}",
            "backend",
            timeout_s=120,
        )
        if faults:
            _wait(lambda: _restarts(client, target) >= 3, 90, "the backend to crash 3 times")

    return act


def _restarts(client: docker.DockerClient, target: Target) -> int:
    return sum(int(c.attrs.get("RestartCount", 0)) for c in _container(client, target, "backend"))


def _network(connect: bool) -> Callable[[docker.DockerClient, Target], None]:
    def act(client: docker.DockerClient, target: Target) -> None:
        net = client.networks.get(NETWORK)
        for c in _container(client, target, "backend"):
            c.reload()
            attached = NETWORK in (c.attrs["NetworkSettings"].get("Networks") or {})
            if connect and not attached:
                net.connect(c, aliases=["backend"])
            elif not connect and attached:
                net.disconnect(c)

    return act


def _backend_faults(**values: float) -> Callable[[docker.DockerClient, Target], None]:
    """Set the sandbox backend's run-time faults on every replica (its fault API)."""

    def act(client: docker.DockerClient, target: Target) -> None:
        for c in _container(client, target, "backend"):
            c.reload()
            binds = (c.attrs["NetworkSettings"].get("Ports") or {}).get("5000/tcp") or []
            if not binds:
                raise NetzopsError(f"{c.name} publishes no port: is it running?")
            url = f"http://127.0.0.1:{binds[0]['HostPort']}/api/_sandbox/faults"
            answer = httpx.post(url, json=values, timeout=5.0)
            if answer.status_code != 200:
                raise NetzopsError(f"{c.name}: fault API said {answer.status_code}")

    return act


def _certificate(days: float) -> Callable[[docker.DockerClient, Target], None]:
    def act(client: docker.DockerClient, target: Target) -> None:
        stack.set_certificate(days, client)

    return act


def copy_path(name: str) -> Path:
    return targets_dir() / f"sandbox-fault-{name}.yaml"


def _target_copy(
    name: str, change: Callable[[dict[str, Any], Path], None]
) -> Callable[[docker.DockerClient, Target], None]:
    """Write the sandbox target's copy `sandbox-fault-<name>` with `change` applied."""

    def act(client: docker.DockerClient, target: Target) -> None:
        data = yaml.safe_load((targets_dir() / "sandbox.yaml").read_text())
        data["name"] = f"sandbox-fault-{name}"
        data["description"] = f"the sandbox with the fault {name} in netzops's own settings"
        change(data, stack.state(target) / "faults")
        copy_path(name).write_text(
            "# Written by `netzops sandbox fault`; deleted when the fault is switched off.\n"
            + yaml.safe_dump(data, sort_keys=False)
        )

    return act


def _wrong_secret(data: dict[str, Any], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    wrong = folder / "redis_password"
    wrong.write_text(token.token_urlsafe(24))  # a value the sandbox's Redis never had
    wrong.chmod(0o600)
    data["secrets"]["redis_password"] = {"file": str(wrong)}


def _missing_engine(data: dict[str, Any], folder: Path) -> None:
    data["docker_host"] = MISSING_SOCKET


def _remove_copy(name: str) -> Callable[[docker.DockerClient, Target], None]:
    def act(client: docker.DockerClient, target: Target) -> None:
        copy_path(name).unlink(missing_ok=True)
        (stack.state(target) / "faults" / "redis_password").unlink(missing_ok=True)

    return act


FAULTS = {
    f.name: f
    for f in (
        Fault(
            "postgres-stopped",
            "PostgreSQL stopped",
            _each("postgres", "stop"),
            _each("postgres", "start"),
        ),
        Fault(
            "postgres-paused",
            "PostgreSQL paused (hangs)",
            _each("postgres", "pause"),
            _each("postgres", "unpause"),
        ),
        Fault("redis-stopped", "Redis stopped", _each("redis", "stop"), _each("redis", "start")),
        Fault(
            "redis-secret",
            "netzops's secret redis_password is wrong (Redis and the app are fine)",
            _target_copy("redis-secret", _wrong_secret),
            _remove_copy("redis-secret"),
            "sandbox-fault-redis-secret",
        ),
        Fault(
            "backend-crash-loop",
            "the backend exits on start",
            _recreate_backend(NW_FAULT_CRASH_ON_START="1"),
            _recreate_backend(),
        ),
        Fault(
            "backend-oom-loop",
            "the backend runs out of memory seconds after each start, and restarts",
            _recreate_backend(NW_FAULT_MEMORY_GROWTH_MB_PER_S=str(LEAK_MB_PER_S)),
            _recreate_backend(),
        ),
        Fault(
            "nginx-stopped",
            "nginx (frontend) stopped",
            _each("frontend", "stop"),
            _each("frontend", "start"),
        ),
        Fault(
            "cert-expired",
            "the frontend serves an expired certificate",
            _certificate(-1),
            _certificate(90),
        ),
        Fault(
            "engine-unreachable",
            "netzops's docker_host points at a missing socket (dockerd is fine)",
            _target_copy("engine-unreachable", _missing_engine),
            _remove_copy("engine-unreachable"),
            "sandbox-fault-engine-unreachable",
        ),
        Fault(
            "backend-detached",
            "the backend is off the project network",
            _network(False),
            _network(True),
        ),
        Fault(
            "high-error-rate",
            f"the backend fails {ERROR_RATE:.0%} of API requests",
            _backend_faults(error_rate=ERROR_RATE),
            _backend_faults(error_rate=0),
        ),
        Fault(
            "slow-queries",
            f"the backend's monitoring queries take {SLOW_QUERY_MS} ms",
            _backend_faults(slow_query_ms=SLOW_QUERY_MS),
            _backend_faults(slow_query_ms=0),
        ),
    )
}


def _wait(ready: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            raise NetzopsError(f"waited {seconds:g} s for {what}")
        time.sleep(0.5)


def fault(name: str, on: bool, wait_s: float = WAIT_S) -> str:
    """Switch the fault `name` on or off; returns the target whose diagnosis shows it.
    Off waits until every service of the sandbox is healthy again."""
    try:
        chosen = FAULTS[name]
    except KeyError:
        raise NetzopsError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}") from None
    target = load_target("sandbox")
    client = stack.engine()
    try:
        (chosen.on if on else chosen.off)(client, target)
        if not on:
            stack.wait_healthy(client, target, wait_s)
    except DockerException as exc:
        raise NetzopsError(f"fault {name} {'on' if on else 'off'}: {exc}") from None
    finally:
        client.close()
    return chosen.target


@click.command(name="fault")
@click.argument("name", required=False)
@click.argument("state", type=click.Choice(["on", "off"]), required=False)
def fault_command(name: str | None, state: str | None) -> None:
    """Switch a fault of the sandbox on or off (without arguments: list them). `off`
    returns once every service is healthy again."""
    if name is None:
        for f in FAULTS.values():
            click.echo(f"{f.name:20s} {f.what}")
        return
    if state is None:
        click.echo("netzops sandbox fault: say on or off", err=True)
        sys.exit(2)
    if name not in FAULTS:
        click.echo(
            f"netzops sandbox fault: unknown fault {name!r}; known: {', '.join(FAULTS)}", err=True
        )
        sys.exit(2)
    try:
        shown = fault(name, state == "on")
    except NetzopsError as exc:
        click.echo(f"netzops sandbox fault: {exc}", err=True)
        sys.exit(3)
    if state == "on":
        click.echo(f"{name} on; diagnose with --target {shown}")
    else:
        click.echo(f"{name} off; the sandbox is healthy")

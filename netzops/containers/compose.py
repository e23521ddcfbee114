"""The compose command line (v2 `docker compose` or v1 `docker-compose`), as argument lists.

The docker SDK covers ps, logs, restart and scale-down through compose labels; scale-up,
recreate and the config check need the compose CLI itself.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from netzops.checks import Outcome, checker
from netzops.errors import NetzopsError
from netzops.findings import Finding, Priority
from netzops.paths import project_root
from netzops.results import Result
from netzops.targets import Target


@cache
def detect() -> tuple[str, ...]:
    """`docker compose` when the v2 plugin answers, else `docker-compose` (v1)."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=20)
        if probe.returncode == 0:
            return ("docker", "compose")
    if shutil.which("docker-compose"):
        return ("docker-compose",)
    raise NetzopsError(
        "no compose CLI: install the docker compose plugin or docker-compose "
        "(Debian: apt-get install docker-compose)"
    )


def base_command(target: Target) -> list[str]:
    """The compose command for the target's project, with its file when it has one."""
    command = list(target.compose.command or detect())
    command += ["-p", target.compose.project]
    if target.compose.file:
        path = Path(target.compose.file)
        command += ["-f", str(path if path.is_absolute() else project_root() / path)]
    return command


def run(target: Target, *args: str, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
    """Run compose with `args` (never through a shell) and the target's compose variables;
    raises with stderr on failure."""
    command = [*base_command(target), *args]
    env = target.compose.environment()
    if target.docker_host:  # the same engine the SDK talks to
        env["DOCKER_HOST"] = target.docker_host
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, env=env)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise NetzopsError(f"compose {' '.join(args)} failed: " + " | ".join(tail))
    return done


@dataclass(frozen=True)
class Dependency:
    service: str
    depends_on: list[str]
    condition: str


def _unreadable(check: str, title: str, exc: Exception) -> Result:
    """The compose file could not be read or resolved: the stack cannot be changed (P1)."""
    why = f"compose config invalid: {exc}"[:500]
    return Result.of(check, title, findings=[Finding(check, "compose", Priority.P1, why)])


#: The compose check decorator (see `netzops.checks`).
check = checker("compose", (NetzopsError, subprocess.TimeoutExpired, OSError), _unreadable)


@check("dependencies", "Service dependencies (compose depends_on)")
def dependencies(target: Target) -> Outcome:
    """Which service waits for which, from the resolved configuration (`compose config`:
    interpolation, `extends` and profiles applied, `depends_on` always in its long form)."""
    services = compose_config(target).get("services") or {}
    rows = []
    for name, spec in sorted(services.items()):
        needs = spec.get("depends_on") or {}
        if isinstance(needs, list):
            needs = {n: {"condition": "service_started"} for n in needs}
        conditions = sorted({str(v.get("condition", "service_started")) for v in needs.values()})
        rows.append(Dependency(name, sorted(needs), ", ".join(conditions)))
    return Outcome(rows)


# --- compose configuration ------------------------------------------------------------------


def compose_config(target: Target) -> dict[str, Any]:
    """The compose project's resolved configuration (`docker compose config`)."""
    data = yaml.safe_load(run(target, "config", timeout_s=60).stdout)
    if not isinstance(data, dict):
        raise NetzopsError("compose config printed no mapping")
    return data


@dataclass(frozen=True)
class ConfigCheck:
    file: str
    ok: bool
    message: str


@check("compose_config", "Compose configuration — {target.compose.project}")
def config_check(target: Target) -> Outcome:
    """`docker compose config -q`: does the compose file (with its .env) parse and validate?
    An invalid file is a P1 finding (the stack cannot be started or changed) with compose's
    message."""
    file = target.compose.file or "(compose default)"
    try:
        run(target, "config", "-q", timeout_s=60)
    except (NetzopsError, subprocess.TimeoutExpired, OSError) as exc:
        message = str(exc)[:500]
        why = f"compose config invalid: {message}"
        finding = Finding("compose_config", target.compose.project, Priority.P1, why)
        return Outcome([ConfigCheck(file, False, message)], [finding])
    return Outcome([ConfigCheck(file, True, "")])

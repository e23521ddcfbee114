"""The compose command line (v2 `docker compose` or v1 `docker-compose`), as argument lists.

The docker SDK covers ps, logs, restart and scale-down through compose labels; scale-up,
recreate and the config check need the compose CLI itself.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path

from netzops.errors import NetzopsError
from netzops.paths import project_root
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
    raise NetzopsError("no compose CLI: install the docker compose plugin or docker-compose "
                       "(Debian: apt-get install docker-compose)")


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
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s,
                          env=target.compose.environment())
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise NetzopsError(f"compose {' '.join(args)} failed: " + " | ".join(tail))
    return done

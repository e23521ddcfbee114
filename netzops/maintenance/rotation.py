"""Log rotation (runbook "Log Rotation"): Docker's `daemon.json` log-opts and each
container's log configuration, with its current log size against max-size × max-file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docker import DockerClient

from netzops.checks import Outcome
from netzops.containers.status import check as docker_check
from netzops.containers.status import project_containers
from netzops.findings import Finding, Priority
from netzops.targets import Target

DAEMON_JSON = Path("/etc/docker/daemon.json")
ROTATING = ("json-file", "local")  # drivers that rotate on the host by max-size/max-file
UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}  # docker: RAMInBytes (binary)
LOCAL_DEFAULT = (20 * 1024**2, 5)  # the `local` driver rotates at 20 MB × 5 by default


def size_bytes(text: str) -> int:
    """Docker's max-size ("10m", "1g", "512k", "100") in bytes (binary units, as the engine)."""
    value = text.strip().lower()
    unit = value[-1] if value and value[-1].isalpha() else ""
    return int(float(value[: len(value) - len(unit)]) * UNITS[unit])


def daemon_options(path: Path = DAEMON_JSON) -> dict[str, Any]:
    """`log-driver` and `log-opts` of the engine's daemon.json ({} when absent)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {k: data[k] for k in ("log-driver", "log-opts") if k in data}


@dataclass(frozen=True)
class LogConfig:
    container: str
    driver: str
    max_size: str  # "" when unset (the log grows without bound)
    max_file: int
    log_bytes: int | None  # current file plus rotated ones; None when not readable
    limit_bytes: int | None  # max-size × max-file
    rotates: bool


def _config(c: Any) -> LogConfig:
    log = c.attrs.get("HostConfig", {}).get("LogConfig") or {}
    driver, opts = str(log.get("Type", "")), dict(log.get("Config") or {})
    max_size, max_file = str(opts.get("max-size", "")), int(opts.get("max-file", 1) or 1)
    limit = size_bytes(max_size) * max_file if max_size else None
    if driver == "local" and not max_size:
        limit = LOCAL_DEFAULT[0] * LOCAL_DEFAULT[1]
    path = Path(c.attrs.get("LogPath") or "/nonexistent")
    try:
        used: int | None = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    except OSError:
        used = None
    rotates = driver in ROTATING and limit is not None
    return LogConfig(c.name, driver, max_size, max_file, used, limit, rotates)


@docker_check("log_rotation", "Log rotation — {target.compose.project}")
def log_rotation(client: DockerClient, target: Target) -> Outcome:
    """Each container's log driver and rotation limits and its log's size now. A
    container whose log does not rotate (no max-size on json-file) is P3; a log larger
    than its limit (rotation not working) P2. Notes: daemon.json's log-opts (the default
    for new containers; existing ones keep what they were created with)."""
    check = "log_rotation"
    rows = [_config(c) for c in project_containers(client, target.compose.project)]
    engine_driver = str(client.info().get("LoggingDriver", ""))
    findings = []
    for r in rows:
        if r.driver in ("json-file",) and not r.max_size:
            why = "json-file log without max-size: it grows until the disk is full"
            findings.append(Finding(check, r.container, Priority.P3, why))
        elif r.limit_bytes and r.log_bytes and r.log_bytes > r.limit_bytes * 1.1:
            why = f"log is {r.log_bytes} B, above its rotation limit {r.limit_bytes} B"
            findings.append(Finding(check, r.container, Priority.P2, why, r.log_bytes))
    daemon = daemon_options()
    notes = [
        f"engine default driver {engine_driver}; daemon.json: "
        + (json.dumps(daemon) if daemon else f"{DAEMON_JSON} sets no log options")
    ]
    metrics = {f"logs.{r.container}.bytes": float(r.log_bytes) for r in rows if r.log_bytes}
    return Outcome(rows, findings, metrics, notes)

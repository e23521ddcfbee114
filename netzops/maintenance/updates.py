"""Host packages: security updates pending (`apt-get -s upgrade`, a simulation that changes
nothing) and when packages were last upgraded (`/var/log/apt/history.log`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from netzops.checks import Outcome, checker
from netzops.findings import Finding, Priority
from netzops.results import Result

APT_LISTS = Path("/var/lib/apt/lists")
APT_HISTORY = Path("/var/log/apt/history.log")
TIMEOUT_S = 120.0
_INST = re.compile(r"^Inst (\S+) (?:\[(\S+)\] )?\((\S+) (.+?) \[")


@dataclass(frozen=True)
class Pending:
    package: str
    installed: str
    candidate: str
    origin: str
    security: bool


def lists_updated() -> datetime | None:
    """When the package lists were last fetched (`apt-get update`): newest file's mtime."""
    try:
        newest = max((p.stat().st_mtime for p in APT_LISTS.iterdir() if p.is_file()), default=None)
    except OSError:
        return None
    return datetime.fromtimestamp(newest, UTC) if newest else None


def last_upgrade(path: Path = APT_HISTORY) -> datetime | None:
    """Start-Date of the newest apt run that upgraded or installed packages."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return None
    last = None
    for block in text.split("\n\n"):
        start = re.search(r"^Start-Date: (\d{4}-\d\d-\d\d\s+\d\d:\d\d:\d\d)", block, re.M)
        if start and re.search(r"^(Upgrade|Install):", block, re.M):
            stamp = datetime.strptime(" ".join(start[1].split()), "%Y-%m-%d %H:%M:%S")
            last = stamp.astimezone(UTC)
    return last


def pending() -> list[Pending]:
    """Packages `apt-get -s upgrade` would upgrade; raises OSError when apt is missing."""
    apt = shutil.which("apt-get")
    if apt is None:
        raise OSError("apt-get not found: not a Debian-like host")
    done = subprocess.run(
        [apt, "-s", "-o", "Debug::NoLocking=1", "upgrade"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
        env={**os.environ, "LC_ALL": "C"},
    )
    if done.returncode != 0:
        raise OSError(f"apt-get -s upgrade: {done.stderr.strip()[:200]}")
    rows = []
    for line in done.stdout.splitlines():
        m = _INST.match(line)
        if m:
            origin = m[4]
            rows.append(Pending(m[1], m[2] or "", m[3], origin, "security" in origin.lower()))
    return rows


def _unchecked(check: str, title: str, exc: Exception) -> Result:
    why = f"cannot check: {exc}"[:240]
    return Result.of(check, title, findings=[Finding(check, "host", Priority.P3, why)])


@checker("maintenance", (OSError, subprocess.TimeoutExpired), _unchecked)(
    "security_updates", "Host security updates (apt-get -s upgrade)"
)
def security_updates() -> Outcome:
    """Runbook "Check for security updates": what `apt-get -s upgrade` would upgrade, how
    many from a security origin (P2 when any), and the age of the package lists it knows
    (a check with lists older than a week is P3: run apt-get update)."""
    check = "security_updates"
    rows = pending()
    fetched = lists_updated()
    security = [r for r in rows if r.security]
    findings = []
    if security:
        names = ", ".join(r.package for r in security[:10])
        why = f"{len(security)} security updates pending: {names}"
        findings.append(Finding(check, "host", Priority.P2, why, len(security), 0))
    age_days = (datetime.now(UTC) - fetched).total_seconds() / 86400 if fetched else None
    if age_days is None or age_days > 7:
        when = f"{age_days:.0f} days old" if age_days is not None else "never fetched"
        why = f"package lists {when}: apt-get update first, or updates go unseen"
        findings.append(Finding(check, "host", Priority.P3, why))
    metrics = {
        "host.updates.pending": float(len(rows)),
        "host.updates.security": float(len(security)),
    }
    if age_days is not None:
        metrics["host.updates.lists_age_days"] = round(age_days, 2)
    return Outcome(rows, findings, metrics)

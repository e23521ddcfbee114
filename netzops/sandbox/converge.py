"""What `netzops sandbox up` would change in the running stack, and what it did change.

Compose labels each container with the hash of the service configuration it was created
from (`com.docker.compose.config-hash`); `compose config --hash='*'` gives the hash this
clone would create now. Equal hashes and equal assets (see `assets`) mean the clone brings
up the stack that runs: `up` leaves those containers alone. A difference is refused unless
the caller asked to recreate (`Difference.refusal`).

    before = snapshot(client, "netzwaechter")
    …  # compose up
    changes(before, snapshot(client, "netzwaechter"))
    # ["netzwaechter-postgres: left running", "netzwaechter_backend_1: recreated", …]
"""

from __future__ import annotations

from dataclasses import dataclass

import docker

from netzops import containers
from netzops.containers import compose
from netzops.targets import Target

CONFIG_HASH = "com.docker.compose.config-hash"
SERVICE = "com.docker.compose.service"


@dataclass(frozen=True)
class Seen:
    """One container of the project as docker inspect shows it."""

    name: str
    service: str
    id: str
    status: str  # running, exited, created, paused, restarting
    started_at: str  # State.StartedAt, RFC 3339 with nanoseconds
    config_hash: str


def snapshot(client: docker.DockerClient, project: str) -> dict[str, Seen]:
    """The project's containers (running or not, no one-off containers), by name."""
    seen = {}
    for c in containers.project_containers(client, project):
        labels = c.labels
        seen[c.name] = Seen(
            c.name,
            labels.get(SERVICE, ""),
            c.id or "",
            c.status,
            str(c.attrs.get("State", {}).get("StartedAt", "")),
            labels.get(CONFIG_HASH, ""),
        )
    return seen


def wanted_hashes(target: Target) -> dict[str, str]:
    """{service: config hash} of what this clone's compose file and variables create."""
    out = compose.run(target, "config", "--hash=*", timeout_s=60).stdout
    pairs = (line.split() for line in out.splitlines() if line.strip())
    return {p[0]: p[1] for p in pairs if len(p) == 2}


@dataclass(frozen=True)
class Difference:
    """How this clone's stack differs from the running one."""

    config: list[str]  # services whose compose configuration differs
    assets: list[str]  # "postgres/seed.sql changed", …

    def __bool__(self) -> bool:
        return bool(self.config or self.assets)

    def services(self) -> list[str]:
        from netzops.sandbox import assets

        return sorted(set(self.config) | set(assets.services_of(self.assets)))

    def refusal(self) -> str:
        """One line naming the difference and the way out."""
        parts = []
        if self.assets:
            shown = ", ".join(self.assets[:4]) + (" …" if len(self.assets) > 4 else "")
            parts.append(f"assets: {shown}")
        if self.config:
            parts.append(f"compose configuration of {', '.join(self.config)}")
        return (
            f"this clone's sandbox differs from the running stack ({'; '.join(parts)}); "
            f"`netzops sandbox up --recreate` recreates {', '.join(self.services())} "
            "(data volumes stay)"
        )


def config_differences(seen: dict[str, Seen], wanted: dict[str, str]) -> list[str]:
    """Services with a container whose config hash is not the one this clone creates."""
    return sorted({s.service for s in seen.values() if wanted.get(s.service) != s.config_hash})


def changes(before: dict[str, Seen], after: dict[str, Seen]) -> list[str]:
    """One line per container: created, recreated, started, restarted, left running or
    removed (a container whose id changed was recreated; same id, not running before:
    started)."""
    lines = []
    for name, now in sorted(after.items()):
        old = before.get(name)
        if old is None:
            what = "created"
        elif old.id != now.id:  # compose recreates a container under the same name
            what = "recreated"
        elif old.status != "running":
            what = "started"
        elif old.started_at != now.started_at:
            what = "restarted"
        else:
            what = "left running"
        lines.append(f"{name}: {what}")
    lines += [f"{name}: removed" for name in sorted(before) if name not in after]
    return lines

"""Maintenance procedures (runbook "Maintenance Procedures").

schedule   the "Regular Maintenance Schedule" as data: each item done / due / overdue from
           the evidence netzops has (ledger, backups, host, engine, secret files); `mark_done`
rotation   "Log Rotation": daemon.json log-opts, each container's log config and log size
updates    "Check for security updates": apt-get -s upgrade, last upgrade from apt's history
window     "Planned Maintenance Window": a stack snapshot before (pre) and its diff after (post)
actions    guarded `docker_prune` (`docker system prune -f`; the plan shows what it frees)
"""

from __future__ import annotations

from netzops.maintenance.actions import docker_prune
from netzops.maintenance.rotation import LogConfig, log_rotation
from netzops.maintenance.schedule import Entry, Item, items, mark_done, schedule
from netzops.maintenance.updates import Pending, security_updates
from netzops.maintenance.window import (
    diff,
    load_snapshot,
    save_snapshot,
    snapshot,
    snapshot_result,
)

__all__ = [
    "Entry",
    "Item",
    "LogConfig",
    "Pending",
    "diff",
    "docker_prune",
    "items",
    "load_snapshot",
    "log_rotation",
    "mark_done",
    "save_snapshot",
    "schedule",
    "security_updates",
    "snapshot",
    "snapshot_result",
]

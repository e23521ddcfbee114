"""Containers of a compose project through the Docker Engine API and the compose CLI.

status   state, health, restarts, resources (`docker compose ps`, `docker stats`), env names
engine   `docker system df`, project volumes, networks, published-port conflicts
compose  the compose CLI and the one reader of the compose file (`compose config`)
actions  guarded restart, recreate and scale
"""

from __future__ import annotations

from netzops.containers.actions import recreate, restart, scale, startup_order
from netzops.containers.compose import ConfigCheck, Dependency, config_check, dependencies
from netzops.containers.engine import (
    DiskUsage,
    Endpoint,
    PortUse,
    Volume,
    network,
    port_conflicts,
    project_volumes,
    system_df,
)
from netzops.containers.status import (
    ENGINE_ERRORS,
    NUMBER,
    ONEOFF,
    PROJECT,
    SERVICE,
    ContainerState,
    ContainerStats,
    EnvName,
    NodeMemory,
    connect,
    container_state,
    cpu_percent,
    engine_address,
    engine_down,
    engine_error,
    env_names,
    memory_used,
    node_heap,
    project_containers,
    service_status,
    stats,
)

__all__ = [
    "ENGINE_ERRORS",
    "NUMBER",
    "ONEOFF",
    "PROJECT",
    "SERVICE",
    "ConfigCheck",
    "ContainerState",
    "ContainerStats",
    "Dependency",
    "DiskUsage",
    "Endpoint",
    "EnvName",
    "NodeMemory",
    "PortUse",
    "Volume",
    "config_check",
    "connect",
    "container_state",
    "cpu_percent",
    "dependencies",
    "engine_address",
    "engine_down",
    "engine_error",
    "env_names",
    "memory_used",
    "network",
    "node_heap",
    "port_conflicts",
    "project_containers",
    "project_volumes",
    "recreate",
    "restart",
    "scale",
    "service_status",
    "startup_order",
    "stats",
    "system_df",
]

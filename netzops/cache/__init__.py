"""Redis (redis-py): read-only checks and guarded actions.

checks   ping, memory, hit rate and stats, clients, keys (SCAN), MONITOR sample
actions  guarded key deletion (SCAN + UNLINK), FLUSHDB, eviction policy
"""

from __future__ import annotations

from netzops.cache.actions import (
    POLICIES,
    check_pattern,
    check_policy,
    delete_keys,
    flushdb,
    set_maxmemory_policy,
)
from netzops.cache.checks import (
    CacheStats,
    ClientGroup,
    CommandCount,
    KeySample,
    Memory,
    Ping,
    StatsSample,
    clients,
    connect,
    hit_rate,
    info,
    keys,
    mask,
    memory,
    monitor,
    ping,
    sample_stats,
    scan,
    stats,
    unavailable,
)

__all__ = [
    "POLICIES",
    "CacheStats",
    "ClientGroup",
    "CommandCount",
    "KeySample",
    "Memory",
    "Ping",
    "StatsSample",
    "check_pattern",
    "check_policy",
    "clients",
    "connect",
    "delete_keys",
    "flushdb",
    "hit_rate",
    "info",
    "keys",
    "mask",
    "memory",
    "monitor",
    "ping",
    "sample_stats",
    "scan",
    "set_maxmemory_policy",
    "stats",
    "unavailable",
]

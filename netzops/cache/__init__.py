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
    memory_row,
    monitor,
    ping,
    raw,
    sample_stats,
    scan,
    shown,
    stats,
    stats_sample,
    unavailable,
    unreadable,
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
    "memory_row",
    "monitor",
    "ping",
    "raw",
    "sample_stats",
    "scan",
    "set_maxmemory_policy",
    "shown",
    "stats",
    "stats_sample",
    "unavailable",
    "unreadable",
]

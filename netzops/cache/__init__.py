"""Redis (redis-py): read-only checks and guarded actions.

checks   ping, memory, hit rate and stats, clients, keys (SCAN), MONITOR sample
health   slow log, evicted/expired keys, clients against maxclients
observer netzops's own TTL lookups, left out of hit rates
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
    Persistence,
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
    persistence,
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
from netzops.cache.health import (
    ClientCapacity,
    KeyLoss,
    SlowEntry,
    client_capacity,
    evictions,
    slowlog,
)

__all__ = [
    "POLICIES",
    "CacheStats",
    "ClientCapacity",
    "ClientGroup",
    "CommandCount",
    "KeyLoss",
    "KeySample",
    "Memory",
    "Persistence",
    "Ping",
    "SlowEntry",
    "StatsSample",
    "check_pattern",
    "check_policy",
    "client_capacity",
    "clients",
    "connect",
    "delete_keys",
    "evictions",
    "flushdb",
    "hit_rate",
    "info",
    "keys",
    "mask",
    "memory",
    "memory_row",
    "monitor",
    "persistence",
    "ping",
    "raw",
    "sample_stats",
    "scan",
    "set_maxmemory_policy",
    "shown",
    "slowlog",
    "stats",
    "stats_sample",
    "unavailable",
    "unreadable",
]

"""Redis (redis-py): read-only checks and guarded actions.

client   the client, key names as bytes, the check decorator
server   ping, memory, persistence (RDB, AOF), clients
stats    hit rate and counters between two samples
keys     keys by pattern (SCAN), MONITOR sample
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
from netzops.cache.client import Redis, connect, info, raw, shown, unavailable, unreadable
from netzops.cache.health import (
    ClientCapacity,
    KeyLoss,
    SlowEntry,
    client_capacity,
    evictions,
    slowlog,
)
from netzops.cache.keys import CommandCount, KeySample, keys, mask, monitor, scan
from netzops.cache.server import (
    ClientGroup,
    Memory,
    Persistence,
    Ping,
    clients,
    memory,
    memory_row,
    persistence,
    ping,
)
from netzops.cache.stats import CacheStats, StatsSample, hit_rate, sample_stats, stats, stats_sample

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
    "Redis",
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

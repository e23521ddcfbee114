"""Redis health beyond memory and hit rate: the slow log, evicted and expired keys, and
connected clients against maxclients. (Persistence — LASTSAVE, rdb_last_bgsave_status, AOF —
is `cache.persistence`.)"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

from netzops.cache.client import Redis, check, info
from netzops.checks import Outcome
from netzops.findings import Finding, Priority


@dataclass(frozen=True)
class SlowEntry:
    id: int
    started: int  # Unix seconds
    duration_us: int
    command: str  # name and first argument only: values stay out of the record
    client: str


def _command(entry: dict[str, Any], scrub: Callable[[str], str]) -> str:
    raw = entry.get("command", b"")
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
    words = text.split(" ")
    return scrub(" ".join(words[:2]))[:120] + (
        f" … (+{len(words) - 2} args)" if len(words) > 2 else ""
    )


@check("redis_slowlog", "Redis slow log")
def slowlog(
    client: Redis,
    window_s: float = 3600.0,  # the sweep's hour
    min_duration_us: int = 10_000,  # Redis's own slowlog-log-slower-than default: 10 ms
    max_entries: int = 1,  # Redis is single-threaded: one 10 ms command stalls every client
) -> Outcome:
    """`SLOWLOG GET 128`: commands slower than `min_duration_us` in the last `window_s`
    seconds, slowest first. P3 when `max_entries` or more (every other client waited)."""
    check = "redis_slowlog"
    scrub = client.target.scrubber()  # a logged argument may be one of the target's secrets
    entries = client.slowlog_get(128)
    logged = int(client.slowlog_len())
    since = time.time() - window_s
    rows = sorted(
        (
            SlowEntry(
                int(e["id"]),
                int(e["start_time"]),
                int(e["duration"]),
                _command(e, scrub),
                str(e.get("client_address", "")),
            )
            for e in entries
            if int(e["start_time"]) >= since and int(e["duration"]) >= min_duration_us
        ),
        key=lambda r: -r.duration_us,
    )
    findings = (
        [
            Finding(
                check,
                "redis",
                Priority.P3,
                f"{len(rows)} commands took ≥ {min_duration_us / 1000:g} ms in the last "
                f"{window_s / 60:g} min (slowest {rows[0].duration_us / 1000:.1f} ms: "
                f"{rows[0].command})",
                len(rows),
                max_entries,
            )
        ]
        if len(rows) >= max_entries
        else []
    )
    metrics = {
        "redis.slowlog.recent": float(len(rows)),
        "redis.slowlog.length": float(logged),
        "redis.slowlog.max_ms": max((r.duration_us for r in rows), default=0) / 1000.0,
    }
    return Outcome(rows, findings, metrics)


@dataclass(frozen=True)
class KeyLoss:
    evicted_keys: int  # since start or CONFIG RESETSTAT
    expired_keys: int
    maxmemory: int
    maxmemory_policy: str


@check("redis_evictions", "Redis evicted and expired keys")
def evictions(client: redis.Redis, max_evicted: int = 0) -> Outcome:
    """Evicted keys (maxmemory reached: Redis dropped data the application still wanted) and
    expired keys (TTL ran out: normal) since the counters started. P2 when more than
    `max_evicted` keys were evicted (Redis docs, eviction: a cache that evicts is too small
    or its policy wrong; a store that must keep its keys — sessions — must not evict)."""
    check = "redis_evictions"
    stats, memory = info(client, "stats"), info(client, "memory")
    row = KeyLoss(
        int(stats["evicted_keys"]),
        int(stats["expired_keys"]),
        int(memory["maxmemory"]),
        str(memory["maxmemory_policy"]),
    )
    findings = (
        [
            Finding(
                check,
                "redis",
                Priority.P2,
                f"{row.evicted_keys} keys evicted since the counters started "
                f"(maxmemory {row.maxmemory}, policy {row.maxmemory_policy})",
                row.evicted_keys,
                max_evicted,
            )
        ]
        if row.evicted_keys > max_evicted
        else []
    )
    metrics = {
        "redis.evicted_keys_total": float(row.evicted_keys),
        "redis.expired_keys_total": float(row.expired_keys),
    }
    return Outcome([row], findings, metrics, ["counters since start or reset"])


@dataclass(frozen=True)
class ClientCapacity:
    connected_clients: int
    maxclients: int
    used_percent: float
    blocked_clients: int
    rejected_connections: int  # since start: refused because maxclients was reached


@check("redis_client_capacity", "Redis clients against maxclients")
def client_capacity(
    client: redis.Redis,
    warn_percent: float = 80.0,  # netzops: a fifth of the slots left before refusals
    critical_percent: float = 95.0,  # new connections are about to be refused
) -> Outcome:
    """connected_clients against maxclients (`CONFIG GET maxclients`): P2 from
    `warn_percent`, P1 from `critical_percent`; P2 as well when connections were already
    rejected (`rejected_connections` > 0 since start)."""
    check = "redis_client_capacity"
    clients, stats = info(client, "clients"), info(client, "stats")
    limit = int(client.config_get("maxclients").get("maxclients") or 0)
    row = ClientCapacity(
        int(clients["connected_clients"]),
        limit,
        round(100.0 * int(clients["connected_clients"]) / limit, 1) if limit else 0.0,
        int(clients.get("blocked_clients", 0)),
        int(stats.get("rejected_connections", 0)),
    )
    findings = []
    if row.used_percent >= warn_percent:
        high = row.used_percent >= critical_percent
        findings.append(
            Finding(
                check,
                "redis",
                Priority.P1 if high else Priority.P2,
                f"{row.connected_clients} of {row.maxclients} client slots in use "
                f"({row.used_percent:g} %)",
                row.used_percent,
                critical_percent if high else warn_percent,
            )
        )
    if row.rejected_connections:
        findings.append(
            Finding(
                check,
                "redis",
                Priority.P2,
                f"{row.rejected_connections} connections rejected since start (maxclients)",
                row.rejected_connections,
                0,
            )
        )
    metrics = {
        "redis.clients.connected": float(row.connected_clients),
        "redis.clients.max": float(row.maxclients),
        "redis.clients.used_percent": row.used_percent,
        "redis.rejected_connections": float(row.rejected_connections),
    }
    return Outcome([row], findings, metrics)

"""The Redis server: connectivity, memory, persistence (RDB snapshots, AOF) and clients."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis

from netzops.cache.client import Redis, check, info
from netzops.checks import Outcome
from netzops.findings import Finding, Priority, above


@dataclass(frozen=True)
class Ping:
    reply: str
    latency_ms: float
    version: str


@check("redis_ping", "Redis connectivity")
def ping(client: redis.Redis) -> Outcome:
    """`redis-cli -a … ping` with latency."""
    start = time.perf_counter()
    client.ping()
    latency = round((time.perf_counter() - start) * 1000.0, 2)
    version = str(info(client, "server").get("redis_version", ""))
    return Outcome(
        [Ping("PONG", latency, version)], metrics={"redis.up": 1.0, "redis.ping_ms": latency}
    )


# --- memory ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Memory:
    used_memory: int
    used_memory_rss: int
    used_memory_peak: int
    mem_fragmentation_ratio: float
    maxmemory: int
    maxmemory_policy: str
    used_percent: float | None  # of maxmemory; None while maxmemory is 0 (unbounded)


def memory_row(data: dict[str, Any]) -> Memory:
    """`INFO memory` (Redis 5 … 7.4) as a row; `maxmemory` and its policy default to 0 and
    noeviction when absent; a fragmentation ratio that is missing or not finite is 0.
    Raises KeyError/ValueError when `used_memory` is missing or not a number."""
    limit = int(data.get("maxmemory", 0) or 0)
    used = int(data["used_memory"])
    ratio = float(data.get("mem_fragmentation_ratio") or 0.0)
    return Memory(
        used,
        int(data.get("used_memory_rss", used)),
        int(data.get("used_memory_peak", used)),
        ratio if math.isfinite(ratio) else 0.0,
        limit,
        str(data.get("maxmemory_policy", "noeviction")),
        round(used * 100.0 / limit, 2) if limit > 0 else None,
    )


@check("redis_memory", "Redis memory")
def memory(client: Redis) -> Outcome:
    """`INFO memory`: used, RSS, peak, fragmentation, maxmemory and its policy."""
    row = memory_row(info(client, "memory"))
    target = client.target
    limit, used, percent = row.maxmemory, row.used_memory, row.used_percent
    metrics = {
        "redis.used_memory_bytes": float(used),
        "redis.used_memory_rss_bytes": float(row.used_memory_rss),
        "redis.used_memory_peak_bytes": float(row.used_memory_peak),
        "redis.mem_fragmentation_ratio": row.mem_fragmentation_ratio,
        "redis.maxmemory_bytes": float(limit),
    }
    findings: list[Finding] = []
    if percent is None:
        findings.append(
            Finding(
                "redis_memory",
                "redis",
                Priority.P3,
                "maxmemory is 0 (unbounded): Redis grows until the container or "
                f"host runs out; maxmemory-policy {row.maxmemory_policy} never "
                "applies",
                0,
                None,
            )
        )
    else:
        metrics["redis.memory_percent"] = percent
        high = above(
            "redis_memory",
            "redis",
            percent,
            target.bands["memory_percent"],
            "used memory % of maxmemory",
        )
        findings += [high] if high else []
    return Outcome([row], findings, metrics)


# --- clients ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientGroup:
    group: str  # "name" or "host"
    key: str
    clients: int
    idle_max_s: int
    blocked: int


def _groups(entries: list[dict[str, Any]], group: str) -> list[ClientGroup]:
    keyed: dict[str, list[dict[str, Any]]] = {}
    for e in entries:
        key = (e.get("name") or "(no name)") if group == "name" else e["addr"].rsplit(":", 1)[0]
        keyed.setdefault(key, []).append(e)
    return [
        ClientGroup(
            group, key, len(es), max(int(e["idle"]) for e in es), sum("b" in e["flags"] for e in es)
        )
        for key, es in sorted(keyed.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]


@check("redis_clients", "Redis clients")
def clients(client: redis.Redis) -> Outcome:
    """`CLIENT LIST` aggregated by client name and by address host (this probe included)."""
    entries: list[dict[str, Any]] = list(client.client_list())
    metrics = {
        "redis.clients.total": float(len(entries)),
        "redis.clients.blocked": float(sum("b" in e["flags"] for e in entries)),
        "redis.clients.idle_max_s": float(max((int(e["idle"]) for e in entries), default=0)),
    }
    rows = _groups(entries, "name") + _groups(entries, "host")
    return Outcome(
        rows,
        metrics=metrics,
        notes=["Counts include this probe's own connection (name netzops)."],
    )


# --- persistence (RDB snapshots) ------------------------------------------------------------

RDB_MAX_AGE_S = 24 * 3600  # our choice: at most a day of unsaved changes lost on a crash


@dataclass(frozen=True)
class Persistence:
    save_rules: str  # CONFIG GET save: "" when RDB snapshots are off
    last_save: datetime  # LASTSAVE: the last *successful* save
    age_seconds: float
    last_bgsave_status: str  # rdb_last_bgsave_status: ok | err
    changes_since_save: int
    bgsave_in_progress: bool
    aof_enabled: bool
    aof_last_write_status: str = "ok"  # INFO persistence; "err" when an AOF write failed
    aof_last_bgrewrite_status: str = "ok"


@check("redis_persistence", "Redis persistence (LASTSAVE, last BGSAVE)")
def persistence(client: redis.Redis, max_age_s: float = RDB_MAX_AGE_S) -> Outcome:
    """Age of the last successful RDB save (`LASTSAVE`) and `rdb_last_bgsave_status`
    (INFO persistence). A failed last save is P1 (Redis then refuses writes while
    stop-writes-on-bgsave-error is on); unsaved changes older than `max_age_s` P2; no
    persistence at all (no save rules, no AOF) P3. Metrics: redis.rdb_last_save_age_seconds,
    redis.rdb_changes_since_save, redis.rdb_last_bgsave_ok."""
    facts = info(client, "persistence")
    last = client.lastsave()
    rules = str(client.config_get("save").get("save", ""))
    when = last if isinstance(last, datetime) else datetime.fromtimestamp(int(last), UTC)
    when = when if when.tzinfo else when.astimezone(UTC)
    row = Persistence(
        rules,
        when,
        round((datetime.now(UTC) - when).total_seconds(), 1),
        str(facts["rdb_last_bgsave_status"]),
        int(facts["rdb_changes_since_last_save"]),
        bool(int(facts["rdb_bgsave_in_progress"])),
        bool(int(facts.get("aof_enabled", 0))),
        str(facts.get("aof_last_write_status", "ok")),
        str(facts.get("aof_last_bgrewrite_status", "ok")),
    )
    metrics = {
        "redis.rdb_last_save_age_seconds": row.age_seconds,
        "redis.rdb_changes_since_save": float(row.changes_since_save),
        "redis.rdb_last_bgsave_ok": float(row.last_bgsave_status == "ok"),
    }
    findings = _persistence_findings("redis_persistence", row, max_age_s)
    return Outcome([row], findings, metrics)


def _persistence_findings(check: str, row: Persistence, max_age_s: float) -> list[Finding]:
    if row.last_bgsave_status != "ok":
        why = f"last background save failed ({row.last_bgsave_status}); last good save "
        why += f"{row.age_seconds / 3600:.1f} h ago"
        return [Finding(check, "redis", Priority.P1, why, row.last_bgsave_status, "ok")]
    aof = (row.aof_last_write_status, row.aof_last_bgrewrite_status)
    if row.aof_enabled and aof != ("ok", "ok"):
        why = f"AOF failing: last write {aof[0]}, last rewrite {aof[1]}"
        return [Finding(check, "redis", Priority.P1, why, "err", "ok")]
    if not row.save_rules and not row.aof_enabled:
        return [Finding(check, "redis", Priority.P3, "no persistence: RDB and AOF are off")]
    if row.changes_since_save and row.age_seconds > max_age_s:
        why = (
            f"{row.changes_since_save} changes unsaved; last successful RDB save "
            f"{row.age_seconds / 3600:.1f} h ago"
        )
        return [Finding(check, "redis", Priority.P2, why, row.age_seconds, max_age_s)]
    return []

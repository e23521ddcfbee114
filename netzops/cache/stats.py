"""Hit rate and counters: Redis counters are cumulative since start, so a rate needs two
samples; netzops's own TTL lookups are left out (netzops.cache.observer)."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import redis

from netzops.cache import observer
from netzops.cache.client import Redis, check, info
from netzops.checks import Outcome
from netzops.findings import Finding, Priority, below
from netzops.results import Result
from netzops.targets import Target


@dataclass(frozen=True)
class StatsSample:
    """Cumulative counters of `INFO stats` (since the server started) at one moment."""

    at: float  # time.monotonic()
    keyspace_hits: int
    keyspace_misses: int
    evicted_keys: int
    expired_keys: int
    total_commands_processed: int
    instantaneous_ops_per_sec: int
    observer_hits: int = 0  # netzops's own lookups, already taken out of keyspace_hits
    observer_misses: int = 0  # … and out of keyspace_misses (netzops.cache.observer)
    run_id: str = ""  # INFO server's run_id: a new one means Redis restarted in between


@dataclass(frozen=True)
class CacheStats:
    """Counters in the interval are None when a counter went backwards between the samples
    (a restart or CONFIG RESETSTAT): a difference across a reset means nothing."""

    interval_s: float
    hits: int | None
    misses: int | None
    hit_rate_percent: float | None  # in the interval; None without lookups or after a reset
    cumulative_hit_rate_percent: float | None  # since the server started (or stats reset)
    evicted_keys: int | None
    expired_keys: int | None
    ops_per_sec: float | None
    evicted_keys_total: int
    expired_keys_total: int
    counters_reset: bool = False


_COUNTERS = (
    "keyspace_hits",
    "keyspace_misses",
    "evicted_keys",
    "expired_keys",
    "total_commands_processed",
)


def sample_stats(client: redis.Redis) -> StatsSample:
    """One sample of the cumulative counters (raises redis.RedisError), without the hits and
    misses netzops's own TTL lookups caused (`cache.keys`; see netzops.cache.observer)."""
    data = info(client, "stats")
    sample = stats_sample(data, time.monotonic())
    run_id = str(info(client, "server").get("run_id", ""))
    hits, misses = observer.caused(client, run_id, data)
    return replace(
        sample,
        keyspace_hits=sample.keyspace_hits - hits,
        keyspace_misses=sample.keyspace_misses - misses,
        observer_hits=hits,
        observer_misses=misses,
        run_id=run_id,
    )


def stats_sample(data: dict[str, Any], at: float) -> StatsSample:
    """`INFO stats` (Redis 5 … 7.4) as a sample taken at `at` (raises KeyError/ValueError
    when a counter is missing or not a number)."""
    return StatsSample(
        at,
        keyspace_hits=int(data["keyspace_hits"]),
        keyspace_misses=int(data["keyspace_misses"]),
        evicted_keys=int(data["evicted_keys"]),
        expired_keys=int(data["expired_keys"]),
        total_commands_processed=int(data["total_commands_processed"]),
        instantaneous_ops_per_sec=int(data["instantaneous_ops_per_sec"]),
    )


def _rate(hits: int, misses: int) -> float | None:
    return round(hits * 100.0 / (hits + misses), 2) if hits + misses else None


TITLE = "Redis hit rate and counters"


def hit_rate(before: StatsSample, after: StatsSample, target: Target) -> Result:
    """Hit rate and counters between two samples: Redis counters are cumulative since start,
    so only a difference says what happens now."""
    out = _between(before, after, target)
    return Result.of("redis_stats", TITLE, out.records, out.findings, out.metrics, out.notes)


def _between(before: StatsSample, after: StatsSample, target: Target) -> Outcome:
    span = max(after.at - before.at, 1e-6)
    delta = {f: getattr(after, f) - getattr(before, f) for f in _COUNTERS}
    restarted = bool(before.run_id and after.run_id and before.run_id != after.run_id)
    if restarted or any(d < 0 for d in delta.values()):  # counters grown past the old ones
        return _after_reset(after, span, target)  # after a restart still started at zero
    hits, misses = delta["keyspace_hits"], delta["keyspace_misses"]
    row = CacheStats(
        round(span, 3),
        hits,
        misses,
        _rate(hits, misses),
        _rate(after.keyspace_hits, after.keyspace_misses),
        delta["evicted_keys"],
        delta["expired_keys"],
        round(delta["total_commands_processed"] / span, 2),
        after.evicted_keys,
        after.expired_keys,
    )
    metrics = {
        "redis.hits": float(hits),
        "redis.misses": float(misses),
        "redis.evicted_keys": float(delta["evicted_keys"]),
        "redis.expired_keys": float(delta["expired_keys"]),
        "redis.evicted_keys_total": float(after.evicted_keys),
        "redis.expired_keys_total": float(after.expired_keys),
        "redis.ops_per_sec": round(delta["total_commands_processed"] / span, 2),
        "redis.instantaneous_ops_per_sec": float(after.instantaneous_ops_per_sec),
    }
    if row.hit_rate_percent is not None:
        metrics["redis.hit_rate_percent"] = row.hit_rate_percent
        metrics["redis.hit_rate"] = round(row.hit_rate_percent / 100.0, 4)
    if row.cumulative_hit_rate_percent is not None:
        metrics["redis.hit_rate_cumulative_percent"] = row.cumulative_hit_rate_percent
    notes = _stats_notes(row) + _observer_notes(after)
    return Outcome([row], _stats_findings(row, target), metrics, notes)


def _observer_notes(after: StatsSample) -> list[str]:
    if not after.observer_hits and not after.observer_misses:
        return []
    return [
        f"Left out: {after.observer_hits} hits and {after.observer_misses} misses caused by "
        "netzops's own TTL lookups (cache.keys) since the counters started."
    ]


def _after_reset(after: StatsSample, span: float, target: Target) -> Outcome:
    """The result when a counter went backwards between the samples: no interval figures,
    the rate since the reset, and a note saying why."""
    since = _rate(after.keyspace_hits, after.keyspace_misses)
    row = CacheStats(
        round(span, 3),
        None,
        None,
        None,
        since,
        None,
        None,
        None,
        after.evicted_keys,
        after.expired_keys,
        True,
    )
    metrics = {
        "redis.counters_reset": 1.0,
        "redis.evicted_keys_total": float(after.evicted_keys),
        "redis.expired_keys_total": float(after.expired_keys),
        "redis.instantaneous_ops_per_sec": float(after.instantaneous_ops_per_sec),
    }
    if since is not None:
        metrics["redis.hit_rate_cumulative_percent"] = since
    note = (
        f"Counters went backwards during the {row.interval_s:g} s interval (a restart or "
        "CONFIG RESETSTAT): no figures for the interval; the rate shown is since the reset."
    )
    return Outcome([row], _stats_findings(row, target), metrics, [note])


def _stats_findings(row: CacheStats, target: Target) -> list[Finding]:
    band = target.bands["cache_hit_rate_percent"]
    if row.hit_rate_percent is not None:
        low = below(
            "redis_stats",
            "redis",
            row.hit_rate_percent,
            band,
            f"cache hit rate % over {row.interval_s:g} s",
        )
    elif row.cumulative_hit_rate_percent is not None:
        low = below(
            "redis_stats",
            "redis",
            row.cumulative_hit_rate_percent,
            band,
            "cache hit rate % since start",
        )
    else:
        low = None
    found = [low] if low else []
    if row.evicted_keys:
        found.append(
            Finding(
                "redis_stats",
                "redis",
                Priority.P3,
                f"{row.evicted_keys} keys evicted in {row.interval_s:g} s: maxmemory reached",
                row.evicted_keys,
                0,
            )
        )
    return found


def _stats_notes(row: CacheStats) -> list[str]:
    if row.hit_rate_percent is None and row.cumulative_hit_rate_percent is None:
        return [f"No lookups in the {row.interval_s:g} s interval nor since start: no rate."]
    if row.hit_rate_percent is None:
        return [
            f"No lookups in the {row.interval_s:g} s interval; the rate since start is "
            f"{row.cumulative_hit_rate_percent}%."
        ]
    return []


@check("redis_stats", TITLE)
def stats(client: Redis, interval_s: float = 5.0) -> Outcome:
    """`INFO stats` twice, `interval_s` apart: hit rate now and since start, evictions,
    expirations and operations per second."""
    before = sample_stats(client)
    time.sleep(interval_s)
    return _between(before, sample_stats(client), client.target)

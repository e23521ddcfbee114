"""Redis checks (redis-py). The client is lazy: it connects on first use.

Read-only here: ping, memory, hit rate (two samples), clients, keys by pattern (SCAN, never
KEYS) and a bounded MONITOR sample. Guarded actions live in `netzops.cache.actions`.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from netzops.cache import observer
from netzops.errors import BadInput
from netzops.findings import Finding, Priority, above, below
from netzops.results import Result
from netzops.secrets import MASK, scrub
from netzops.targets import Target

SCAN_COUNT = 1000  # keys per SCAN step: big enough to be quick, small enough not to block


def connect(target: Target) -> redis.Redis:
    """A client for the target's Redis with connect and socket timeouts (no I/O yet).
    No retries: redis-py would otherwise retry (with backoff) a hanging server for minutes."""
    rc = target.redis
    return redis.Redis(
        host=rc.host,
        port=rc.port,
        db=rc.db,
        password=target.secret(rc.password_secret) if rc.password_secret else None,
        socket_connect_timeout=rc.timeout_s,
        socket_timeout=rc.timeout_s,
        retry=Retry(NoBackoff(), 0),
        decode_responses=True,
        # Key names are bytes: one that is not UTF-8 decodes to lone surrogates and encodes
        # back to exactly its bytes, so SCAN, TTL and UNLINK handle it (show it: `shown`).
        encoding_errors="surrogateescape",
        client_name="netzops",
    )


def shown(name: str) -> str:
    """A key name as a person reads it: bytes that are not UTF-8 as `\\xff` escapes
    (`session:\\xff\\xfe-bin`); a UTF-8 name is unchanged."""
    return raw(name).decode("utf-8", "backslashreplace")


def raw(name: str) -> bytes:
    """The exact bytes of a key name read through `connect`'s client."""
    return name.encode("utf-8", "surrogateescape")


def unavailable(check: str, title: str, exc: redis.RedisError) -> Result:
    """The result of a check whose Redis did not answer or refused the credentials."""
    if isinstance(exc, redis.AuthenticationError):
        why = "refused the credentials"
    elif isinstance(exc, redis.TimeoutError):
        why = "did not answer in time"
    else:
        why = "unreachable"
    return Result.of(
        check,
        title,
        findings=[
            Finding(check, "redis", Priority.P1, f"Redis {why}: {type(exc).__name__}: {exc}"[:240])
        ],
        metrics={"redis.up": 0.0},
    )


@dataclass(frozen=True)
class Ping:
    reply: str
    latency_ms: float
    version: str


def ping(client: redis.Redis) -> Result:
    """`redis-cli -a … ping` with latency."""
    title = "Redis connectivity"
    start = time.perf_counter()
    try:
        client.ping()
        latency = round((time.perf_counter() - start) * 1000.0, 2)
        version = str(info(client, "server").get("redis_version", ""))
    except redis.RedisError as exc:
        return unavailable("redis_ping", title, exc)
    return Result.of(
        "redis_ping",
        title,
        [Ping("PONG", latency, version)],
        metrics={"redis.up": 1.0, "redis.ping_ms": latency},
    )


def info(client: redis.Redis, section: str) -> dict[str, Any]:
    """`INFO <section>` as a dict (raises redis.RedisError)."""
    return dict(client.info(section))


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


def unreadable(check: str, title: str, what: str, exc: Exception) -> Result:
    """The result of a check whose Redis answered with fields netzops cannot read (a missing
    field, an odd type): a P3 finding naming it, not an exception."""
    why = f"{type(exc).__name__}: {exc}"[:200]
    return Result.of(
        check,
        title,
        findings=[Finding(check, "redis", Priority.P3, f"{what}: unexpected answer ({why})")],
    )


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


def memory(client: redis.Redis, target: Target) -> Result:
    """`INFO memory`: used, RSS, peak, fragmentation, maxmemory and its policy."""
    check, title = "redis_memory", "Redis memory"
    try:
        row = memory_row(info(client, "memory"))
    except redis.RedisError as exc:
        return unavailable(check, title, exc)
    except (KeyError, TypeError, ValueError) as exc:
        return unreadable(check, title, "INFO memory", exc)
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
                check,
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
            check, "redis", percent, target.bands["memory_percent"], "used memory % of maxmemory"
        )
        findings += [high] if high else []
    return Result.of(check, title, [row], findings, metrics)


# --- hit rate and counters --------------------------------------------------------------------


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
    sample = stats_sample(info(client, "stats"), time.monotonic())
    run_id = str(info(client, "server").get("run_id", ""))
    hits, misses = observer.caused(client, run_id, sample.keyspace_hits)
    return replace(
        sample,
        keyspace_hits=sample.keyspace_hits - hits,
        keyspace_misses=sample.keyspace_misses - misses,
        observer_hits=hits,
        observer_misses=misses,
    )


def stats_sample(data: dict[str, Any], at: float) -> StatsSample:
    """`INFO stats` (Redis 5 … 7.4) as a sample taken at `at` (raises KeyError/ValueError
    when a counter is missing or not a number)."""
    return StatsSample(
        at,
        *(
            int(data[f])
            for f in (
                "keyspace_hits",
                "keyspace_misses",
                "evicted_keys",
                "expired_keys",
                "total_commands_processed",
                "instantaneous_ops_per_sec",
            )
        ),
    )


def _rate(hits: int, misses: int) -> float | None:
    return round(hits * 100.0 / (hits + misses), 2) if hits + misses else None


def hit_rate(before: StatsSample, after: StatsSample, target: Target) -> Result:
    """Hit rate and counters between two samples: Redis counters are cumulative since start,
    so only a difference says what happens now."""
    check = "redis_stats"
    span = max(after.at - before.at, 1e-6)
    delta = {f: getattr(after, f) - getattr(before, f) for f in _COUNTERS}
    if any(d < 0 for d in delta.values()):
        return _after_reset(after, span, target)
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
    return Result.of(
        check,
        "Redis hit rate and counters",
        [row],
        _stats_findings(row, target),
        metrics,
        _stats_notes(row) + _observer_notes(after),
    )


def _observer_notes(after: StatsSample) -> list[str]:
    if not after.observer_hits and not after.observer_misses:
        return []
    return [
        f"Left out: {after.observer_hits} hits and {after.observer_misses} misses caused by "
        "netzops's own TTL lookups (cache.keys) since the counters started."
    ]


def _after_reset(after: StatsSample, span: float, target: Target) -> Result:
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
    return Result.of(
        "redis_stats",
        "Redis hit rate and counters",
        [row],
        _stats_findings(row, target),
        metrics,
        [note],
    )


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


def stats(client: redis.Redis, target: Target, interval_s: float = 5.0) -> Result:
    """`INFO stats` twice, `interval_s` apart: hit rate now and since start, evictions,
    expirations and operations per second."""
    try:
        before = sample_stats(client)
        time.sleep(interval_s)
        after = sample_stats(client)
    except redis.RedisError as exc:
        return unavailable("redis_stats", "Redis hit rate and counters", exc)
    except (KeyError, TypeError, ValueError) as exc:
        return unreadable("redis_stats", "Redis hit rate and counters", "INFO stats", exc)
    return hit_rate(before, after, target)


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


def clients(client: redis.Redis) -> Result:
    """`CLIENT LIST` aggregated by client name and by address host (this probe included)."""
    check, title = "redis_clients", "Redis clients"
    try:
        entries: list[dict[str, Any]] = list(client.client_list())
    except redis.RedisError as exc:
        return unavailable(check, title, exc)
    metrics = {
        "redis.clients.total": float(len(entries)),
        "redis.clients.blocked": float(sum("b" in e["flags"] for e in entries)),
        "redis.clients.idle_max_s": float(max((int(e["idle"]) for e in entries), default=0)),
    }
    rows = _groups(entries, "name") + _groups(entries, "host")
    return Result.of(
        check,
        title,
        rows,
        metrics=metrics,
        notes=["Counts include this probe's own connection (name netzops)."],
    )


# --- keys by pattern --------------------------------------------------------------------------


@dataclass(frozen=True)
class KeySample:
    key: str  # as `shown`: non-UTF-8 bytes escaped
    ttl_s: int | None  # None: no expiry


def scan(client: redis.Redis, pattern: str) -> Iterator[str]:
    """Key names matching `pattern`, by SCAN (KEYS would block the server); with `connect`'s
    client a name that is not UTF-8 comes as lone surrogates (see `shown`, `raw`)."""
    yield from client.scan_iter(match=pattern, count=SCAN_COUNT)


def _ttls(client: redis.Redis, names: list[str]) -> list[int]:
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.ttl(name)
    return [int(t) for t in pipe.execute()]


def keys(client: redis.Redis, pattern: str, sample: int = 10, ttl: bool = True) -> Result:
    """Count keys matching `pattern` with SCAN, a sample of `sample` names and, with `ttl`,
    TTL statistics (one pipelined TTL per key). Redis counts each TTL as a keyspace hit (or
    a miss for a key gone since the SCAN): they are recorded (netzops.cache.observer) and
    left out of the hit rates `sample_stats`/`stats` report; SCAN itself counts nothing."""
    if not pattern.strip():
        raise BadInput("a key pattern is needed, e.g. 'session:*'")
    check, title = "redis_keys", f"Redis keys matching {pattern!r}"
    count, names, ttls = 0, list[str](), list[int]()
    try:
        batch: list[str] = []
        for name in scan(client, pattern):
            count += 1
            names += [name] if len(names) < sample else []
            batch += [name] if ttl else []
            if len(batch) >= SCAN_COUNT:
                ttls, batch = ttls + _ttls(client, batch), []
        ttls += _ttls(client, batch) if batch else []
        caused = (sum(t != -2 for t in ttls), sum(t == -2 for t in ttls))
        observer.record(client, *caused)
    except redis.RedisError as exc:
        return unavailable(check, title, exc)
    # the sample are the first keys scanned, so their TTLs lead the list
    rows = [
        KeySample(shown(n), ttls[i] if ttl and ttls[i] >= 0 else None) for i, n in enumerate(names)
    ]
    metrics = {"redis.keys.count": float(count), **_ttl_metrics(ttls)}
    metrics |= {"redis.keys.observer_hits": caused[0], "redis.keys.observer_misses": caused[1]}
    notes = (
        [
            f"The TTL lookups counted as {caused[0]} keyspace hits and {caused[1]} misses in "
            "Redis; cache.stats leaves them out of the hit rate."
        ]
        if ttls
        else []
    )
    return Result.of(check, title, rows, metrics=metrics, notes=notes)


def _ttl_metrics(ttls: list[int]) -> dict[str, float]:
    live = [t for t in ttls if t >= 0]
    if not ttls:
        return {}
    metrics = {
        "redis.keys.with_ttl": float(len(live)),
        "redis.keys.without_ttl": float(sum(t == -1 for t in ttls)),
    }
    if live:
        metrics |= {
            "redis.keys.ttl_min_s": float(min(live)),
            "redis.keys.ttl_max_s": float(max(live)),
            "redis.keys.ttl_avg_s": round(sum(live) / len(live), 1),
        }
    return metrics


# --- bounded MONITOR --------------------------------------------------------------------------


@dataclass(frozen=True)
class CommandCount:
    command: str
    count: int
    example: str  # first occurrence: name and first argument (the key), secrets masked


_SECRET_AFTER = re.compile(r"(?i)^(auth|migrate .* auth2?|hello .*?auth|acl setuser)\b")
_CONFIG_SECRET = re.compile(r"(?i)^config set (requirepass|masterauth|masteruser)\b")


def mask(line: str) -> str:
    """A command line with the arguments of AUTH, HELLO … AUTH, MIGRATE … AUTH, ACL SETUSER
    and CONFIG SET requirepass/masterauth replaced by a mask (Redis ≥ 6 redacts some)."""
    for pattern in (_CONFIG_SECRET, _SECRET_AFTER):
        found = pattern.match(line)
        if found:
            return f"{line[: found.end()]} {MASK}"
    return scrub(line)


def _example(line: str) -> str:
    """A masked command line cut to its name and first argument: values (session data …)
    stay out of the record."""
    masked = mask(line)
    if masked != scrub(line):
        return masked
    words = masked.split(" ")
    rest = f" … (+{len(words) - 2} args)" if len(words) > 2 else ""
    return " ".join(words[:2])[:120] + rest


def monitor(client: redis.Redis, max_commands: int = 1000, seconds: float = 5.0) -> Result:
    """MONITOR for at most `seconds` or `max_commands` commands, whichever comes first:
    command counts by name. MONITOR slows a busy server; keep samples short."""
    check, title = "redis_monitor", "Redis commands (MONITOR sample)"
    counts: Counter[str] = Counter()
    examples: dict[str, str] = {}
    start = time.monotonic()
    try:
        with client.monitor() as watch:  # type: ignore[no-untyped-call]
            while sum(counts.values()) < max_commands:
                left = seconds - (time.monotonic() - start)
                if left <= 0 or not watch.connection.can_read(timeout=left):
                    break
                line = _command_line(watch)
                name = line.split(" ", 1)[0].lower()
                counts[name] += 1
                examples.setdefault(name, _example(line))
    except redis.RedisError as exc:
        return unavailable(check, title, exc)
    span = round(time.monotonic() - start, 2)
    total = sum(counts.values())
    rows = [CommandCount(name, n, examples[name]) for name, n in counts.most_common()]
    return Result.of(
        check,
        title,
        rows,
        metrics={
            "redis.monitor.commands": float(total),
            "redis.monitor.seconds": span,
            "redis.monitor.ops_per_sec": round(total / span, 2) if span else 0.0,
        },
    )


def _command_line(watch: Any) -> str:
    """The next monitored command as `NAME arg …` ("" when the line cannot be parsed)."""
    try:
        return str(watch.next_command()["command"]) or "(unparsed)"
    except (AttributeError, TypeError, ValueError):
        return "(unparsed)"


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


def persistence(client: redis.Redis, max_age_s: float = RDB_MAX_AGE_S) -> Result:
    """Age of the last successful RDB save (`LASTSAVE`) and `rdb_last_bgsave_status`
    (INFO persistence). A failed last save is P1 (Redis then refuses writes while
    stop-writes-on-bgsave-error is on); unsaved changes older than `max_age_s` P2; no
    persistence at all (no save rules, no AOF) P3. Metrics: redis.rdb_last_save_age_seconds,
    redis.rdb_changes_since_save, redis.rdb_last_bgsave_ok."""
    check, title = "redis_persistence", "Redis persistence (LASTSAVE, last BGSAVE)"
    try:
        facts = info(client, "persistence")
        last = client.lastsave()
        rules = str(client.config_get("save").get("save", ""))
    except redis.RedisError as exc:
        return unavailable(check, title, exc)
    try:
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
    except (KeyError, TypeError, ValueError) as exc:
        return unreadable(check, title, "INFO persistence", exc)
    metrics = {
        "redis.rdb_last_save_age_seconds": row.age_seconds,
        "redis.rdb_changes_since_save": float(row.changes_since_save),
        "redis.rdb_last_bgsave_ok": float(row.last_bgsave_status == "ok"),
    }
    return Result.of(check, title, [row], _persistence_findings(check, row, max_age_s), metrics)


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

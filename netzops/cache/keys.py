"""Keys by pattern (SCAN, never KEYS) and a bounded MONITOR sample of commands."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import redis

from netzops.cache import observer
from netzops.cache.client import SCAN_COUNT, Redis, check, shown
from netzops.checks import Outcome
from netzops.errors import BadInput
from netzops.secrets import MASK, Scrubber


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


@check("redis_keys", "Redis keys matching {pattern!r}")
def keys(client: redis.Redis, pattern: str, sample: int = 10, ttl: bool = True) -> Outcome:
    """Count keys matching `pattern` with SCAN, a sample of `sample` names and, with `ttl`,
    TTL statistics (one pipelined TTL per key). Redis counts each TTL as a keyspace hit (or
    a miss for a key gone since the SCAN): they are recorded (netzops.cache.observer) and
    left out of the hit rates `sample_stats`/`stats` report; SCAN itself counts nothing."""
    if not pattern.strip():
        raise BadInput("a key pattern is needed, e.g. 'session:*'")
    names, ttls, count = _scan_sample(client, pattern, sample, ttl)
    caused = (sum(t != -2 for t in ttls), sum(t == -2 for t in ttls))
    observer.record(client, *caused)
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
    return Outcome(rows, metrics=metrics, notes=notes)


def _scan_sample(
    client: redis.Redis, pattern: str, sample: int, ttl: bool
) -> tuple[list[str], list[int], int]:
    """The first `sample` names matching `pattern`, the TTLs of all (when `ttl`; one
    pipelined TTL per key, in SCAN order) and the count."""
    count, names, ttls, batch = 0, list[str](), list[int](), list[str]()
    for name in scan(client, pattern):
        count += 1
        if len(names) < sample:
            names.append(name)
        if ttl:
            batch.append(name)
        if len(batch) >= SCAN_COUNT:
            ttls += _ttls(client, batch)
            batch = []
    if batch:
        ttls += _ttls(client, batch)
    return names, ttls, count


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


NOTHING = Scrubber()  # masks no value
_SECRET_AFTER = re.compile(r"(?i)^(auth|migrate .* auth2?|hello .*?auth|acl setuser)\b")
_CONFIG_SECRET = re.compile(r"(?i)^config set (requirepass|masterauth|masteruser)\b")


def mask(line: str, scrub: Callable[[str], str] = NOTHING) -> str:
    """A command line with the arguments of AUTH, HELLO … AUTH, MIGRATE … AUTH, ACL SETUSER
    and CONFIG SET requirepass/masterauth replaced by a mask (Redis ≥ 6 redacts some), and
    any other line scrubbed with `scrub` (`client.target.scrubber()`: the target's secrets;
    the default masks no value)."""
    for pattern in (_CONFIG_SECRET, _SECRET_AFTER):
        found = pattern.match(line)
        if found:
            return f"{line[: found.end()]} {MASK}"
    return scrub(line)


def _example(line: str, scrub: Callable[[str], str]) -> str:
    """A masked command line cut to its name and first argument: values (session data …)
    stay out of the record."""
    masked = mask(line, scrub)
    if masked != scrub(line):
        return masked
    words = masked.split(" ")
    rest = f" … (+{len(words) - 2} args)" if len(words) > 2 else ""
    return " ".join(words[:2])[:120] + rest


@check("redis_monitor", "Redis commands (MONITOR sample)")
def monitor(client: Redis, max_commands: int = 1000, seconds: float = 5.0) -> Outcome:
    """MONITOR for at most `seconds` or `max_commands` commands, whichever comes first:
    command counts by name. MONITOR slows a busy server; keep samples short."""
    counts: Counter[str] = Counter()
    examples: dict[str, str] = {}
    scrub = client.target.scrubber()  # a command's argument may be one of the target's secrets
    start = time.monotonic()
    with client.monitor() as watch:  # type: ignore[no-untyped-call]
        while sum(counts.values()) < max_commands:
            left = seconds - (time.monotonic() - start)
            if left <= 0 or not watch.connection.can_read(timeout=left):
                break
            line = _command_line(watch)
            name = line.split(" ", 1)[0].lower()
            counts[name] += 1
            examples.setdefault(name, _example(line, scrub))
    span = round(time.monotonic() - start, 2)
    total = sum(counts.values())
    rows = [CommandCount(name, n, examples[name]) for name, n in counts.most_common()]
    return Outcome(
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

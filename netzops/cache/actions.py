"""Guarded Redis actions: delete keys by pattern, FLUSHDB, set maxmemory-policy.

Each goes through `netzops.guard.run`: a dry run (the plan) unless confirmed with the plan's
confirmation string. Input is validated before anything touches the server.
"""

from __future__ import annotations

import hashlib
import re
from itertools import islice

import redis

from netzops import guard
from netzops.cache.client import Redis, info, raw, shown, unavailable
from netzops.cache.keys import scan
from netzops.errors import BadInput
from netzops.guard import Plan
from netzops.results import Result
from netzops.targets import Target

#: Redis's eviction policies (redis.conf, "maxmemory-policy").
POLICIES = (
    "noeviction",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
)
UNLINK_BATCH = 500  # keys per UNLINK: frees memory in the background, short server pauses
SAMPLE = 10  # key names shown in a plan

_WILDCARDS = re.compile(r"\[[^\]]*\]|[*?\s]")


def check_pattern(pattern: str) -> str:
    """`pattern` if it names something narrower than every key, else BadInput: empty and
    wildcard-only patterns (`*`, `?*`, `[a-z]*`, blanks) select everything — use flushdb."""
    if not _WILDCARDS.sub("", re.sub(r"\\.", "x", pattern)):  # an escaped char is literal
        raise BadInput(
            f"refusing key pattern {pattern!r}: it matches every key; name a "
            "prefix such as 'session:*' (or use flushdb for the whole database)"
        )
    return pattern


def _where(target: Target, db: int) -> str:
    return f"redis {target.redis.host}:{target.redis.port} db {db}"


def _digest(names: list[str]) -> str:
    """SHA-256 over the exact bytes of the key names (non-UTF-8 names included)."""
    return hashlib.sha256(b"\n".join(raw(n) for n in names)).hexdigest()[:16]


def _unlink(client: redis.Redis, names: list[str], batch: int) -> int:
    removed = 0
    for i in range(0, len(names), batch):
        removed += int(client.unlink(*names[i : i + batch]))
    return removed


def delete_keys(
    client: Redis,
    pattern: str,
    confirm: str | None = None,
    batch: int = UNLINK_BATCH,
) -> Result:
    """Delete the keys matching `pattern`: SCAN, then UNLINK in batches of `batch` exactly the
    keys the confirmed plan counted; verified by a SCAN that finds none."""
    check_pattern(pattern)
    target, db = client.target, client.target.redis.db

    def plan() -> Plan:
        planned = sorted(scan(client, pattern))
        sample = ", ".join(shown(n) for n in planned[:SAMPLE]) or "none"
        return Plan(
            "delete_keys",
            target.name,
            f"{_where(target, db)} keys {pattern}",
            steps=[
                f"SCAN MATCH {pattern} in db {db}: {len(planned)} keys (sample: {sample})",
                f"UNLINK these {len(planned)} keys in batches of {batch}",
                f"verify: SCAN MATCH {pattern} finds 0 keys",
            ],
            details={
                "pattern": pattern,
                "db": db,
                "count": len(planned),
                "sample": [shown(n) for n in planned[:SAMPLE]],
                "keys_sha256": _digest(planned),
            },
            subjects=tuple(planned),
        )

    def act(p: Plan) -> str:
        return f"unlinked {_unlink(client, list(p.subjects), batch)} of {len(p.subjects)} keys"

    def count(_: Plan) -> int:
        return sum(1 for _ in scan(client, pattern))

    try:
        return guard.run(target, plan, act, confirm, observe=count, verify=_none_left)
    except redis.RedisError as exc:
        return unavailable("delete_keys", f"delete_keys on {target.name}", exc)


def _none_left(_: int, after: int) -> bool:
    """Verified when no key is left after the action."""
    return after == 0


def flushdb(client: Redis, confirm: str | None = None) -> Result:
    """FLUSHDB (ASYNC) of the target's db only; the plan shows its DBSIZE."""
    target, db = client.target, client.target.redis.db

    def plan() -> Plan:
        size = int(client.dbsize())
        return Plan(
            "flushdb",
            target.name,
            _where(target, db),
            steps=[
                f"DBSIZE of db {db}: {size} keys",
                f"FLUSHDB ASYNC on db {db}: removes all {size} keys",
                "other databases are untouched",
                f"verify: DBSIZE of db {db} is 0",
            ],
            details={"db": db, "dbsize": size},
        )

    try:
        result = guard.run(
            target,
            plan,
            lambda _: str(client.flushdb(asynchronous=True)),
            confirm,
            observe=lambda _: int(client.dbsize()),
            verify=_none_left,
        )
        sample = sorted(shown(n) for n in islice(scan(client, "*"), SAMPLE))
    except redis.RedisError as exc:
        return unavailable("flushdb", f"flushdb on {target.name}", exc)
    if sample:
        result.notes.append(f"Keys in db {db} now include: {', '.join(sample)}")
    return result


def check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise BadInput(f"unknown maxmemory-policy {policy!r}; Redis knows: {', '.join(POLICIES)}")
    return policy


def _config(client: redis.Redis, name: str) -> str:
    return str(dict(client.config_get(name))[name])


def set_maxmemory_policy(client: Redis, policy: str, confirm: str | None = None) -> Result:
    """CONFIG SET maxmemory-policy, in memory only (see the result's notes)."""
    check_policy(policy)
    target = client.target

    def plan() -> Plan:
        now, limit = _config(client, "maxmemory-policy"), int(_config(client, "maxmemory"))
        return Plan(
            "set_maxmemory_policy",
            target.name,
            _where(target, target.redis.db),
            steps=[
                f"CONFIG SET maxmemory-policy {policy} (now {now}; maxmemory {limit} bytes)",
                f"verify: CONFIG GET maxmemory-policy is {policy}",
            ],
            details={"policy": policy, "current": now, "maxmemory": limit},
        )

    def act(_: Plan) -> str:
        return str(client.config_set("maxmemory-policy", policy))

    try:
        result = guard.run(
            target,
            plan,
            act,
            confirm,
            observe=lambda _: _config(client, "maxmemory-policy"),
            verify=lambda _, now: bool(now == policy),
        )
        result.notes += _policy_notes(client)
    except redis.RedisError as exc:
        return unavailable("set_maxmemory_policy", f"set_maxmemory_policy on {target.name}", exc)
    return result


def _policy_notes(client: redis.Redis) -> list[str]:
    notes = []
    if int(_config(client, "maxmemory")) == 0:
        notes.append("maxmemory is 0 (unbounded): no policy has any effect until maxmemory is set.")
    conf = str(info(client, "server").get("config_file") or "")
    persist = (
        "CONFIG REWRITE is not available: the server runs without a config file"
        if not conf
        else f"CONFIG REWRITE would write {conf}, but if that file is generated at start "
        "(as in the sandbox) the rewrite is lost too: change the settings it is "
        "generated from"
    )
    notes.append(
        f"CONFIG SET lives in memory and is lost on restart. {persist}. "
        "netzops does not run CONFIG REWRITE."
    )
    return notes

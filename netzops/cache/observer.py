"""What netzops itself adds to Redis's keyspace counters, so that hit rates leave it out.

Redis counts every key lookup as a keyspace hit or miss, TTL included (measured on Redis 7.0:
TTL, PTTL, EXPIRETIME, TYPE, EXISTS, OBJECT and SCAN … TYPE each count; only MEMORY USAGE
and DEBUG OBJECT do not, and neither tells a TTL). `cache.keys` therefore records the hits
and misses its TTL lookups caused (a TTL reply of -2 is a miss, any other a hit) in a small
journal, per Redis server and run, and `cache.sample_stats` subtracts them from the counters.

The journal is `<outputs>/state/redis-observer.json` on the machine running netzops; it is
void once the server restarts (new run_id) or its counters are reset (CONFIG RESETSTAT). Redis
gives no time of the last reset, so netzops leaves a canary: with each journal entry it sends
`OBJECT HELP`, a command no client needs, and notes its call count in `INFO commandstats`.
RESETSTAT zeroes that count, and only netzops raises it again, so a count below the noted one
means a reset; so does any `MARK` counter below its noted value, or fewer hits or misses than
netzops alone caused. Lookups by another netzops machine are not known here.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis

from netzops.paths import outputs_dir


def journal_path() -> Path:
    return outputs_dir() / "state" / "redis-observer.json"


def server_key(client: redis.Redis) -> str:
    kwargs = client.connection_pool.connection_kwargs
    return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"


@contextmanager
def _journal() -> Iterator[dict[str, Any]]:
    path = journal_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            data = json.loads(path.read_text()) if path.exists() else {}
        except (OSError, ValueError):
            data = {}
        yield data
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, sort_keys=True, allow_nan=False))
        tmp.replace(path)


# INFO stats counters that CONFIG RESETSTAT zeroes and that otherwise only grow
MARK = (
    "keyspace_hits",
    "keyspace_misses",
    "total_commands_processed",
    "total_connections_received",
    "total_net_input_bytes",
)


CANARY = ("OBJECT", "HELP")  # no key, no lookup: keyspace counters do not move
_CANARY_STATS = ("cmdstat_object|help", "cmdstat_object")  # Redis ≥ 7, then Redis 6


def mark(stats: Mapping[str, Any], canary: int) -> dict[str, int]:
    """The `MARK` counters of `INFO stats` and the canary's calls; odd values count as 0."""
    return {name: _int(stats.get(name)) for name in MARK} | {"canary": canary}


def canary_calls(client: redis.Redis) -> int:
    """Calls of the canary since the counters last started (`INFO commandstats`); 0 when
    the server will not say."""
    try:
        commands = client.info("commandstats")
    except redis.ResponseError:  # refused by an ACL: no canary to read
        return 0
    for name in _CANARY_STATS:
        if isinstance(commands.get(name), Mapping):
            return _int(commands[name].get("calls"))
    return 0


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _valid(entry: Mapping[str, Any], run_id: str, now: Mapping[str, int]) -> bool:
    """Whether a journal entry still applies: same server run, no counter went backwards,
    and Redis counted at least the lookups netzops recorded."""
    if entry.get("run_id") != run_id:
        return False
    recorded = entry.get("mark")
    if not isinstance(recorded, Mapping):  # a journal from before marks: no longer known
        return False
    if any(now[name] < _int(recorded.get(name)) for name in (*MARK, "canary")):
        return False
    return (
        _int(entry.get("hits")) <= now["keyspace_hits"]
        and _int(entry.get("misses")) <= now["keyspace_misses"]
    )


def _server(client: redis.Redis) -> tuple[str, dict[str, int]]:
    """(run_id, `mark`) now; INFO does not count as a lookup."""
    server, stats = client.info("server"), client.info("stats")
    return str(server["run_id"]), mark(stats, canary_calls(client))


def record(client: redis.Redis, hits: int, misses: int) -> None:
    """Add lookups netzops caused on this server to the journal (raises redis.RedisError)."""
    if hits == 0 and misses == 0:
        return
    run_id, now = _server(client)
    with _journal() as data:
        entry = data.get(server_key(client), {})
        if not _valid(entry, run_id, now):
            entry = {"run_id": run_id, "hits": 0, "misses": 0}
        entry["hits"] = _int(entry["hits"]) + hits
        entry["misses"] = _int(entry["misses"]) + misses
        entry["mark"] = now | _leave_canary(client)
        data[server_key(client)] = entry


def _leave_canary(client: redis.Redis) -> dict[str, int]:
    """Send the canary and return its calls as {"canary": n}; {} where the server refuses
    it (an ACL without OBJECT, a renamed command): then only the counters tell a reset."""
    try:
        client.execute_command(*CANARY)  # type: ignore[no-untyped-call]  # untyped in redis-py
        return {"canary": canary_calls(client)}
    except redis.ResponseError:
        return {}


def caused(client: redis.Redis, run_id: str, stats: Mapping[str, Any]) -> tuple[int, int]:
    """(hits, misses) netzops caused on this server since its counters last started, given
    the server's run_id and its `INFO stats` now; (0, 0) when the journal does not apply."""
    path = journal_path()
    try:
        data = json.loads(path.read_text()) if path.exists() else {}
    except (OSError, ValueError):
        return 0, 0
    entry = data.get(server_key(client), {})
    if not entry or not _valid(entry, run_id, mark(stats, canary_calls(client))):
        return 0, 0
    return _int(entry.get("hits")), _int(entry.get("misses"))

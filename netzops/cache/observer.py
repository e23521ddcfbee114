"""What netzops itself adds to Redis's keyspace counters, so that hit rates leave it out.

Redis counts every key lookup as a keyspace hit or miss, TTL included (measured on Redis 7.0:
TTL, PTTL, EXPIRETIME, TYPE, EXISTS, OBJECT and SCAN … TYPE each count; only MEMORY USAGE
and DEBUG OBJECT do not, and neither tells a TTL). `cache.keys` therefore records the hits
and misses its TTL lookups caused (a TTL reply of -2 is a miss, any other a hit) in a small
journal, per Redis server and run, and `cache.sample_stats` subtracts them from the counters.

The journal is `<outputs>/state/redis-observer.json` on the machine running netzops; it is
void once the server restarts (new run_id) or its counters are reset (CONFIG RESETSTAT:
keyspace_hits went below the recorded value). Lookups by another netzops machine are not
known here.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
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


def _server(client: redis.Redis) -> tuple[str, int]:
    """(run_id, keyspace_hits) now; INFO does not count as a lookup."""
    server, stats = client.info("server"), client.info("stats")
    return str(server["run_id"]), int(stats["keyspace_hits"])


def record(client: redis.Redis, hits: int, misses: int) -> None:
    """Add lookups netzops caused on this server to the journal (raises redis.RedisError)."""
    if hits == 0 and misses == 0:
        return
    run_id, seen = _server(client)
    with _journal() as data:
        entry = data.get(server_key(client), {})
        if entry.get("run_id") != run_id or seen < int(entry.get("keyspace_hits", 0)):
            entry = {"run_id": run_id, "hits": 0, "misses": 0}
        entry["hits"] = int(entry["hits"]) + hits
        entry["misses"] = int(entry["misses"]) + misses
        entry["keyspace_hits"] = seen
        data[server_key(client)] = entry


def caused(client: redis.Redis, run_id: str, keyspace_hits: int) -> tuple[int, int]:
    """(hits, misses) netzops caused on this server since its counters last started, given
    the server's run_id and current keyspace_hits; (0, 0) when the journal does not apply."""
    path = journal_path()
    try:
        data = json.loads(path.read_text()) if path.exists() else {}
    except (OSError, ValueError):
        return 0, 0
    entry = data.get(server_key(client), {})
    if entry.get("run_id") != run_id or keyspace_hits < int(entry.get("keyspace_hits", 0)):
        return 0, 0
    return int(entry.get("hits", 0)), int(entry.get("misses", 0))

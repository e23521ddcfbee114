"""Redis read-only checks against the sandbox Redis, compared with what `redis-cli` says.

Test keys live under `netzops-test:<uuid>:*` and are removed afterwards; the app's
session keys are only read.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from netzops import cache
from netzops.findings import Priority
from netzops.secrets import MASK
from netzops.targets import Target
from tests.conftest import wait_for

REDIS = "netzwaechter-redis"
MEMORY_SLACK = 64 * 1024  # bytes: each connection holds a query (~20 KB) and reply (16 KB) buffer


def redis_cli(
    target: Target | None, *args: str, db: int = 0, input: str | None = None, container: str = REDIS
) -> str:
    """`redis-cli` inside the container; the password travels in the environment only."""
    env = dict(os.environ)
    auth: list[str] = []
    if target is not None:
        env["REDISCLI_AUTH"] = target.secret("redis_password")
        auth = ["-e", "REDISCLI_AUTH"]
    command = [
        "docker",
        "exec",
        *(["-i"] if input is not None else []),
        *auth,
        container,
        "redis-cli",
        "-n",
        str(db),
        *args,
    ]
    done = subprocess.run(
        command, env=env, input=input, capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr[-500:]
    return done.stdout


def info_fields(text: str) -> dict[str, str]:
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def scan_count(target: Target, pattern: str, db: int = 0) -> int:
    return len(redis_cli(target, "--scan", "--pattern", pattern, db=db).split())


def drop(target: Target, pattern: str, db: int = 0) -> None:
    """Remove test keys with redis-cli (SCAN + UNLINK), independent of the library."""
    names = redis_cli(target, "--scan", "--pattern", pattern, db=db).split()
    if names:
        redis_cli(target, "UNLINK", *names, db=db)


@pytest.fixture(scope="module")
def client(target: Target) -> redis.Redis:
    return cache.connect(target)


@pytest.fixture
def prefix(target: Target) -> Iterator[str]:
    """A unique key prefix for one test, cleaned up afterwards."""
    name = f"netzops-test:{uuid.uuid4().hex[:10]}"
    yield name
    drop(target, f"{name}:*")


def test_ping_reports_version_and_latency(client: redis.Redis, target: Target) -> None:
    result = cache.ping(client)
    server = info_fields(redis_cli(target, "INFO", "server"))
    assert result.rows[0]["reply"] == "PONG"
    assert result.rows[0]["version"] == server["redis_version"]
    assert 0 < result.metrics["redis.ping_ms"] < target.redis.timeout_s * 1000
    assert result.findings == []


def test_memory_matches_info_memory(client: redis.Redis, target: Target) -> None:
    result = cache.memory(client)
    cli = info_fields(redis_cli(target, "INFO", "memory"))
    row = result.rows[0]
    assert abs(row["used_memory"] - int(cli["used_memory"])) <= MEMORY_SLACK
    assert abs(row["used_memory_peak"] - int(cli["used_memory_peak"])) <= MEMORY_SLACK
    assert abs(row["used_memory_rss"] / int(cli["used_memory_rss"]) - 1) <= 0.05
    assert abs(row["mem_fragmentation_ratio"] / float(cli["mem_fragmentation_ratio"]) - 1) <= 0.1
    assert row["maxmemory"] == int(cli["maxmemory"])
    assert row["maxmemory_policy"] == cli["maxmemory_policy"]
    assert result.metrics["redis.used_memory_bytes"] == row["used_memory"]
    assert result.metrics["redis.maxmemory_bytes"] == row["maxmemory"]
    if row["maxmemory"] == 0:  # the sandbox default: unbounded → one P3 note
        assert row["used_percent"] is None
        assert [(f.priority, "unbounded" in f.summary) for f in result.findings] == [
            (Priority.P3, True)
        ]
    else:
        assert abs(row["used_percent"] - 100 * int(cli["used_memory"]) / row["maxmemory"]) < 1


def _stats(target: Target) -> tuple[int, int]:
    cli = info_fields(redis_cli(target, "INFO", "stats"))
    return int(cli["keyspace_hits"]), int(cli["keyspace_misses"])


def test_hit_rate_is_the_delta_of_two_samples(
    client: redis.Redis, target: Target, prefix: str
) -> None:
    redis_cli(target, "SET", f"{prefix}:present", "1")
    lookups = "".join(f"GET {prefix}:present\n" for _ in range(7))
    lookups += "".join(f"GET {prefix}:missing{i}\n" for i in range(3))
    cli_before = _stats(target)
    first = cache.sample_stats(client)
    redis_cli(target, input=lookups)
    second = cache.sample_stats(client)
    cli_after = _stats(target)
    result = cache.hit_rate(first, second, target)
    row = result.rows[0]
    cli_hits, cli_misses = cli_after[0] - cli_before[0], cli_after[1] - cli_before[1]
    # the library's samples lie inside the redis-cli ones: equal unless others read meanwhile
    assert 7 <= row["hits"] <= cli_hits and 3 <= row["misses"] <= cli_misses
    assert row["hit_rate_percent"] == round(100 * row["hits"] / (row["hits"] + row["misses"]), 2)
    fraction = result.metrics["redis.hit_rate"]
    assert fraction == pytest.approx(row["hit_rate_percent"] / 100, abs=1e-4)
    cumulative = 100 * cli_after[0] / (cli_after[0] + cli_after[1])
    assert abs(row["cumulative_hit_rate_percent"] - cumulative) < 0.5
    if (cli_hits, cli_misses) == (7, 3):  # nobody else read: exactly 70 % → P3 hint (< 80)
        assert row["hit_rate_percent"] == 70.0
        assert [f.priority for f in result.findings] == [Priority.P3]


def test_stats_sleeps_between_samples(client: redis.Redis, target: Target, prefix: str) -> None:
    other = cache.connect(target)
    other.set(f"{prefix}:k", "v")
    stop, looked_up = threading.Event(), threading.Event()

    def lookups() -> None:  # one hit and one miss every 50 ms, before, during and after
        while not stop.is_set():
            other.get(f"{prefix}:k")
            other.get(f"{prefix}:none")
            looked_up.set()
            time.sleep(0.05)

    thread = threading.Thread(target=lookups)
    thread.start()
    try:
        assert looked_up.wait(30), "the lookup thread did not start"
        cli_before = _stats(target)
        result = cache.stats(client, interval_s=2.0)
        cli_after = _stats(target)
    finally:
        stop.set()
        thread.join()
    row = result.rows[0]
    assert 1.95 <= row["interval_s"] < 4  # the 2 s sleep plus a few round trips
    # the lookups ran throughout: a 2 s window holds several of each, and no more than
    # redis-cli counted around it
    assert 5 <= row["hits"] <= cli_after[0] - cli_before[0]
    assert 5 <= row["misses"] <= cli_after[1] - cli_before[1]
    # every lookup is a command: the rate covers at least the hits and misses
    ops = result.metrics["redis.ops_per_sec"] * row["interval_s"]
    assert ops >= (row["hits"] + row["misses"]) * 0.99


def _cli_clients(target: Target) -> list[str]:
    return redis_cli(target, "CLIENT", "LIST").splitlines()


def test_clients_match_client_list(client: redis.Redis, target: Target) -> None:
    before = len(_cli_clients(target))
    result = cache.clients(client)
    listing = _cli_clients(target)
    total = result.metrics["redis.clients.total"]
    # redis-cli counts itself, the library its own connection: ±1 (plus others coming/going)
    assert min(before, len(listing)) - 1 <= total <= max(before, len(listing)) + 1
    by_host = [r for r in result.rows if r["group"] == "host"]
    by_name = [r for r in result.rows if r["group"] == "name"]
    assert sum(r["clients"] for r in by_host) == sum(r["clients"] for r in by_name) == total
    assert any(r["key"] == "netzops" for r in by_name)
    flags = [dict(kv.split("=", 1) for kv in line.split())["flags"] for line in listing]
    assert result.metrics["redis.clients.blocked"] == sum("b" in f for f in flags)


def test_session_key_count_matches_redis_cli_scan(
    client: redis.Redis, target: Target, session_keys: list[str]
) -> None:
    before = scan_count(target, "session:*")
    started = time.monotonic()
    result = cache.keys(client, "session:*", sample=5)
    names = [row["key"] for row in result.rows]
    cli_ttls = [
        int(t) for t in redis_cli(target, input="".join(f"TTL {n}\n" for n in names)).split()
    ]
    elapsed = time.monotonic() - started  # the library's and redis-cli's TTLs lie in it
    after = scan_count(target, "session:*")
    count = result.metrics["redis.keys.count"]
    assert min(before, after) <= count <= max(before, after)
    assert count > 0  # session_keys made sure of one
    assert len(result.rows) == min(5, count) and len(cli_ttls) == len(names)
    for row, cli_ttl in zip(result.rows, cli_ttls, strict=True):
        assert row["key"].startswith("session:")
        assert row["ttl_s"] is not None
        if cli_ttl == -2:  # expired after the library read it
            assert row["ttl_s"] <= math.ceil(elapsed) + 1
        else:  # the TTL only falls (nothing refreshes sessions here), by at most elapsed
            assert 0 <= row["ttl_s"] - cli_ttl <= math.ceil(elapsed) + 1, (row, cli_ttl, elapsed)


def test_keys_ttl_statistics(client: redis.Redis, target: Target, prefix: str) -> None:
    writes = "".join(f"SET {prefix}:ttl{i} v EX {100 + i}\n" for i in range(3))
    writes += "".join(f"SET {prefix}:keep{i} v\n" for i in range(2))
    started = time.monotonic()
    assert redis_cli(target, input=writes).split() == ["OK"] * 5
    result = cache.keys(client, f"{prefix}:*", sample=10)
    # from before the writes to after the library's TTLs: a TTL (rounded to seconds by
    # Redis) fell by at most that, plus 1 s for the rounding and the ms clocks
    fell = math.ceil(time.monotonic() - started) + 1
    assert result.metrics["redis.keys.count"] == scan_count(target, f"{prefix}:*") == 5
    assert result.metrics["redis.keys.with_ttl"] == 3
    assert result.metrics["redis.keys.without_ttl"] == 2
    assert 100 - fell <= result.metrics["redis.keys.ttl_min_s"] <= 100
    assert 102 - fell <= result.metrics["redis.keys.ttl_max_s"] <= 102
    assert sorted(r["ttl_s"] is None for r in result.rows) == [False] * 3 + [True] * 2


def _monitoring(target: Target) -> bool:
    return any("flags=O" in line for line in _cli_clients(target))


def test_monitor_counts_commands_of_a_second_client(
    client: redis.Redis, target: Target, prefix: str
) -> None:
    window = 10.0  # s: room for a slow start of MONITOR and of the commands below
    results = []
    watcher = threading.Thread(
        target=lambda: results.append(cache.monitor(client, max_commands=10_000, seconds=window))
    )
    started = time.monotonic()
    watcher.start()
    wait_for(lambda: _monitoring(target), 30, "CLIENT LIST to show the MONITOR client")
    other = cache.connect(target)
    for _ in range(5):
        other.echo(f"{prefix}-echo")
    for _ in range(4):
        other.get(f"{prefix}:absent")
    other.set(f"{prefix}:value", "private-session-data")
    other.execute_command("AUTH", target.secret("redis_password"))  # type: ignore[no-untyped-call]
    sent = time.monotonic() - started
    assert sent < window - 1, f"the commands took {sent:.1f} s: too late for the window"
    watcher.join(timeout=window + 30)
    elapsed = time.monotonic() - started
    assert not watcher.is_alive() and elapsed < window + 5  # stops at the end of its window
    result = results[0]
    rows = {r["command"]: r for r in result.rows}
    assert rows["echo"]["count"] >= 5 and rows["get"]["count"] >= 4
    assert rows["auth"]["example"] == f"AUTH {MASK}"
    assert re.fullmatch(r"SET \S+ … \(\+\d+ args\)", rows["set"]["example"])  # no values
    assert "private-session-data" not in str(result.to_json())
    assert target.secret("redis_password") not in str(result.to_json())
    assert result.metrics["redis.monitor.commands"] == sum(r["count"] for r in result.rows)
    # its span is rounded to 10 ms (cache.monitor): within the window and what we waited
    assert window - 0.05 <= result.metrics["redis.monitor.seconds"] <= elapsed + 0.005


def test_monitor_stops_after_max_commands(client: redis.Redis, target: Target) -> None:
    other = cache.connect(target)
    stop = threading.Event()

    def chatter() -> None:
        while not stop.is_set():
            other.echo("netzops-test")
            time.sleep(0.01)

    thread = threading.Thread(target=chatter)
    thread.start()
    try:
        result = cache.monitor(client, max_commands=3, seconds=10.0)
    finally:
        stop.set()
        thread.join()
    assert result.metrics["redis.monitor.commands"] == 3
    assert result.metrics["redis.monitor.seconds"] < 2


def test_mask_hides_secret_arguments(target: Target) -> None:
    secret = target.secret("redis_password")
    assert cache.mask("AUTH hunter2") == f"AUTH {MASK}"
    assert cache.mask("auth default hunter2") == f"auth {MASK}"
    assert cache.mask("HELLO 3 AUTH default hunter2") == f"HELLO 3 AUTH {MASK}"
    assert cache.mask("CONFIG SET requirepass hunter2") == f"CONFIG SET requirepass {MASK}"
    assert cache.mask("config set masterauth hunter2") == f"config set masterauth {MASK}"
    assert cache.mask("ACL SETUSER bob on >hunter2") == f"ACL SETUSER {MASK}"
    assert cache.mask("MIGRATE h 1 k 0 5 AUTH hunter2") == f"MIGRATE h 1 k 0 5 AUTH {MASK}"
    scrub = target.scrubber()
    assert secret not in cache.mask(f"ECHO {secret}", scrub)  # the target's secrets are scrubbed
    assert cache.mask(f"ECHO {secret}", scrub) == f"ECHO {MASK}"
    assert cache.mask("GET session:abc") == "GET session:abc"

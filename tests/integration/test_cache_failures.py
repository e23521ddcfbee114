"""Redis that is down, refuses the password or hangs: every check gives a finding within the
socket timeout (plus a margin), never an exception. The shared sandbox Redis is never
touched: a closed port, a wrong password by environment override, and a throwaway Redis
container (`netzops-test-…`) that is paused, then removed. The throwaway also shows memory
against a maxmemory limit."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from netzops import cache
from netzops.findings import Priority
from netzops.results import Result
from netzops.targets import Target
from tests.conftest import sh
from tests.integration.test_cache import info_fields, redis_cli
from tests.integration.test_cache_actions import closed_port

TIMEOUT_S = 1.0
MARGIN_S = 1.5

CHECKS: dict[str, Callable[[redis.Redis, Target], Result]] = {
    "ping": lambda c, t: cache.ping(c),
    "memory": lambda c, t: cache.memory(c),
    "stats": lambda c, t: cache.stats(c, interval_s=0.1),
    "clients": lambda c, t: cache.clients(c),
    "keys": lambda c, t: cache.keys(c, "session:*"),
    "monitor": lambda c, t: cache.monitor(c, seconds=0.5),
    "delete_keys": lambda c, t: cache.delete_keys(c, "netzops-test:*"),
    "flushdb": lambda c, t: cache.flushdb(c),
    "set_maxmemory_policy": lambda c, t: cache.set_maxmemory_policy(c, "allkeys-lru"),
}


def with_redis(target: Target, **change: object) -> Target:
    redis_part = target.redis.model_copy(update={"timeout_s": TIMEOUT_S, **change})
    return target.model_copy(update={"redis": redis_part})


def assert_all_report(target: Target, words: str) -> None:
    """Each check returns one P1 finding containing `words`, in time."""
    client = cache.connect(target)
    for name, check in CHECKS.items():
        start = time.monotonic()
        result = check(client, target)
        took = time.monotonic() - start
        assert took < TIMEOUT_S + MARGIN_S, (name, took)
        assert [f.priority for f in result.findings] == [Priority.P1], name
        assert words in result.findings[0].summary, (name, result.findings[0].summary)
        assert result.metrics["redis.up"] == 0.0


def test_closed_port_is_a_finding(target: Target) -> None:
    assert_all_report(with_redis(target, port=closed_port()), "unreachable")


def test_wrong_password_is_a_finding(target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETZWAECHTER_REDIS_PASSWORD", f"wrong-{uuid.uuid4().hex}")
    assert_all_report(with_redis(target), "refused the credentials")


@pytest.fixture(scope="module")
def throwaway(target: Target) -> Iterator[tuple[str, Target]]:
    """A Redis without password on a free local port, in its own container."""
    name, port = f"netzops-test-redis-{uuid.uuid4().hex[:8]}", closed_port()
    sh(
        "docker",
        "run",
        "-d",
        "--name",
        name,
        "-v",
        "/usr:/usr:ro",
        "-v",
        "/etc:/etc:ro",
        "--tmpfs",
        "/tmp",
        "-p",
        f"127.0.0.1:{port}:6379",
        "netzwaechter/base:local",
        "redis-server",
        "--port",
        "6379",
        "--save",
        "",
        "--protected-mode",
        "no",
    )
    try:
        deadline = time.monotonic() + 10
        while sh("docker", "exec", name, "redis-cli", "ping", check=False).strip() != "PONG":
            assert time.monotonic() < deadline, "throwaway redis did not start"
            time.sleep(0.1)
        yield name, with_redis(target, port=port, password_secret=None)
    finally:
        sh("docker", "unpause", name, check=False)
        sh("docker", "rm", "-f", name)


def test_memory_against_maxmemory(throwaway: tuple[str, Target]) -> None:
    name, spare = throwaway
    fill = "".join(f"SET fill:{i} {'x' * 10_000}\n" for i in range(300))  # ~3 MB of data,
    redis_cli(None, input=fill, container=name)  # so a connection's buffers stay under 2 %
    used = int(info_fields(redis_cli(None, "INFO", "memory", container=name))["used_memory"])
    limit = int(used * 1.15)  # about 87 % used: above the 80 % warning, under 95 % critical
    redis_cli(None, "CONFIG", "SET", "maxmemory", str(limit), container=name)
    result = cache.memory(cache.connect(spare))
    cli = info_fields(redis_cli(None, "INFO", "memory", container=name))
    row = result.rows[0]
    assert row["maxmemory"] == int(cli["maxmemory"]) == limit
    assert abs(row["used_percent"] - 100 * int(cli["used_memory"]) / limit) < 2
    assert result.metrics["redis.memory_percent"] == row["used_percent"]
    assert [(f.priority, f.threshold) for f in result.findings] == [(Priority.P2, 80)]


def test_policy_notes_with_maxmemory_and_without_config_file(throwaway: tuple[str, Target]) -> None:
    name, spare = throwaway
    limit = 64 * 1024 * 1024  # bytes: far above the few MB the throwaway holds
    redis_cli(None, "CONFIG", "SET", "maxmemory", str(limit), container=name)
    assert redis_cli(None, "CONFIG", "GET", "maxmemory", container=name).split()[1] == str(limit)
    client = cache.connect(spare)
    dry = cache.set_maxmemory_policy(client, "allkeys-lfu")
    notes = " ".join(dry.notes)
    assert "maxmemory is 0" not in notes  # the limit set just above
    assert dry.actions[0]["details"]["maxmemory"] == limit  # as the plan read it
    assert "CONFIG REWRITE is not available: the server runs without a config file" in notes
    confirm = dry.notes[0].rsplit(" ", 1)[1]
    cache.set_maxmemory_policy(client, "allkeys-lfu", confirm=confirm)
    assert redis_cli(None, "CONFIG", "GET", "maxmemory-policy", container=name).split()[1] == (
        "allkeys-lfu"
    )


def test_paused_redis_is_a_finding(throwaway: tuple[str, Target]) -> None:
    name, spare = throwaway
    assert cache.ping(cache.connect(spare)).findings == []
    sh("docker", "pause", name)
    try:
        assert_all_report(spare, "did not answer in time")
    finally:
        sh("docker", "unpause", name)

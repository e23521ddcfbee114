"""Issue 16: the Redis health checks and the hit rate netzops itself does not move, against
the sandbox's Redis, compared with what redis-cli says."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest
import redis

from netzops import cache
from netzops.findings import Priority
from netzops.targets import Target
from tests.conftest import sh


@pytest.fixture
def r(target: Target) -> Iterator[redis.Redis]:
    client = cache.connect(target)
    yield client
    client.close()


def cli(target: Target, *args: str) -> str:
    password = target.secret(target.redis.password_secret or "")
    return sh(
        "docker",
        "exec",
        "-e",
        f"REDISCLI_AUTH={password}",
        "netzwaechter-redis",
        "redis-cli",
        "--no-auth-warning",
        *args,
    ).strip()


def raw_counters(target: Target) -> tuple[int, int]:
    stats = dict(
        line.split(":", 1) for line in cli(target, "INFO", "stats").splitlines() if ":" in line
    )
    return int(stats["keyspace_hits"]), int(stats["keyspace_misses"])


def test_listing_keys_does_not_move_the_hit_rate(r: redis.Redis, target: Target) -> None:
    for i in range(50):
        r.set(f"zz16:ttl:{i}", "x", ex=600)
    try:
        raw_before, before = raw_counters(target), cache.sample_stats(r)
        listed = cache.keys(r, "zz16:ttl:*")
        raw_after, after = raw_counters(target), cache.sample_stats(r)
        caused = listed.metrics["redis.keys.observer_hits"]
        assert caused == 50 and listed.metrics["redis.keys.observer_misses"] == 0
        # Redis counted netzops's 50 TTLs as hits; netzops's figures leave exactly those out
        raw_delta = raw_after[0] - raw_before[0]
        ours_delta = after.keyspace_hits - before.keyspace_hits
        assert raw_delta - ours_delta == caused
        assert after.keyspace_misses - before.keyspace_misses == raw_after[1] - raw_before[1]
        rate = cache.hit_rate(before, after, target)
        assert any("TTL lookups" in n for n in rate.notes)
        if raw_delta == caused:  # nobody else looked anything up meanwhile
            assert rate.rows[0]["hits"] == 0
            assert rate.rows[0]["cumulative_hit_rate_percent"] == round(
                100 * before.keyspace_hits / (before.keyspace_hits + before.keyspace_misses), 2
            )
    finally:
        r.delete(*[f"zz16:ttl:{i}" for i in range(50)])


def test_a_reset_voids_the_journal_even_after_hits_climb_back(
    r: redis.Redis, target: Target
) -> None:
    """CONFIG RESETSTAT after netzops recorded its TTL lookups, then more lookups than Redis
    had counted when they were recorded: the journal no longer applies (it once did, and
    took netzops's old lookups out of fresh counters)."""
    for i in range(50):
        r.set(f"zz16:reset:{i}", "x", ex=600)
    try:
        r.config_resetstat()
        assert cache.keys(r, "zz16:reset:*").metrics["redis.keys.observer_hits"] == 50
        recorded = raw_counters(target)[0]
        r.config_resetstat()
        for _ in range(recorded + 10):  # climb back past the recorded keyspace_hits
            r.get("zz16:reset:0")
        raw_before = raw_counters(target)[0]
        sample = cache.sample_stats(r)
        raw_after = raw_counters(target)[0]
        assert raw_before > recorded
        assert sample.observer_hits == 0 and sample.observer_misses == 0
        assert raw_before <= sample.keyspace_hits <= raw_after  # Redis's own count, untouched
    finally:
        r.delete(*[f"zz16:reset:{i}" for i in range(50)])


def test_a_user_without_the_canary_command_still_lists_keys(r: redis.Redis, target: Target) -> None:
    """An ACL user that may not run OBJECT (nor read INFO commandstats): listing keys still
    works and its TTL lookups are still left out of the hit rate."""
    user, password = "zz16-no-object", "zz16-" + uuid.uuid4().hex
    cli(target, "ACL", "SETUSER", user, "on", f">{password}", "~*", "+@all", "-object", "-info")
    cli(target, "ACL", "SETUSER", user, "+info|stats", "+info|server")  # counters, not commands
    limited = cache.client.Redis(  # as cache.connect builds it, with the ACL user
        target,
        host=target.redis.host,
        port=target.redis.port,
        username=user,
        password=password,
        decode_responses=True,
        encoding_errors="surrogateescape",
    )
    for i in range(20):
        r.set(f"zz16:acl:{i}", "x", ex=600)
    try:
        with pytest.raises(redis.ResponseError):
            limited.execute_command("OBJECT", "HELP")
        raw_before, before = raw_counters(target)[0], cache.sample_stats(limited)
        listed = cache.keys(limited, "zz16:acl:*")
        after = cache.sample_stats(limited)
        raw_after = raw_counters(target)[0]
        assert listed.metrics["redis.keys.count"] == 20
        assert after.observer_hits - before.observer_hits == 20
        assert after.keyspace_hits - before.keyspace_hits <= raw_after - raw_before - 20
    finally:
        r.delete(*[f"zz16:acl:{i}" for i in range(20)])
        limited.close()
        cli(target, "ACL", "DELUSER", user)


def test_slowlog_finds_a_slow_script(r: redis.Redis, target: Target) -> None:
    r.eval("local i = 0 while i < 3000000 do i = i + 1 end return i", 0)
    result = cache.slowlog(r)
    assert result.findings and result.findings[0].priority == Priority.P3
    slowest = result.rows[0]
    assert slowest["duration_us"] >= 10_000 and slowest["command"].lower().startswith("eval")
    logged = cli(target, "SLOWLOG", "GET", "128")
    assert str(slowest["duration_us"]) in logged.split()


def test_client_capacity_against_maxclients(r: redis.Redis, target: Target) -> None:
    ok = cache.client_capacity(r)
    row = ok.rows[0]
    assert row["maxclients"] == int(cli(target, "CONFIG", "GET", "maxclients").split()[-1])
    connected = int(
        next(
            line.split(":")[1]
            for line in cli(target, "INFO", "clients").splitlines()
            if line.startswith("connected_clients:")
        )
    )
    assert abs(row["connected_clients"] - (connected - 1)) <= 1  # redis-cli's own connection
    original = row["maxclients"]
    r.config_set("maxclients", row["connected_clients"])  # the next client would be refused
    try:
        tight = cache.client_capacity(r)
        assert tight.findings and tight.findings[0].priority in (Priority.P1, Priority.P2)
    finally:
        r.config_set("maxclients", original)
    assert cache.client_capacity(r).findings == []


def test_evictions_and_persistence_read_what_info_says(r: redis.Redis, target: Target) -> None:
    result = cache.evictions(r)
    info = cli(target, "INFO", "stats")
    evicted = int(next(x.split(":")[1] for x in info.splitlines() if x.startswith("evicted_keys:")))
    assert result.rows[0]["evicted_keys"] == evicted
    assert bool(result.findings) == (evicted > 0)
    persisted = cache.persistence(r).rows[0]
    assert persisted["aof_last_write_status"] == "ok" and persisted["aof_enabled"] is False


def test_evictions_fire_when_maxmemory_is_reached(r: redis.Redis, target: Target) -> None:
    """maxmemory just above what Redis holds, policy volatile-ttl, and scratch keys in db 15
    with the shortest TTLs (they go first, the sessions stay): Redis evicts. Afterwards the
    settings are restored and CONFIG RESETSTAT clears the eviction counter again."""
    scratch = redis.Redis(
        host=target.redis.host,
        port=target.redis.port,
        db=15,
        password=target.secret(target.redis.password_secret or ""),
    )
    saved = {k: str(r.config_get(k)[k]) for k in ("maxmemory", "maxmemory-policy")}
    used = int(r.info("memory")["used_memory"])
    r.config_set("maxmemory-policy", "volatile-ttl")
    r.config_set("maxmemory", used + 4 * 1_048_576)
    try:
        for i in range(200):
            with contextlib.suppress(redis.ResponseError):  # OOM: enough was evicted already
                scratch.set(f"zz16:evict:{i}", "x" * 100_000, ex=30 + i)
            if int(r.info("stats")["evicted_keys"]) > 0:
                break
        result = cache.evictions(r)
        assert result.findings and result.findings[0].priority == Priority.P2
        assert result.rows[0]["evicted_keys"] == int(r.info("stats")["evicted_keys"]) > 0
    finally:
        r.config_set("maxmemory", saved["maxmemory"])
        r.config_set("maxmemory-policy", saved["maxmemory-policy"])
        for key in scratch.scan_iter(match="zz16:evict:*"):
            scratch.unlink(key)
        scratch.close()
        r.config_resetstat()
    assert cache.evictions(r).findings == []

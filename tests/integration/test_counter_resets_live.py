"""Issue 11, kind B, against the real sandbox: Redis's CONFIG RESETSTAT between the two
samples of a hit rate gives no interval figures (the counters went backwards, as redis-cli
shows), and the live container stats give a figure or say why not for every container."""

from __future__ import annotations

import uuid

import redis
from docker import DockerClient

from netzops import cache, containers
from netzops.targets import Target
from tests.integration.test_cache import redis_cli


def _info(target: Target, field: str) -> int:
    text = redis_cli(target, "INFO", "stats")
    line = next(x for x in text.splitlines() if x.startswith(field + ":"))
    return int(line.split(":", 1)[1])


def test_config_resetstat_between_samples_gives_no_interval_figures(target: Target) -> None:
    client: redis.Redis = cache.connect(target)
    key = f"netzops-test:{uuid.uuid4().hex[:10]}:reset"
    redis_cli(target, "SET", key, "1", "EX", "600")
    try:
        for _ in range(300):  # lookups, so the first sample's counters are well above zero
            client.get(key)
        before = cache.sample_stats(client)
        raw = before.keyspace_hits + before.observer_hits  # as Redis counted them
        assert raw >= 300
        redis_cli(target, "CONFIG", "RESETSTAT")
        assert _info(target, "keyspace_hits") < raw  # redis-cli: reset
        after = cache.sample_stats(client)
        result = cache.hit_rate(before, after, target)
    finally:
        redis_cli(target, "DEL", key)
    row = result.rows[0]
    assert row["counters_reset"] is True
    assert row["hits"] is None and row["ops_per_sec"] is None and row["hit_rate_percent"] is None
    assert "redis.ops_per_sec" not in result.metrics and "redis.hits" not in result.metrics
    assert any("went backwards" in n for n in result.notes)


def test_live_container_stats_have_a_figure_or_say_why(target: Target) -> None:
    client: DockerClient = containers.connect(target)
    result = containers.stats(client, target)
    assert result.rows
    for row in result.rows:
        if row["cpu_percent"] is None:
            assert row["cpu_note"].startswith("unknown"), row
            assert any(row["container"] in n for n in result.notes)
        else:
            assert row["cpu_note"] == "" and row["cpu_percent"] >= 0

"""The cache notebook's record against redis-cli on the same Redis: session keys counted
with SCAN (between a `redis-cli --scan` before and after the run), used memory (±256 KB of
INFO), clients (±2 of CLIENT LIST); and its guarded key deletion on test keys this module
creates: the dry run deletes nothing, the confirmed run deletes exactly those keys."""

from __future__ import annotations

from typing import Any

import pytest

from tests.notebooks.helpers import (
    TEST_KEYS,
    Guarded,
    confirmation,
    redis_cli,
    redis_info,
    redis_scan,
    run,
    within,
)

KEYS = 25
PATTERN = f"{TEST_KEYS}*"
KB = 1024


def remove_test_keys() -> list[str]:
    """UNLINK every test key that is left; returns what a SCAN finds afterwards."""
    left = redis_scan(PATTERN)
    if left:
        redis_cli("UNLINK", *left)
    return redis_scan(PATTERN)


@pytest.fixture(scope="module")
def deleted(session_keys: list[str]) -> Guarded:
    """The dry and the confirmed run, with at least one session key in Redis (session_keys)."""
    redis_cli(input="".join(f"SET {TEST_KEYS}{i} x EX 600\n" for i in range(KEYS)))
    seen: dict[str, Any] = {
        "before": len(redis_scan(PATTERN)),
        "sessions_before": len(redis_scan("session:*")),
    }
    try:
        dry = run("cache", f"delete_pattern={PATTERN}", "stats_interval_s=1")
        seen |= {
            "sessions_after": len(redis_scan("session:*")),
            "used_memory": int(redis_info("memory")["used_memory"]),
            "clients": len(redis_cli("CLIENT", "LIST").splitlines()),
            "after_dry": len(redis_scan(PATTERN)),
        }
        done = run(
            "cache",
            f"delete_pattern={PATTERN}",
            "stats_interval_s=1",
            f"confirm={confirmation(dry.action)}",
        )
        seen["after_done"] = len(redis_scan(PATTERN))
    finally:
        seen["restored"] = remove_test_keys()
    return Guarded(dry, done, seen)


def test_session_keys_counted_as_redis_cli_scans_them(deleted: Guarded) -> None:
    record, seen = deleted.dry, deleted.seen
    assert record.exit == 0 and record.side["error"] is None
    low, high = sorted((int(seen["sessions_before"]), int(seen["sessions_after"])))
    assert low <= record.metric("redis.keys.count") <= high
    assert all(r["key"].startswith("session:") for r in record.result("redis_keys")["rows"])


def test_memory_and_clients_match_info(deleted: Guarded) -> None:
    record, seen = deleted.dry, deleted.seen
    assert within(record.metric("redis.used_memory_bytes"), int(seen["used_memory"]), 256 * KB)
    assert within(record.metric("redis.clients.total"), int(seen["clients"]), 2)
    row = record.result("redis_memory")["rows"][0]
    info = redis_info("memory")
    assert (row["maxmemory"], row["maxmemory_policy"]) == (
        int(info["maxmemory"]),
        info["maxmemory_policy"].strip(),
    )


def test_dry_run_counts_the_keys_and_deletes_none(deleted: Guarded) -> None:
    action = deleted.dry.action
    assert action["action"] == "delete_keys" and action["dry_run"] is True
    assert action["details"]["pattern"] == PATTERN
    assert action["details"]["count"] == deleted.seen["before"] == KEYS
    assert action["steps"][0].startswith(f"SCAN MATCH {PATTERN} in db 0: {KEYS} keys")
    assert deleted.seen["after_dry"] == KEYS


def test_confirmed_run_deletes_exactly_those_keys(deleted: Guarded) -> None:
    done = deleted.done
    assert done.side["error"] is None, done.side["error"]
    action = done.action
    assert action["dry_run"] is False and action["verified"] is True
    assert action["fingerprint"] == deleted.dry.action["fingerprint"]
    assert (action["before"], action["after"]) == (KEYS, 0)
    assert action["outcome"] == f"unlinked {KEYS} of {KEYS} keys"
    assert deleted.seen["after_done"] == 0
    assert done.metric("redis.keys.count") > 0  # the sessions (session_keys) were not touched


def test_no_test_keys_left(deleted: Guarded) -> None:
    assert deleted.seen["restored"] == []


def test_issue16_checks_in_the_side_car(deleted: Guarded) -> None:
    record = deleted.dry
    for check, metric in {
        "redis_persistence": "redis.rdb_last_bgsave_ok",
        "redis_slowlog": "redis.slowlog.length",
        "redis_evictions": "redis.evicted_keys_total",
        "redis_client_capacity": "redis.clients.max",
    }.items():
        assert record.result(check) and metric in record.side["metrics"], check
    assert record.metric("redis.clients.max") == int(
        redis_cli("CONFIG", "GET", "maxclients").split()[1]
    )
    status = record.result("redis_persistence")["rows"][0]["last_bgsave_status"]
    assert status == redis_info("persistence")["rdb_last_bgsave_status"]

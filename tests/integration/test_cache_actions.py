"""Guarded Redis actions against the sandbox Redis: only test keys (`netzops-test:*`) are
deleted, FLUSHDB runs on db 9 only, and maxmemory-policy is restored afterwards."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import pytest
import redis

from netzops import cache
from netzops.errors import BadInput, GuardRefused
from netzops.targets import Redis, Target
from tests.integration.test_cache import drop, redis_cli, scan_count

TEST_DB = 9  # FLUSHDB is tried here, never on db 0 where the app lives


def on_db(target: Target, db: int) -> Target:
    return target.model_copy(update={"redis": target.redis.model_copy(update={"db": db})})


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def client(target: Target) -> redis.Redis:
    return cache.connect(target)


@pytest.fixture
def keys(target: Target) -> Iterator[str]:
    """Twelve test keys under a unique prefix and one sibling outside the pattern; the
    pattern selecting the twelve is yielded."""
    prefix = f"netzops-test:{uuid.uuid4().hex[:10]}"
    redis_cli(target, "MSET", *(x for i in range(12) for x in (f"{prefix}:k{i}", str(i))))
    redis_cli(target, "SET", f"{prefix}-sibling", "stay")
    yield f"{prefix}:*"
    drop(target, f"{prefix}*")


@pytest.mark.parametrize("pattern", ["*", "", "   ", "**", "?*", "[a-z]*", " * ", "\t*"])
def test_wildcard_only_patterns_are_refused_before_anything_runs(
    target: Target, pattern: str
) -> None:
    nowhere = cache.connect(target.model_copy(update={"redis": Redis(port=closed_port())}))
    with pytest.raises(BadInput):  # an unreachable server would give a result, not BadInput
        cache.delete_keys(nowhere, pattern)


def test_unknown_policy_is_refused_before_anything_runs(target: Target) -> None:
    nowhere = cache.connect(target.model_copy(update={"redis": Redis(port=closed_port())}))
    with pytest.raises(BadInput, match="allkeys-lru"):
        cache.set_maxmemory_policy(nowhere, "lru")


def test_delete_keys_dry_run_changes_nothing(
    client: redis.Redis, target: Target, keys: str
) -> None:
    result = cache.delete_keys(client, keys)
    assert scan_count(target, keys) == 12
    audit = result.actions[0]
    assert audit["dry_run"] is True and audit["details"]["count"] == 12
    assert audit["details"]["pattern"] == keys
    assert set(audit["details"]["sample"]) <= set(
        redis_cli(target, "--scan", "--pattern", keys).split()
    )
    assert "12 keys" in result.rows[0]["step"]
    assert any(n.startswith("To do this, confirm with: delete_keys@sandbox#") for n in result.notes)


def test_delete_keys_refuses_wrong_and_stale_confirmations(
    client: redis.Redis, target: Target, keys: str
) -> None:
    dry = cache.delete_keys(client, keys)
    confirmation = dry.actions[0]["fingerprint"]
    for wrong in (
        "yes",
        f"flushdb@sandbox#{confirmation}",
        "delete_keys@sandbox#000000000000",
        f"delete_keys@other#{confirmation}",
    ):
        with pytest.raises(GuardRefused):
            cache.delete_keys(client, keys, confirm=wrong)
    assert scan_count(target, keys) == 12
    redis_cli(target, "SET", keys.replace("*", "late"), "1")  # the situation changes
    with pytest.raises(GuardRefused, match="stale"):
        cache.delete_keys(client, keys, confirm=f"delete_keys@sandbox#{confirmation}")
    assert scan_count(target, keys) == 13


def test_confirmed_delete_removes_exactly_the_planned_keys(
    client: redis.Redis, target: Target, keys: str
) -> None:
    dry = cache.delete_keys(client, keys, batch=5)
    confirm = dry.notes[0].rsplit(" ", 1)[1]
    done = cache.delete_keys(client, keys, confirm=confirm, batch=5)
    audit = done.actions[0]
    assert audit["dry_run"] is False and audit["verified"] is True
    assert (audit["before"], audit["after"]) == (12, 0)
    assert audit["outcome"] == "unlinked 12 of 12 keys"
    assert done.findings == []
    assert scan_count(target, keys) == 0
    assert redis_cli(target, "GET", keys.replace(":*", "-sibling")).strip() == "stay"


@pytest.fixture
def db9(target: Target) -> Iterator[Target]:
    """db 9 with seven test keys, and a marker key in db 0 that must survive."""
    marker = f"netzops-test:{uuid.uuid4().hex[:10]}:marker"
    redis_cli(target, "SET", marker, "db0")
    redis_cli(
        target, "MSET", *(x for i in range(7) for x in (f"netzops-test:f{i}", "1")), db=TEST_DB
    )
    yield on_db(target, TEST_DB)
    assert redis_cli(target, "GET", marker).strip() == "db0"
    redis_cli(target, "UNLINK", marker)
    drop(target, "netzops-test:*", db=TEST_DB)


def test_flushdb_on_db9_only(target: Target, db9: Target) -> None:
    size = int(redis_cli(target, "DBSIZE", db=TEST_DB))
    assert size >= 7
    c9 = cache.connect(db9)
    # the client carries its target: a db 0 client plans db 0, never db 9
    assert cache.flushdb(cache.connect(target)).actions[0]["details"]["db"] == 0
    dry = cache.flushdb(c9)
    assert dry.actions[0]["details"] == {"db": TEST_DB, "dbsize": size}
    assert f"{size} keys" in dry.rows[0]["step"]
    assert int(redis_cli(target, "DBSIZE", db=TEST_DB)) == size
    confirm = dry.notes[0].rsplit(" ", 1)[1]
    redis_cli(target, "SET", "netzops-test:late", "1", db=TEST_DB)
    with pytest.raises(GuardRefused, match="stale"):
        cache.flushdb(c9, confirm=confirm)
    assert int(redis_cli(target, "DBSIZE", db=TEST_DB)) == size + 1
    confirm = cache.flushdb(c9).notes[0].rsplit(" ", 1)[1]
    done = cache.flushdb(c9, confirm=confirm)
    assert done.actions[0]["verified"] is True and done.findings == []
    assert int(redis_cli(target, "DBSIZE", db=TEST_DB)) == 0


def _policy(target: Target) -> str:
    return redis_cli(target, "CONFIG", "GET", "maxmemory-policy").split()[1]


def test_set_maxmemory_policy_and_restore(client: redis.Redis, target: Target) -> None:
    original = _policy(target)
    wanted = "allkeys-lru" if original != "allkeys-lru" else "allkeys-lfu"
    try:
        dry = cache.set_maxmemory_policy(client, wanted)
        assert _policy(target) == original
        assert dry.actions[0]["details"]["current"] == original
        notes = " ".join(dry.notes)
        assert "lost on restart" in notes and "CONFIG REWRITE" in notes
        maxmemory = int(redis_cli(target, "CONFIG", "GET", "maxmemory").split()[1])
        assert ("maxmemory is 0" in notes) == (maxmemory == 0)
        confirm = dry.notes[0].rsplit(" ", 1)[1]
        done = cache.set_maxmemory_policy(client, wanted, confirm=confirm)
        assert _policy(target) == wanted
        audit = done.actions[0]
        assert (audit["before"], audit["after"], audit["verified"]) == (original, wanted, True)
        back = cache.set_maxmemory_policy(client, original)
        cache.set_maxmemory_policy(client, original, confirm=back.notes[0].rsplit(" ", 1)[1])
        assert _policy(target) == original
    finally:
        if _policy(target) != original:
            redis_cli(target, "CONFIG", "SET", "maxmemory-policy", original)

"""Redis persistence: LASTSAVE and rdb_last_bgsave_status as redis-cli reports them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import redis

from netzops import cache
from netzops.cache.server import RDB_MAX_AGE_S, Persistence, _persistence_findings
from netzops.targets import Target
from tests.notebooks.helpers import redis_cli, redis_info


@pytest.fixture(scope="module")
def rc(target: Target) -> Iterator[redis.Redis]:
    client = cache.connect(target)
    yield client
    client.close()


def test_persistence_matches_redis_cli(rc: redis.Redis) -> None:
    before = int(redis_cli("LASTSAVE").strip())
    result = cache.persistence(rc)
    after = int(redis_cli("LASTSAVE").strip())
    row = result.rows[0]
    assert before <= datetime.fromisoformat(row["last_save"]).timestamp() <= after
    facts = redis_info("persistence")
    assert row["last_bgsave_status"] == facts["rdb_last_bgsave_status"] == "ok"
    assert row["save_rules"] == redis_cli("CONFIG", "GET", "save").splitlines()[1]
    age = time.time() - after
    assert abs(result.metrics["redis.rdb_last_save_age_seconds"] - age) < 5
    assert result.metrics["redis.rdb_last_bgsave_ok"] == 1.0
    # a sandbox up for more than a day with a few unsaved writes (its save rule wants 100
    # changes in 300 s) rightly gets the P2; otherwise nothing
    changes = int(redis_info("persistence")["rdb_changes_since_last_save"])
    stale = changes > 0 and age > RDB_MAX_AGE_S
    assert [f.priority.name for f in result.findings] == (["P2"] if stale else [])


def test_unsaved_changes_older_than_the_limit_are_p2(rc: redis.Redis) -> None:
    rc.set("netzops-test:persistence", "1", ex=60)
    try:
        result = cache.persistence(rc, max_age_s=0)
        changes = int(redis_info("persistence")["rdb_changes_since_last_save"])
        if changes == 0:  # a save ran in between: nothing unsaved, nothing to report
            assert not result.findings
        else:
            assert [f.priority.name for f in result.findings] == ["P2"]
            assert "unsaved" in result.findings[0].summary
    finally:
        rc.delete("netzops-test:persistence")


def test_a_failed_background_save_is_p1_and_no_persistence_p3() -> None:
    now = datetime.now(UTC)
    failed = Persistence("3600 1", now, 7200.0, "err", 5, False, False)
    assert [f.priority.name for f in _persistence_findings("c", failed, 86400)] == ["P1"]
    off = Persistence("", now, 10.0, "ok", 5, False, False)
    assert [f.priority.name for f in _persistence_findings("c", off, 86400)] == ["P3"]

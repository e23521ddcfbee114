"""Issue 16, Redis persistence: a real failed background save is P1, as redis-cli reports it.

`dir` and `dbfilename` are protected configs in Redis 7 (CONFIG SET refuses them), so the
save is made to fail at its last step instead: a directory where dump.rdb should be, and
the rename of the finished temp file onto it fails. The dump and a good save come back
afterwards (other tests expect rdb_last_bgsave_status:ok)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from netzops import cache
from netzops.findings import Priority
from netzops.targets import Target
from tests.conftest import sh, wait_for
from tests.notebooks.helpers import REDIS, redis_info

DUMP = "/data/dump.rdb"
KEPT = "/data/dump.rdb.zz16"
BREAK = f"[ ! -e {DUMP} ] || mv {DUMP} {KEPT}; mkdir {DUMP}"
RESTORE = f"rmdir {DUMP}; [ ! -e {KEPT} ] || mv -n {KEPT} {DUMP}; rm -f {KEPT}"


@pytest.fixture(scope="module")
def rc(target: Target) -> Iterator[redis.Redis]:
    client = cache.connect(target)
    yield client
    client.close()


def saved(status: str) -> dict[str, str] | None:
    """INFO persistence once no save runs and the last one ended with `status`."""
    facts = redis_info("persistence")
    done = facts["rdb_bgsave_in_progress"] == "0" and facts["rdb_last_bgsave_status"] == status
    return facts if done else None


def bgsave(rc: redis.Redis) -> None:
    """BGSAVE, after any save already running (an automatic one) has ended."""

    def started() -> bool:
        try:
            return bool(rc.bgsave())
        except redis.ResponseError as exc:  # "Background save already in progress"
            assert "in progress" in str(exc), exc
            return False

    wait_for(started, 30, "BGSAVE to start")


def test_a_failed_background_save_is_p1(rc: redis.Redis) -> None:
    wait_for(lambda: saved("ok") or saved("err"), 30, "no save in progress")
    try:
        sh("docker", "exec", REDIS, "sh", "-c", BREAK)
        bgsave(rc)
        facts = wait_for(lambda: saved("err"), 30, "redis-cli to report the failed save")
        result = cache.persistence(rc)
        assert result.rows[0]["last_bgsave_status"] == facts["rdb_last_bgsave_status"] == "err"
        assert [(f.priority, f.value) for f in result.findings] == [(Priority.P1, "err")]
        assert result.metrics["redis.rdb_last_bgsave_ok"] == 0.0
    finally:
        sh("docker", "exec", REDIS, "sh", "-c", RESTORE)
        bgsave(rc)
        wait_for(lambda: saved("ok"), 30, "a good save again")
    after = cache.persistence(rc)
    assert after.rows[0]["last_bgsave_status"] == "ok"
    assert not [f for f in after.findings if f.priority == Priority.P1]

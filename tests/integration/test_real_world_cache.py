"""Issue 11, kind A on Redis: a key whose name is not UTF-8 (`session:` + FF FE + `-bin`) is
counted and shown escaped, and deletion plans and removes it by its exact bytes. Checked
against redis-cli in the container."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator

import pytest
import redis

from netzops import cache
from netzops.targets import Target
from tests.integration.test_cache import redis_cli


@pytest.fixture(scope="module")
def client(target: Target) -> redis.Redis:
    return cache.connect(target)


@pytest.fixture
def prefix(target: Target) -> Iterator[str]:
    """`netzops-test:<id>:session:` holding one non-UTF-8 key, one UTF-8 key and one with
    an umlaut; removed afterwards by redis-cli."""
    base = f"netzops-test:{uuid.uuid4().hex[:10]}:session:"
    commands = (
        f'SET "{base}\\xff\\xfe-bin" 1\n'
        f'SET "{base}plain" 2\n'
        f'SET "{base}gr\\xc3\\xbc\\xc3\\x9fe" 3\n'
        f'EXPIRE "{base}\\xff\\xfe-bin" 600\n'
    )
    redis_cli(target, input=commands)
    yield base
    redis_cli(
        target, input=f'DEL "{base}\\xff\\xfe-bin" "{base}plain" "{base}gr\\xc3\\xbc\\xc3\\x9fe"\n'
    )


def _exists(target: Target, name: str) -> int:
    return int(redis_cli(target, input=f'EXISTS "{name}"\n').split()[-1])


def test_non_utf8_key_is_counted_and_shown_escaped(
    client: redis.Redis, target: Target, prefix: str
) -> None:
    assert _exists(target, prefix + "\\xff\\xfe-bin") == 1  # redis-cli sees the bytes
    result = cache.keys(client, prefix + "*")
    assert result.metrics["redis.keys.count"] == 3
    names = {row["key"] for row in result.rows}
    assert names == {prefix + "\\xff\\xfe-bin", prefix + "plain", prefix + "grüße"}
    ttl = {row["key"]: row["ttl_s"] for row in result.rows}[prefix + "\\xff\\xfe-bin"]
    assert ttl is not None and 0 < ttl <= 600
    json.dumps(result.to_json(), allow_nan=False).encode("utf-8")  # writable, strict JSON
    result._repr_mimebundle_()  # shows in a notebook without raising


def test_delete_keys_plans_and_removes_the_exact_bytes(
    client: redis.Redis, target: Target, prefix: str
) -> None:
    dry = cache.delete_keys(client, prefix + "*")
    details = dry.actions[0]["details"]
    assert details["count"] == 3
    assert prefix + "\\xff\\xfe-bin" in details["sample"]
    exact = sorted(
        [
            prefix.encode() + b"\xff\xfe-bin",
            (prefix + "plain").encode(),
            (prefix + "grüße").encode(),
        ],
        key=lambda b: b.decode("utf-8", "surrogateescape"),
    )
    assert details["keys_sha256"] == hashlib.sha256(b"\n".join(exact)).hexdigest()[:16]
    assert _exists(target, prefix + "\\xff\\xfe-bin") == 1  # a dry run changes nothing
    confirm = dry.notes[0].rsplit(" ", 1)[1]
    done = cache.delete_keys(client, prefix + "*", confirm=confirm)
    assert done.actions[0]["outcome"] == "unlinked 3 of 3 keys"
    assert done.actions[0]["verified"] is True
    assert _exists(target, prefix + "\\xff\\xfe-bin") == 0
    assert _exists(target, prefix + "plain") == 0

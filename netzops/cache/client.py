"""The Redis client (redis-py) and the `check` decorator every Redis check uses.

The client is lazy: it connects on first use. A Redis that does not answer or refuses the
credentials is that check's P1 finding (`unavailable`); an answer netzops cannot read (a
missing field, an odd type) a P3 (`unreadable`).
"""

from __future__ import annotations

from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from netzops.checks import checker
from netzops.findings import Finding, Priority
from netzops.results import Result
from netzops.targets import Target

SCAN_COUNT = 1000  # keys per SCAN step: big enough to be quick, small enough not to block


class Redis(redis.Redis):
    """A Redis client bound to one target, as `postgres.Database` is: the target's db,
    thresholds and name travel with it, so checks and actions take the client alone."""

    def __init__(self, target: Target, **options: Any) -> None:
        super().__init__(**options)
        self.target = target


def connect(target: Target) -> Redis:
    """A client for the target's Redis with connect and socket timeouts (no I/O yet).
    No retries: redis-py would otherwise retry (with backoff) a hanging server for minutes."""
    rc = target.redis
    return Redis(
        target,
        host=rc.host,
        port=rc.port,
        db=rc.db,
        password=target.secret(rc.password_secret) if rc.password_secret else None,
        socket_connect_timeout=rc.timeout_s,
        socket_timeout=rc.timeout_s,
        retry=Retry(NoBackoff(), 0),
        decode_responses=True,
        # Key names are bytes: one that is not UTF-8 decodes to lone surrogates and encodes
        # back to exactly its bytes, so SCAN, TTL and UNLINK handle it (show it: `shown`).
        encoding_errors="surrogateescape",
        client_name="netzops",
    )


def shown(name: str) -> str:
    """A key name as a person reads it: bytes that are not UTF-8 as `\\xff` escapes
    (`session:\\xff\\xfe-bin`); a UTF-8 name is unchanged."""
    return raw(name).decode("utf-8", "backslashreplace")


def raw(name: str) -> bytes:
    """The exact bytes of a key name read through `connect`'s client."""
    return name.encode("utf-8", "surrogateescape")


def unavailable(check: str, title: str, exc: redis.RedisError) -> Result:
    """The result of a check whose Redis did not answer or refused the credentials."""
    if isinstance(exc, redis.AuthenticationError):
        why = "refused the credentials"
    elif isinstance(exc, redis.TimeoutError):
        why = "did not answer in time"
    else:
        why = "unreachable"
    return Result.of(
        check,
        title,
        findings=[
            Finding(check, "redis", Priority.P1, f"Redis {why}: {type(exc).__name__}: {exc}"[:240])
        ],
        metrics={"redis.up": 0.0},
    )


def info(client: redis.Redis, section: str) -> dict[str, Any]:
    """`INFO <section>` as a dict (raises redis.RedisError)."""
    return dict(client.info(section))


def unreadable(check: str, title: str, what: str, exc: Exception) -> Result:
    """The result of a check whose Redis answered with fields netzops cannot read (a missing
    field, an odd type): a P3 finding naming it, not an exception."""
    why = f"{type(exc).__name__}: {exc}"[:200]
    return Result.of(
        check,
        title,
        findings=[Finding(check, "redis", Priority.P3, f"{what}: unexpected answer ({why})")],
    )


def _down(check: str, title: str, exc: Exception) -> Result:
    if isinstance(exc, redis.RedisError):
        return unavailable(check, title, exc)
    return unreadable(check, title, title, exc)


#: The Redis check decorator (see `netzops.checks`).
check = checker("cache", (redis.RedisError, KeyError, TypeError, ValueError), _down)

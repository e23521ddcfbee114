"""Redis checks and guarded actions (redis-py). The client is lazy: it connects on first use."""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis

from netzops.findings import Finding, Priority
from netzops.results import Result
from netzops.targets import Target


def connect(target: Target) -> redis.Redis:
    """A client for the target's Redis with connect and socket timeouts (no I/O yet)."""
    rc = target.redis
    return redis.Redis(
        host=rc.host, port=rc.port, db=rc.db,
        password=target.secret(rc.password_secret) if rc.password_secret else None,
        socket_connect_timeout=rc.timeout_s, socket_timeout=rc.timeout_s,
        decode_responses=True, client_name="netzops",
    )


def unavailable(check: str, title: str, exc: redis.RedisError) -> Result:
    """The result of a check whose Redis did not answer or refused the credentials."""
    why = "refused the credentials" if isinstance(exc, redis.AuthenticationError) else "unreachable"
    return Result.of(check, title, findings=[Finding(
        check, "redis", Priority.P1, f"Redis {why}: {type(exc).__name__}: {exc}"[:240])],
        metrics={"redis.up": 0.0})


@dataclass(frozen=True)
class Ping:
    reply: str
    latency_ms: float
    version: str


def ping(client: redis.Redis) -> Result:
    """`redis-cli -a … ping` with latency."""
    title = "Redis connectivity"
    start = time.perf_counter()
    try:
        client.ping()
        latency = round((time.perf_counter() - start) * 1000.0, 2)
        version = str(client.info("server").get("redis_version", ""))
    except redis.RedisError as exc:
        return unavailable("redis_ping", title, exc)
    return Result.of("redis_ping", title, [Ping("PONG", latency, version)],
                     metrics={"redis.up": 1.0, "redis.ping_ms": latency})

"""The clients of one target, made lazily and at most once per run of several checks, and
the run's shared samples (docker stats, Redis INFO, host CPU): measured once, used by every
check that needs them. Safe to share between the threads of one run."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar

import httpx
from docker import DockerClient

from netzops import cache, containers, endpoints, postgres
from netzops.targets import Target

T = TypeVar("T")


class Clients:
    """Docker, HTTP, PostgreSQL (monitoring role) and Redis clients of `target`; each is
    created on first use (under a lock, so threads share one) and shared by every check."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._lock = threading.RLock()
        self._once: dict[str, Any] = {}
        self._once_locks: dict[str, threading.Lock] = {}

    def _made(self, name: str, make: Callable[[], T]) -> T:
        with self._lock:
            if name not in vars(self):
                vars(self)[name] = make()
            return vars(self)[name]  # type: ignore[no-any-return]

    @cached_property
    def docker(self) -> DockerClient:
        return self._made("_docker", lambda: containers.connect(self.target))

    @cached_property
    def http(self) -> httpx.Client:
        return self._made("_http", lambda: endpoints.client(self.target))

    @cached_property
    def db(self) -> postgres.Database:
        return self._made("_db", lambda: postgres.connect(self.target))

    @cached_property
    def redis(self) -> cache.Redis:
        return self._made("_redis", lambda: cache.connect(self.target))

    def once(self, key: str, measure: Callable[[], T]) -> T:
        """`measure()` the first time `key` is asked for in this run, its value after that
        (one docker stats / INFO / CPU sample per run, shared by every check needing it)."""
        with self._lock:
            lock = self._once_locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._once:
                self._once[key] = measure()
            return self._once[key]  # type: ignore[no-any-return]

    def close(self) -> None:
        """Close what was opened."""
        made = vars(self)
        if "_db" in made:
            made["_db"].close()
        for name in ("_docker", "_http", "_redis"):
            if name in made:
                made[name].close()

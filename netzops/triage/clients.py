"""The clients of one target, made lazily and at most once per run of several checks."""

from __future__ import annotations

from functools import cached_property

import httpx
import redis
from docker import DockerClient

from netzops import cache, containers, endpoints, postgres
from netzops.targets import Target


class Clients:
    """Docker, HTTP, PostgreSQL (monitoring role) and Redis clients of `target`; each is
    created on first use and shared by every check that needs it."""

    def __init__(self, target: Target) -> None:
        self.target = target

    @cached_property
    def docker(self) -> DockerClient:
        return containers.connect(self.target)

    @cached_property
    def http(self) -> httpx.Client:
        return endpoints.client(self.target)

    @cached_property
    def db(self) -> postgres.Database:
        return postgres.connect(self.target)

    @cached_property
    def redis(self) -> redis.Redis:
        return cache.connect(self.target)

    def close(self) -> None:
        """Close what was opened."""
        made = vars(self)
        if "db" in made:
            self.db.close()
        for name in ("docker", "http", "redis"):
            if name in made:
                made[name].close()

"""Every test here runs against the real sandbox, brought up once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from docker import DockerClient

from netzops import containers
from netzops.targets import Target


@pytest.fixture(scope="session", autouse=True)
def _sandbox_up(sandbox: Target) -> Target:
    return sandbox


@pytest.fixture(scope="session")
def client(target: Target) -> Iterator[DockerClient]:
    """A Docker client for the sandbox (the cache tests override it with a Redis client)."""
    docker = containers.connect(target)
    yield docker
    docker.close()

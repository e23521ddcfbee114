from __future__ import annotations

import pytest

from netzops.sandbox import stack, traffic
from netzops.targets import Target, load_target


@pytest.fixture(scope="session")
def target() -> Target:
    return load_target("sandbox")


@pytest.fixture(scope="session", autouse=True)
def sandbox(target: Target) -> Target:
    """The sandbox, up and healthy, with some traffic behind it."""
    stack.up(target)
    tally = traffic.generate(target.http.frontend_url, seconds=6, verify=False, seed=7)
    assert tally.requests > 50 and tally.errors == 0
    return target

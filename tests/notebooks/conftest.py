"""Every test here runs against the real sandbox, brought up once per session."""

from __future__ import annotations

import pytest

from netzops.targets import Target


@pytest.fixture(scope="session", autouse=True)
def _sandbox_up(sandbox: Target) -> Target:
    return sandbox

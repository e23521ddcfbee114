"""Fixtures of the unit tests that start real processes."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from netzops.runner import resident


@pytest.fixture()
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[resident.Status]:
    """A server of our own, under a private state folder (short: unix socket paths)."""
    state = tmp_path_factory.mktemp("st")
    old = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(state)
    try:
        yield resident.start()
    finally:
        resident.stop()
        if old is None:
            os.environ.pop("XDG_STATE_HOME", None)
        else:
            os.environ["XDG_STATE_HOME"] = old

"""The compose CLI talks to the target's engine, like the SDK does."""

from __future__ import annotations

import pytest

from netzops.containers import compose
from netzops.errors import NetzopsError
from netzops.targets import Target


def test_compose_uses_the_targets_docker_host(target: Target) -> None:
    here = target.model_copy(update={"docker_host": "unix:///var/run/docker.sock"})
    assert "netzwaechter-postgres" in compose.run(here, "ps").stdout
    nowhere = target.model_copy(update={"docker_host": "unix:///tmp/netzops-no-engine.sock"})
    with pytest.raises(NetzopsError, match="compose ps failed"):
        compose.run(nowhere, "ps", timeout_s=60)

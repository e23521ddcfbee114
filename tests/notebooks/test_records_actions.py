"""The restart-scale notebook's guarded restart of the backend, checked with docker inspect:
the default run is a dry run that restarts nothing; a wrong confirmation fails the run
(exit 3, GuardRefused) and restarts nothing; the dry run's confirmation restarts exactly
the planned container, which serves again (one replica, as before)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from netzops.runner.execution import Exit
from tests.notebooks.helpers import (
    Guarded,
    Record,
    cli,
    confirmation,
    containers,
    docker_ps_health,
    inspect,
    printed_path,
    run,
)

STARTED = "{{.State.StartedAt}}"


def backend() -> str:
    names = containers("backend")
    assert len(names) == 1, f"the sandbox runs one backend replica, not {names}"
    return names[0]


@pytest.fixture(scope="module")
def restarted() -> Guarded:
    name = backend()
    seen: dict[str, Any] = {
        "name": name,
        "id": inspect(name, "{{.Id}}"),
        "before": inspect(name, STARTED),
    }
    dry = run("restart-scale")
    seen["after_dry"] = inspect(name, STARTED)
    a = dry.action
    wrong = cli(
        "run",
        "restart-scale",
        "-p",
        f"confirm={a['action']}@{a['target']}#{'0' * len(a['fingerprint'])}",
    )
    seen |= {
        "wrong_exit": wrong.returncode,
        "wrong_stderr": wrong.stderr,
        "wrong_error": Record.load(printed_path(wrong.stdout, "sidecar")).side["error"],
        "after_wrong": inspect(name, STARTED),
    }
    done = run("restart-scale", f"confirm={confirmation(a)}")
    seen |= {
        "after_done": inspect(backend(), STARTED),
        "health": docker_ps_health(),
        "names_after": containers("backend"),
    }
    return Guarded(dry, done, seen)


def test_default_run_is_a_dry_run_naming_the_container(restarted: Guarded) -> None:
    dry, seen = restarted.dry, restarted.seen
    assert dry.exit == Exit.OK and dry.side["error"] is None
    action = dry.action
    assert (action["action"], action["subject"], action["dry_run"]) == ("restart", "backend", True)
    assert [c["id"] for c in action["details"]["containers"]] == [seen["id"][:12]]
    assert action["steps"][0].startswith(f"restart {seen['name']} ({seen['id'][:12]})")
    assert seen["after_dry"] == seen["before"]  # nothing restarted


def test_wrong_confirmation_fails_the_run_and_restarts_nothing(restarted: Guarded) -> None:
    seen = restarted.seen
    assert seen["wrong_exit"] == Exit.FAILED, seen["wrong_stderr"]
    assert seen["wrong_error"]["ename"] == "GuardRefused"
    assert "stale plan" in seen["wrong_error"]["evalue"]
    assert seen["after_wrong"] == seen["before"]


def test_confirmed_restart_restarts_that_container_and_it_serves(restarted: Guarded) -> None:
    done, seen = restarted.done, restarted.seen
    assert done.exit == Exit.OK and done.side["error"] is None, done.side["error"]
    action = done.action
    assert action["dry_run"] is False and action["verified"] is True
    assert action["fingerprint"] == restarted.dry.action["fingerprint"]
    assert seen["names_after"] == [seen["name"]]  # the same container, still one replica
    started = datetime.fromisoformat(seen["after_done"][:26].rstrip("Z") + "+00:00")
    assert seen["after_done"] != seen["before"]
    assert started > datetime.fromisoformat(seen["before"][:26].rstrip("Z") + "+00:00")
    assert seen["health"]["backend"] is True
    last = done.results("service_status")[-1]["rows"]  # the status after the action
    assert next(r for r in last if r["service"] == "backend")["health"] == "healthy"

"""Guarded restart, recreate and scale of the sandbox backend, checked with docker inspect and
docker ps. Only the backend is changed (never postgres, redis or the frontend)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from docker import DockerClient

from netzops import containers
from netzops.errors import BadInput, GuardRefused
from netzops.targets import Target
from tests.conftest import sh

BACKEND = "label=com.docker.compose.service=backend"


def _backend_ids() -> list[str]:
    out = sh(
        "docker",
        "ps",
        "-a",
        "--no-trunc",
        "--filter",
        "label=com.docker.compose.project=netzwaechter",
        "--filter",
        BACKEND,
        "--format",
        "{{.ID}}",
    )
    return sorted(out.split())


def _inspect(container: str) -> dict[str, str]:
    state = json.loads(sh("docker", "inspect", "--format", "{{json .State}}", container))
    return {
        "started_at": state["StartedAt"],
        "status": state["Status"],
        "health": (state.get("Health") or {}).get("Status", "none"),
    }


def _same_instant(iso: str | None, docker_time: str) -> bool:
    """Our StartedAt (µs) equals docker's (ns, Z) cut to µs."""
    assert iso is not None
    return datetime.fromisoformat(iso) == datetime.fromisoformat(docker_time[:26] + "+00:00")


def _confirmation(result_notes: list[str]) -> str:
    return result_notes[0].rsplit(" ", 1)[1]


def test_restart_dry_run_names_the_containers_and_changes_nothing(
    client: DockerClient, target: Target
) -> None:
    ids = _backend_ids()
    before = {i: _inspect(i)["started_at"] for i in ids}
    dry = containers.restart(client, target, "backend")
    planned = dry.actions[0]["details"]["containers"]
    assert sorted(p["id"] for p in planned) == sorted(i[:12] for i in ids)
    assert dry.actions[0]["dry_run"] is True
    assert all(any(p["id"] in row["step"] for row in dry.rows) for p in planned)
    assert {i: _inspect(i)["started_at"] for i in ids} == before
    everything = containers.restart(client, target)  # all services: a dry run only
    assert len(everything.actions[0]["details"]["containers"]) >= 4
    assert [r["step"].split()[1] for r in everything.rows[:2]] == [
        "netzwaechter-postgres",
        "netzwaechter-redis",
    ]  # dependencies first


def test_restart_refuses_wrong_missing_and_stale_confirmations(
    client: DockerClient, target: Target
) -> None:
    ids = _backend_ids()
    before = {i: _inspect(i)["started_at"] for i in ids}
    good = _confirmation(containers.restart(client, target, "backend").notes)
    fingerprint = good.rsplit("#", 1)[1]
    for wrong in (
        f"recreate@sandbox#{fingerprint}",
        f"restart@production#{fingerprint}",
        "restart@sandbox#000000000000",
    ):
        with pytest.raises(GuardRefused):
            containers.restart(client, target, "backend", confirm=wrong)
    empty = containers.restart(client, target, "backend", confirm="")  # a parameters cell's ""
    assert empty.actions[0]["dry_run"] is True
    with pytest.raises(GuardRefused, match="stale"):  # the plan of all services differs
        containers.restart(client, target, None, confirm=good)
    assert {i: _inspect(i)["started_at"] for i in ids} == before


def test_confirmed_restart_restarts_exactly_the_backend(
    client: DockerClient, target: Target
) -> None:
    ids = _backend_ids()
    before = {i: _inspect(i) for i in ids}
    frontend = _inspect("netzwaechter-frontend")["started_at"]
    confirm = _confirmation(containers.restart(client, target, "backend").notes)
    done = containers.restart(client, target, "backend", confirm=confirm, timeout_s=60)
    entry = done.actions[0]
    assert entry["dry_run"] is False and entry["verified"] is True, entry
    assert done.findings == []
    assert _backend_ids() == ids  # restarted in place, not replaced
    for row in entry["before"]:
        full = next(i for i in ids if i.startswith(row["id"]))
        assert _same_instant(row["started_at"], before[full]["started_at"])
    for row in entry["after"]:
        now = _inspect(next(i for i in ids if i.startswith(row["id"])))
        assert _same_instant(row["started_at"], now["started_at"])
        assert (
            now["started_at"]
            > before[next(i for i in ids if i.startswith(row["id"]))]["started_at"]
        )
        assert now["status"] == "running" and now["health"] == "healthy"
    assert _inspect("netzwaechter-frontend")["started_at"] == frontend


def test_confirmed_recreate_replaces_the_backend_with_healthy_containers(
    client: DockerClient, target: Target
) -> None:
    old = _backend_ids()
    dry = containers.recreate(client, target, "backend")
    assert "--force-recreate" in " ".join(r["step"] for r in dry.rows)
    assert _backend_ids() == old
    done = containers.recreate(
        client, target, "backend", confirm=_confirmation(dry.notes), timeout_s=90
    )
    assert done.actions[0]["verified"] is True, done.actions[0]
    new = _backend_ids()
    assert len(new) == len(old) and not set(new) & set(old)
    assert all(_inspect(i)["health"] == "healthy" for i in new)


def _backend_names() -> dict[str, str]:
    out = sh(
        "docker",
        "ps",
        "--filter",
        "label=com.docker.compose.project=netzwaechter",
        "--filter",
        BACKEND,
        "--format",
        "{{.Names}}\t{{.Status}}",
    )
    return dict(line.split("\t", 1) for line in out.splitlines())


def test_scale_up_and_back_down(client: DockerClient, target: Target) -> None:
    start = _backend_names()
    n = len(start)
    dry = containers.scale(client, target, "backend", n + 1)
    assert dry.actions[0]["details"]["current"] == n
    assert dry.rows[0]["step"] == f"backend: {n} → {n + 1} replicas"
    assert _backend_names().keys() == start.keys()
    up = containers.scale(client, target, "backend", n + 1, confirm=_confirmation(dry.notes))
    assert up.actions[0]["verified"] is True, up.actions[0]
    grown = _backend_names()
    assert len(grown) == n + 1 and start.keys() < grown.keys()
    assert all("(healthy)" in status for status in grown.values()), grown
    down_plan = containers.scale(client, target, "backend", n)
    going = down_plan.actions[0]["details"]["remove"]
    newest = max(grown, key=lambda name: int(name.replace("-", "_").rsplit("_", 1)[1]))
    assert [g["name"] for g in going] == [newest]
    down = containers.scale(client, target, "backend", n, confirm=_confirmation(down_plan.notes))
    assert down.actions and down.actions[0]["verified"] is True, down.findings
    assert _backend_names().keys() == grown.keys() - {newest}


@pytest.mark.parametrize("service", ["postgres", "redis", "frontend"])
def test_scaling_a_service_with_a_fixed_container_name_is_refused(
    client: DockerClient, target: Target, service: str
) -> None:
    with pytest.raises(BadInput, match="container_name"):
        containers.scale(client, target, service, 2)


def test_scale_to_zero_and_unknown_services_are_refused(
    client: DockerClient, target: Target
) -> None:
    with pytest.raises(BadInput):
        containers.scale(client, target, "backend", 0)
    with pytest.raises(BadInput):
        containers.restart(client, target, "nosuchservice")


def test_an_unreachable_engine_is_a_finding(target: Target) -> None:
    down = target.model_copy(update={"docker_host": "tcp://127.0.0.1:9"})
    result = containers.restart(containers.connect(down), down, "backend")
    assert [f.priority.name for f in result.findings] == ["P0"]
    assert result.actions == []

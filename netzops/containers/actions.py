"""Guarded container actions: restart, graceful recreate and scale (runbook "Restarting
Services" and "Scaling Services"). Each is a dry run unless confirmed (netzops.guard), and
a confirmed one waits until the containers serve again (running, healthy) or times out.

    docker compose restart [SERVICE]                          → restart   (SDK)
    docker compose up -d --force-recreate SERVICE             → recreate  (compose CLI)
    docker compose up -d --scale SERVICE=N                    → scale     (up: compose CLI,
                                                                           down: SDK)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from docker import DockerClient
from docker.errors import APIError, NotFound
from docker.models.containers import Container

from netzops import guard
from netzops.containers import compose
from netzops.containers.status import (
    ENGINE_ERRORS,
    NUMBER,
    SERVICE,
    container_state,
    engine_down,
    project_containers,
)
from netzops.errors import BadInput, NetzopsError
from netzops.findings import Finding, Priority
from netzops.guard import Plan
from netzops.results import Result
from netzops.targets import Target

STOP_TIMEOUT_S = 10  # SIGTERM → SIGKILL grace, as compose's default
WAIT_S = 90.0  # how long a confirmed action waits for its containers to serve again
POLL_S = 0.5

Snapshot = list[dict[str, Any]]


def snapshot(client: DockerClient, project: str, service: str | None) -> Snapshot:
    """id, name, state, health and StartedAt of the service's containers (before/after)."""
    rows = []
    for c in project_containers(client, project, service):
        s = container_state(c)
        rows.append(
            {
                "container": s.container,
                "id": c.id[:12],
                "replica": s.replica,
                "state": s.state,
                "health": s.health,
                "serving": s.serving,
                "started_at": s.started_at.isoformat() if s.started_at else None,
            }
        )
    return rows


def wait_serving(
    client: DockerClient,
    project: str,
    service: str | None,
    timeout_s: float,
    count: int | None = None,
    ready: Callable[[Snapshot], bool] | None = None,
) -> tuple[bool, float, Snapshot]:
    """Poll until every container of the service serves (running and healthy, or running
    without a health check), there are `count` of them, and `ready` holds; or time out.
    Returns (done, seconds waited, last snapshot)."""
    start = time.monotonic()
    while True:
        now = snapshot(client, project, service)
        done = (
            bool(now)
            and all(r["serving"] for r in now)
            and (count is None or len(now) == count)
            and (ready is None or ready(now))
        )
        waited = round(time.monotonic() - start, 1)
        if done or waited >= timeout_s:
            return done, waited, now
        time.sleep(POLL_S)


def _describe(c: Container) -> str:
    return f"{c.name} ({c.id[:12]})"


def _listed(found: list[Container]) -> list[dict[str, str]]:
    return [{"name": c.name, "id": c.id[:12]} for c in found]


def _when(iso: str | None) -> datetime:
    return datetime.fromisoformat(iso) if iso else datetime.min.replace(tzinfo=UTC)


def _outcome(what: str, done: bool, waited: float) -> str:
    return (
        f"{what}; serving after {waited:g} s" if done else f"{what}; NOT serving after {waited:g} s"
    )


# --- restart --------------------------------------------------------------------------------


def restart(
    client: DockerClient,
    target: Target,
    service: str | None = None,
    confirm: str | None = None,
    timeout_s: float = WAIT_S,
) -> Result:
    """`docker compose restart [SERVICE]`: the plan names each container (id) to restart;
    confirmed, each is restarted through the Engine API in turn, then the action waits until
    all serve again. Verified: every one serves and has a newer StartedAt."""
    service = target.service_or_all(service)
    project, subject = target.compose.project, service or "all services"
    order = {} if service else startup_order(target)

    def plan() -> Plan:
        found = project_containers(client, project, service)
        if service is None:
            found.sort(key=lambda c: order.get(c.labels.get(SERVICE, ""), len(order)))
        if not found:
            raise BadInput(f"{subject} of {project} has no containers to restart")
        return Plan(
            "restart",
            target.name,
            subject,
            [f"restart {_describe(c)} (stop timeout {STOP_TIMEOUT_S} s)" for c in found]
            + ["then wait until all serve (running, healthy)"],
            {"containers": _listed(found)},
        )

    def act(p: Plan) -> str:
        for entry in p.details["containers"]:
            client.containers.get(entry["id"]).restart(timeout=STOP_TIMEOUT_S)
        done, waited, _ = wait_serving(client, project, service, timeout_s)
        return _outcome(f"restarted {len(p.details['containers'])} container(s)", done, waited)

    def verify(before: Snapshot, after: Snapshot) -> bool:
        started = {r["id"]: _when(r["started_at"]) for r in before}
        return bool(after) and all(
            r["serving"] and r["id"] in started and _when(r["started_at"]) > started[r["id"]]
            for r in after
        )

    return _guarded(
        "restart", target, plan, act, confirm, _observer(client, project, service), verify
    )


def startup_order(target: Target) -> dict[str, int]:
    """service → position in start order (dependencies first) from the compose file's
    depends_on; empty when the file cannot be read (then the listed order is kept)."""
    try:
        services = compose.compose_config(target).get("services") or {}
    except NetzopsError:
        return {}
    order: dict[str, int] = {}

    def visit(name: str, path: tuple[str, ...] = ()) -> None:
        if name in order or name in path or name not in services:
            return
        for dep in services[name].get("depends_on") or []:
            visit(str(dep), (*path, name))
        order[name] = len(order)

    for name in sorted(services):
        visit(str(name))
    return order


def _observer(
    client: DockerClient, project: str, service: str | None
) -> Callable[[Plan], Snapshot]:
    """The service's containers as they are now, before and after an action."""
    return lambda _: snapshot(client, project, service)


def _guarded(
    check: str,
    target: Target,
    plan: Callable[[], Plan],
    act: Callable[[Plan], Any],
    confirm: str | None,
    observe: Callable[[Plan], Snapshot],
    verify: Callable[[Snapshot, Snapshot], bool],
) -> Result:
    try:
        return guard.run(target, plan, act, confirm, observe=observe, verify=verify)
    except APIError as exc:  # the engine answered, but refused
        why = f"Docker refused: {exc.explanation or exc}"[:240]
        return Result.of(
            check,
            f"{check} on {target.name}",
            findings=[Finding(check, target.compose.project, Priority.P1, why)],
        )
    except ENGINE_ERRORS as exc:
        return engine_down(check, f"{check} on {target.name}", exc, {"target": target})


# --- recreate -------------------------------------------------------------------------------


def recreate(
    client: DockerClient,
    target: Target,
    service: str,
    confirm: str | None = None,
    timeout_s: float = WAIT_S,
) -> Result:
    """The runbook's graceful restart, `docker compose up -d --force-recreate --no-deps
    [--scale SERVICE=N] SERVICE` (N = the current replica count when above 1, so none is
    added or dropped), then wait until the new containers serve. Verified: N containers, all new
    (no planned id left), all serving."""
    target.check_service(service)
    project = target.compose.project

    def plan() -> Plan:
        found = project_containers(client, project, service)
        count = max(1, len(found))
        keep = ["--scale", f"{service}={count}"] if count > 1 else []  # keep every replica
        args = ["up", "-d", "--force-recreate", "--no-deps", *keep, service]
        return Plan(
            "recreate",
            target.name,
            service,
            [f"replace {_describe(c)} with a new container" for c in found]
            + [
                " ".join([*compose.base_command(target), *args]),
                f"then wait until {count} new container(s) serve",
            ],
            {"containers": _listed(found), "replicas": count, "compose_args": args},
        )

    def act(p: Plan) -> str:
        compose.run(target, *p.details["compose_args"], timeout_s=timeout_s)
        old = {e["id"] for e in p.details["containers"]}
        done, waited, _ = wait_serving(
            client,
            project,
            service,
            timeout_s,
            p.details["replicas"],
            lambda now: not old & {r["id"] for r in now},
        )
        return _outcome(f"recreated {service}", done, waited)

    def verify(before: Snapshot, after: Snapshot) -> bool:
        old = {r["id"] for r in before}
        return len(after) == max(1, len(before)) and all(
            r["serving"] and r["id"] not in old for r in after
        )

    return _guarded(
        "recreate", target, plan, act, confirm, _observer(client, project, service), verify
    )


# --- scale ----------------------------------------------------------------------------------


def check_scalable(client: DockerClient, target: Target, service: str) -> None:
    """BadInput when the service has a fixed `container_name`: compose cannot run two
    containers under one name (in the sandbox: postgres, redis, frontend)."""
    target.check_service(service)
    try:
        spec = (compose.compose_config(target).get("services") or {}).get(service) or {}
        fixed = spec.get("container_name")
    except NetzopsError:  # no readable compose file: judge by the names compose gave
        project = target.compose.project
        fixed = next(
            (
                c.name
                for c in project_containers(client, project, service)
                if not c.name.startswith((f"{project}_{service}_", f"{project}-{service}-"))
            ),
            None,
        )
    if fixed:
        raise BadInput(
            f"cannot scale {service}: it has a fixed container_name ({fixed}), so "
            "compose can run only one container of it"
        )


def scale(
    client: DockerClient,
    target: Target,
    service: str,
    replicas: int,
    confirm: str | None = None,
    timeout_s: float = WAIT_S,
) -> Result:
    """`docker compose up -d --scale SERVICE=N`. Up: compose CLI `up -d --no-recreate
    --no-deps --scale SERVICE=N SERVICE` (compose creates replicas; running ones are not
    touched). Down: the Engine API stops and removes the highest-numbered replicas, exactly
    the containers the plan names (compose's own scale-down may also recreate replicas whose
    configuration changed, which a plan could not show). Verified: N replicas, all serving."""
    if replicas < 1:
        raise BadInput(f"replicas must be ≥ 1, not {replicas} (scaling to 0 stops the service)")
    check_scalable(client, target, service)
    project = target.compose.project

    def plan() -> Plan:
        found = sorted(
            project_containers(client, project, service),
            key=lambda c: int(c.labels.get(NUMBER, "0") or 0),
        )
        going = found[replicas:]
        args = [
            "up",
            "-d",
            "--no-recreate",
            "--no-deps",
            "--scale",
            f"{service}={replicas}",
            service,
        ]
        steps = (
            [f"stop (timeout {STOP_TIMEOUT_S} s) and remove {_describe(c)}" for c in going]
            if going
            else [" ".join([*compose.base_command(target), *args])]
            if replicas > len(found)
            else ["nothing to do: already at that count"]
        )
        return Plan(
            "scale",
            target.name,
            service,
            [
                f"{service}: {len(found)} → {replicas} replicas",
                *steps,
                f"then wait until {replicas} replica(s) serve",
            ],
            {
                "current": len(found),
                "desired": replicas,
                "remove": _listed(going),
                "keep": _listed(found[:replicas]),
                "compose_args": args,
            },
        )

    def act(p: Plan) -> str:
        for entry in p.details["remove"]:
            try:
                gone = client.containers.get(entry["id"])
                gone.stop(timeout=STOP_TIMEOUT_S)
                gone.remove()
            except NotFound:
                continue  # already gone
        if p.details["desired"] > p.details["current"]:
            compose.run(target, *p.details["compose_args"], timeout_s=timeout_s)
        done, waited, _ = wait_serving(client, project, service, timeout_s, replicas)
        return _outcome(f"{service}: {p.details['current']} → {replicas}", done, waited)

    def verify(_: Snapshot, after: Snapshot) -> bool:
        return len(after) == replicas and all(r["serving"] for r in after)

    return _guarded(
        "scale", target, plan, act, confirm, _observer(client, project, service), verify
    )

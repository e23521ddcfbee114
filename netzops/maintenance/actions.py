"""Guarded maintenance actions: `docker system prune -f` (runbook "Weekly: Clean Docker
system", "Log Rotation"). A dry run unless confirmed; the plan names every stopped
container, dangling image and unused network it would remove and the bytes it frees.
Volumes are never pruned (`docker system prune` without --volumes)."""

from __future__ import annotations

from typing import Any

from docker import DockerClient

from netzops import guard
from netzops.containers.status import ENGINE_ERRORS, engine_down
from netzops.guard import Plan
from netzops.results import Result
from netzops.targets import Target

DEFAULT_NETWORKS = ("bridge", "host", "none")


def _candidates(client: DockerClient) -> dict[str, Any]:
    """What `docker system prune -f` removes, from the engine's /system/df answer."""
    df = client.df()
    used_networks = {
        n
        for c in client.containers.list()
        for n in (c.attrs["NetworkSettings"].get("Networks") or {})
    }
    stopped = [
        {
            "id": c["Id"][:12],
            "name": (c.get("Names") or ["?"])[0].lstrip("/"),
            "bytes": int(c.get("SizeRw") or 0),
        }
        for c in df.get("Containers") or []
        if c.get("State") not in ("running", "paused", "restarting")
    ]
    dangling = [
        {"id": i["Id"].split(":")[-1][:12], "bytes": int(i.get("Size") or 0)}
        for i in df.get("Images") or []
        if not i.get("RepoTags") or i.get("RepoTags") == ["<none>:<none>"]
        if int(i.get("Containers") or 0) == 0
    ]
    networks = sorted(
        n.name
        for n in client.networks.list()
        if n.name not in DEFAULT_NETWORKS
        and n.name not in used_networks
        and not (n.attrs.get("Ingress") or n.attrs.get("Scope") == "swarm")
    )
    cache = [b for b in df.get("BuildCache") or [] if not b.get("InUse") and not b.get("Shared")]
    return {
        "containers": stopped,
        "images": dangling,
        "networks": networks,
        "build_cache_bytes": sum(int(b.get("Size") or 0) for b in cache),
    }


def docker_prune(client: DockerClient, target: Target, confirm: str | None = None) -> Result:
    """`docker system prune -f`: remove stopped containers, dangling images, unused networks
    and unused build cache (never volumes). The plan lists each and the bytes they hold;
    verified by none of the planned containers, images and networks being left."""

    def plan() -> Plan:
        c = _candidates(client)
        frees = sum(x["bytes"] for x in c["containers"] + c["images"]) + c["build_cache_bytes"]
        steps = [
            f"remove stopped container {x['name']} ({x['id']}, {x['bytes']} B)"
            for x in c["containers"]
        ]
        steps += [f"remove dangling image {x['id']} ({x['bytes']} B)" for x in c["images"]]
        steps += [f"remove unused network {n}" for n in c["networks"]]
        steps += (
            [f"remove unused build cache ({c['build_cache_bytes']} B)"]
            if c["build_cache_bytes"]
            else []
        )
        steps.append(f"frees about {frees / 1e6:.1f} MB (docker system prune -f; volumes are kept)")
        return Plan(
            "docker_prune",
            target.name,
            "docker system prune -f",
            steps,
            {**c, "frees_bytes": frees},
        )

    def act(p: Plan) -> str:
        gone = client.containers.prune().get("ContainersDeleted") or []
        images = client.images.prune(filters={"dangling": True}).get("ImagesDeleted") or []
        networks = client.networks.prune().get("NetworksDeleted") or []
        freed = int(client.api.prune_builds().get("SpaceReclaimed") or 0)
        return (
            f"removed {len(gone)} containers, {len(images)} images, "
            f"{len(networks)} networks; build cache {freed} B"
        )

    def observe(p: Plan) -> dict[str, list[str]]:
        now = _candidates(client)
        planned_c = {x["id"] for x in p.details["containers"]}
        planned_i = {x["id"] for x in p.details["images"]}
        return {
            "containers_left": sorted(planned_c & {x["id"] for x in now["containers"]}),
            "images_left": sorted(planned_i & {x["id"] for x in now["images"]}),
            "networks_left": sorted(set(p.details["networks"]) & set(now["networks"])),
        }

    def verify(before: dict[str, list[str]], after: dict[str, list[str]]) -> bool:
        return not any(after.values())

    try:
        return guard.run(target, plan, act, confirm, observe, verify)
    except ENGINE_ERRORS as exc:
        return engine_down(
            "docker_prune", f"docker_prune on {target.name}", exc, {"target": target}
        )

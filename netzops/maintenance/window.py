"""The planned maintenance window (runbook "Planned Maintenance Window"): a snapshot of the
stack before (containers, images and their ids, versions, health, row counts, the compose
configuration's hash), saved as JSON, and after the work the same snapshot diffed against
it — what changed, what got worse.

Snapshots live in `<outputs>/<target>/maintenance/<UTC time>-<phase>.json`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from docker import DockerClient

from netzops import cache, endpoints
from netzops.backups.archive import Identity, row_counts, write_json
from netzops.containers.compose import compose_config
from netzops.containers.status import SERVICE, container_state, project_containers
from netzops.errors import BadInput, NetzopsError
from netzops.findings import Finding, Priority
from netzops.paths import outputs_dir
from netzops.postgres.client import Database
from netzops.results import Result
from netzops.targets import Target

Snapshot = dict[str, Any]
PHASES = ("pre", "post")


def _containers(client: DockerClient, target: Target) -> list[dict[str, Any]]:
    rows = []
    for c in project_containers(client, target.compose.project):
        s = container_state(c)
        rows.append(
            {
                "name": c.name,
                "service": c.labels.get(SERVICE, ""),
                "id": c.id[:12],
                "image": (c.attrs.get("Config") or {}).get("Image", ""),
                "image_id": str(c.attrs.get("Image", ""))[:19],
                "state": s.state,
                "health": s.health,
                "serving": s.serving,
                "started_at": s.started_at.isoformat() if s.started_at else None,
            }
        )
    return sorted(rows, key=lambda r: r["name"])


#: Program versions asked inside the services' containers (first running replica).
VERSION_COMMANDS = {"backend": ["node", "--version"], "frontend": ["nginx", "-v"]}


def _program_versions(client: DockerClient, target: Target) -> dict[str, str]:
    found = {}
    for service, cmd in VERSION_COMMANDS.items():
        running = [
            c
            for c in project_containers(client, target.compose.project, service)
            if c.status == "running"
        ]
        if service in target.services and running:
            code, out = running[0].exec_run(cmd)
            text = out.decode("utf-8", "replace").strip() if code == 0 else ""
            found[f"{service} {cmd[0]}"] = text.splitlines()[0][:80] if text else "unknown"
    return found


def _versions(client: DockerClient, target: Target, db: Database) -> dict[str, str]:
    found = {"docker": str(client.version().get("Version", ""))}
    found |= _program_versions(client, target)
    found["postgres"] = db.rows("server_identity", Identity)[0].server_version
    rc = cache.connect(target)
    try:
        found["redis"] = str(cache.info(rc, "server").get("redis_version", ""))
    finally:
        rc.close()
    return found


def _config_hash(target: Target) -> str:
    try:
        config = compose_config(target)
    except NetzopsError as exc:
        return f"unknown: {exc}"[:120]
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def _http(client: DockerClient, target: Target) -> dict[str, int | None]:
    with endpoints.client(target) as http:
        return {
            name: endpoints.probe(http, name, url).status
            for name, url in endpoints.health_urls(target, client).items()
        }


def snapshot(client: DockerClient, target: Target, phase: str = "pre") -> Snapshot:
    """The stack as it is now (see the module docstring). Raises TargetUnreachable when the
    database cannot be reached (a window needs its row counts)."""
    if phase not in PHASES:
        raise BadInput(f"phase must be one of {', '.join(PHASES)}, not {phase!r}")
    db = Database(target, "admin")
    try:
        return {
            "phase": phase,
            "target": target.name,
            "taken_at": datetime.now(UTC).isoformat(),
            "containers": _containers(client, target),
            "versions": _versions(client, target, db),
            "row_counts": row_counts(db),
            "http": _http(client, target),
            "config_sha256": _config_hash(target),
        }
    finally:
        db.close()


def folder(target: Target) -> Path:
    return outputs_dir() / target.name / "maintenance"


def save_snapshot(target: Target, snap: Snapshot) -> Path:
    """Write the snapshot as `<UTC time>-<phase>.json`; its path."""
    where = folder(target)
    where.mkdir(parents=True, exist_ok=True)
    stamp = datetime.fromisoformat(snap["taken_at"]).strftime("%Y%m%dT%H%M%S%fZ")
    path = where / f"{stamp}-{snap['phase']}.json"
    write_json(path, snap)
    return path


def load_snapshot(target: Target, phase: str = "pre") -> Snapshot:
    """The newest saved snapshot of `phase`; BadInput when there is none."""
    found = sorted(folder(target).glob(f"*-{phase}.json")) if folder(target).is_dir() else []
    if not found:
        raise BadInput(f"no {phase} snapshot in {folder(target)}: run phase=pre first")
    data: Snapshot = json.loads(found[-1].read_text())
    return data


def _row(what: str, before: Any, after: Any, change: str) -> dict[str, Any]:
    return {"what": what, "before": before, "after": after, "change": change}


def _container_changes(pre: Snapshot, post: Snapshot) -> list[dict[str, Any]]:
    before = {c["name"]: c for c in pre["containers"]}
    after = {c["name"]: c for c in post["containers"]}
    rows = []
    for name in sorted(set(before) | set(after)):
        b, a = before.get(name), after.get(name)
        if b is None or a is None:
            rows.append(
                _row(
                    f"container {name}",
                    b and b["id"],
                    a and a["id"],
                    "worse" if a is None else "changed",
                )
            )
            continue
        for key in ("id", "image", "image_id", "started_at"):
            if b[key] != a[key]:
                rows.append(_row(f"{name} {key}", b[key], a[key], "changed"))
        if b["serving"] and not a["serving"]:
            rows.append(
                _row(
                    f"{name} serving",
                    f"{b['state']}/{b['health']}",
                    f"{a['state']}/{a['health']}",
                    "worse",
                )
            )
        elif b["health"] != a["health"]:
            rows.append(_row(f"{name} health", b["health"], a["health"], "changed"))
    return rows


def _other_changes(pre: Snapshot, post: Snapshot) -> list[dict[str, Any]]:
    rows = []
    for key in sorted(set(pre["versions"]) | set(post["versions"])):
        b, a = pre["versions"].get(key), post["versions"].get(key)
        if b != a:
            rows.append(_row(f"version {key}", b, a, "changed"))
    if pre["config_sha256"] != post["config_sha256"]:
        rows.append(
            _row(
                "compose configuration",
                pre["config_sha256"][:12],
                post["config_sha256"][:12],
                "changed",
            )
        )
    for table in sorted(set(pre["row_counts"]) | set(post["row_counts"])):
        b, a = pre["row_counts"].get(table), post["row_counts"].get(table)
        if b != a:
            worse = a is None or (b is not None and a < b)
            rows.append(_row(f"rows {table}", b, a, "worse" if worse else "changed"))
    for name in sorted(set(pre["http"]) | set(post["http"])):
        b, a = pre["http"].get(name), post["http"].get(name)
        if b != a:
            worse = b == 200 and a != 200
            rows.append(_row(f"http {name}", b, a, "worse" if worse else "changed"))
    return rows


def diff(pre: Snapshot, post: Snapshot) -> Result:
    """What changed between the pre and post snapshots; each change that made things worse
    (a container gone or no longer serving, fewer rows, a health check no longer 200) is a
    P1 regression finding. Metrics: window.changes, window.regressions."""
    rows = _container_changes(pre, post) + _other_changes(pre, post)
    worse = [r for r in rows if r["change"] == "worse"]
    findings = [
        Finding(
            "maintenance_window",
            r["what"],
            Priority.P1,
            f"regression: {r['before']} → {r['after']}"[:240],
        )
        for r in worse
    ]
    title = f"Maintenance window — {pre['taken_at'][:19]} → {post['taken_at'][:19]}"
    notes = [] if rows else ["nothing changed"]
    metrics = {"window.changes": float(len(rows)), "window.regressions": float(len(worse))}
    return Result.of("maintenance_window", title, rows, findings, metrics, notes)


def snapshot_result(snap: Snapshot) -> Result:
    """A snapshot as a result (one row per container; versions and hashes in notes)."""
    notes = [
        f"versions: {', '.join(f'{k} {v}' for k, v in snap['versions'].items())}",
        f"row counts: {', '.join(f'{k} {v}' for k, v in snap['row_counts'].items())}",
        f"compose configuration SHA-256 {snap['config_sha256']}",
    ]
    title = f"Stack snapshot ({snap['phase']}) — {snap['target']} at {snap['taken_at'][:19]}"
    return Result.of("maintenance_snapshot", title, snap["containers"], notes=notes)

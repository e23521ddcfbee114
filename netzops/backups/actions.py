"""Guarded backup actions: restore a verified backup into the live database (runbook
"Database Corruption") and prune backups by the retention policy. Both are dry runs unless
confirmed with the plan's string (netzops.guard), and leave an audit entry.

restore_backup:
    1. stop the backend (every replica; nothing writes while the data is replaced)
    2. safety dump of the current state (`<db>-<time>-pre-restore.dump` + manifest)
    3. end the remaining client sessions on the database
    4. `pg_restore --clean --if-exists --single-transaction --exit-on-error`: all or nothing;
       on any error the transaction rolls back and the database is as it was
    5. start the backend, wait until it serves
    6. verified: every table's row count equals the backup's manifest and GET /api/users
       answers 200
Tables created after the backup and absent from it are left as they are (pg_restore
--clean drops only what the backup holds). Only a backup verified by restore is accepted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docker import DockerClient
from docker.errors import NotFound

from netzops import endpoints, guard
from netzops.backups.archive import (
    Count,
    Manifest,
    backup_dir,
    dump,
    manifest_path,
    row_counts,
    sha256_of,
)
from netzops.backups.catalog import (
    backups,
    keep,
    latest_verified,
    read_verification,
    resolve,
    still_verified,
    verify_path,
)
from netzops.backups.server import Server, blocks
from netzops.containers.actions import STOP_TIMEOUT_S, WAIT_S, wait_serving
from netzops.containers.status import ENGINE_ERRORS, engine_down, project_containers
from netzops.errors import BadInput, TargetUnreachable
from netzops.guard import Plan
from netzops.postgres.client import Database, unavailable
from netzops.results import Result
from netzops.targets import Target

APP_SERVICE = "backend"  # the service that writes to the database


def _verified(target: Target, backup: str | Path | None) -> tuple[Path, Manifest]:
    """The backup to restore: given, or the newest verified one. BadInput unless it is a
    custom-format backup of the target's database whose verification by restore holds."""
    if backup is None or str(backup) == "":
        newest = latest_verified(target)
        if newest is None:
            raise BadInput(
                f"no verified backup of {target.postgres.dbname} in {backup_dir(target)}: "
                "verify one first"
            )
        path = newest.location
    else:
        path = resolve(target, backup)
    if not path.name.endswith(".dump") or not manifest_path(path).is_file():
        raise BadInput(f"{path.name}: only a netzops backup (.dump with manifest) can be restored")
    manifest = Manifest.read(manifest_path(path))
    if manifest.database != target.postgres.dbname:
        raise BadInput(
            f"{path.name} is a backup of {manifest.database!r}, not {target.postgres.dbname!r}"
        )
    if not still_verified(path, read_verification(path)):
        raise BadInput(f"{path.name} is not verified by restore: verify it first")
    return path, manifest


def _api_users(client: DockerClient, target: Target) -> int | None:
    """Status of GET /api/users on the backend (the best replica answering; None: none)."""
    urls = [
        u for name, u in endpoints.health_urls(target, client).items() if name.startswith("backend")
    ]
    with endpoints.client(target) as http:
        codes = [endpoints.probe(http, "backend", u).status for u in urls]
    return max((c for c in codes if c is not None), default=None)


def restore(
    client: DockerClient,
    target: Target,
    backup: str | Path | None = None,
    confirm: str | None = None,
    timeout_s: float = WAIT_S,
) -> Result:
    """Restore a verified backup (a file name, a path, or None for the newest verified one)
    into the target's live database; the steps are in the module docstring. A dry run
    unless `confirm` is the plan's confirmation. Raises BadInput for an unverified, foreign
    or unknown backup (nothing runs). The record's audit entry holds the row counts and
    the /api/users status before and after, and the safety dump's name."""
    path, manifest = _verified(target, backup)
    project, db_name = target.compose.project, target.postgres.dbname
    admin = Database(target, "admin")

    def plan() -> Plan:
        app = project_containers(client, project, APP_SERVICE)
        names = ", ".join(f"{c.name} ({c.id[:12]})" for c in app) or "none running"
        return Plan(
            "restore_backup",
            target.name,
            f"database {db_name} from {path.name}",
            [
                f"stop {APP_SERVICE}: {names}",
                f"safety dump of {db_name} as it is: pg_dump -Fc → "
                f"{backup_dir(target)}/{db_name}-<UTC time>-pre-restore.dump (+ manifest)",
                f"end the other client sessions on {db_name}",
                f"pg_restore --clean --if-exists --single-transaction --exit-on-error "
                f"-d {db_name} < {path.name} (all or nothing)",
                f"start {APP_SERVICE} and wait until it serves",
                f"verify: row counts of {len(manifest.tables)} tables as in the manifest, "
                "GET /api/users answers 200",
            ],
            {
                "backup": path.name,
                "sha256": manifest.sha256,
                "taken": manifest.started,
                "row_counts": manifest.tables,
                "backend": [{"name": c.name, "id": c.id[:12]} for c in app],
            },
        )

    def act(p: Plan) -> str:
        return _act(client, target, admin, path, p, timeout_s)

    def observe(p: Plan) -> dict[str, Any]:
        return {"row_counts": row_counts(admin), "api_users": _api_users(client, target)}

    def verify(before: dict[str, Any], after: dict[str, Any]) -> bool:
        return bool(after["row_counts"] == manifest.tables and after["api_users"] == 200)

    try:
        return guard.run(target, plan, act, confirm, observe, verify)
    except TargetUnreachable as exc:
        return unavailable("restore_backup", f"restore_backup on {target.name}", exc)
    except ENGINE_ERRORS as exc:
        return engine_down(
            "restore_backup", f"restore_backup on {target.name}", exc, {"target": target}
        )
    finally:
        admin.close()


def _act(
    client: DockerClient, target: Target, admin: Database, path: Path, p: Plan, timeout_s: float
) -> str:
    if sha256_of(path) != p.details["sha256"]:
        return f"refused: {path.name} changed since its verification; nothing done"
    app = []
    for entry in p.details["backend"]:
        try:
            app.append(client.containers.get(entry["id"]))
        except NotFound:
            continue
    for c in app:
        c.stop(timeout=STOP_TIMEOUT_S)
    try:
        safety = dump(client, target, kind="safety")
        admin.rows("terminate_database_sessions", Count, {"dbname": target.postgres.dbname})
        server = Server(client, target)
        cmd = [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--single-transaction",
            "--exit-on-error",
            "-d",
            target.postgres.dbname,
        ]
        with path.open("rb") as fh:
            done = server.run(cmd, source=blocks(fh))
        restored = "restored" if done.ok else f"NOT restored (rolled back): {done.error}"
    finally:
        for c in app:
            c.start()
        served, waited, _ = wait_serving(
            client, target.compose.project, APP_SERVICE, timeout_s, len(app) or None
        )
    return (
        f"{restored}; safety dump {safety.file}; {APP_SERVICE} "
        f"{'serving' if served else 'NOT serving'} after {waited:g} s"
    )


# --- prune ------------------------------------------------------------------------------------


def _files_of(path: Path) -> list[Path]:
    return [p for p in (path, manifest_path(path), verify_path(path)) if p.exists()]


def prune(target: Target, confirm: str | None = None) -> Result:
    """Delete the backups the target's retention policy (`backups.retention`) does not keep,
    each with its manifest and verification record. The plan lists every file and the bytes
    it frees; the newest verified backup is always kept. A dry run unless confirmed."""
    policy = target.backups.retention
    folder = backup_dir(target)

    def plan() -> Plan:
        found = backups(target)
        kept = keep(found, policy)
        going = [b for b in found if b.file not in kept]
        return Plan(
            "prune_backups",
            target.name,
            f"{len(going)} of {len(found)} backups in {folder}",
            [
                f"delete {b.file} ({b.size}, taken {b.taken_at:%Y-%m-%d %H:%M} UTC, "
                f"{'verified' if b.verified else 'not verified'}) and its side files"
                for b in going
            ]
            or ["nothing to delete: the policy keeps every backup"],
            {
                "policy": policy.model_dump(),
                "delete": [b.file for b in going],
                "keep": sorted(kept & {b.file for b in found}),
                "frees_bytes": sum(b.size_bytes for b in going),
            },
        )

    def act(p: Plan) -> str:
        removed = 0
        for name in p.details["delete"]:
            for f in _files_of(folder / name):
                f.unlink(missing_ok=True)
                removed += 1
        return f"deleted {len(p.details['delete'])} backups ({removed} files)"

    def observe(p: Plan) -> dict[str, list[str]]:
        present = {b.file for b in backups(target)}
        return {
            "deleted_still_there": sorted(present & set(p.details["delete"])),
            "kept_missing": sorted(set(p.details["keep"]) - present),
        }

    def verify(before: dict[str, list[str]], after: dict[str, list[str]]) -> bool:
        return not after["deleted_still_there"] and not after["kept_missing"]

    return guard.run(target, plan, act, confirm, observe, verify)

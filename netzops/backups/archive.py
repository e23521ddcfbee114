"""Making a backup: `pg_dump -Fc` with the server's own version, streamed to
`<backup dir>/<db>-<UTC time>.dump`, and its manifest `<db>-<UTC time>.manifest.json`.

The manifest holds the database, server and pg_dump versions, start and end, size, SHA-256
and the exact row count of every table, counted in the very snapshot pg_dump dumps (a
repeatable-read transaction exports it; `pg_dump --snapshot` uses it). It holds no
password: pg_dump runs in the database container over the local socket.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from docker import DockerClient

from netzops.backups.server import Server, check
from netzops.checks import Outcome
from netzops.errors import BadInput
from netzops.findings import Finding, Priority
from netzops.paths import outputs_dir
from netzops.postgres.client import Database
from netzops.targets import Target

MANIFEST_FORMAT = "netzops-backup/1"
STAMP = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class Manifest:
    """What a backup holds, written beside it as `<stem>.manifest.json`."""

    file: str
    database: str
    target: str
    kind: str  # "backup", or "safety" for the dump a restore makes first
    server_version: str
    server_version_num: int
    pg_dump_version: str
    started: str  # ISO 8601, UTC: the snapshot's time (the data is as of then)
    ended: str
    size_bytes: int
    sha256: str
    tables: dict[str, int] = field(default_factory=dict)  # "schema.table" → exact row count
    format: str = MANIFEST_FORMAT

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """The manifest at `path`; BadInput (one line) when it is not one."""
        try:
            data = json.loads(path.read_text())
            if data.get("format") != MANIFEST_FORMAT:
                raise ValueError(f"format {data.get('format')!r}")
            return cls(**data)
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            raise BadInput(f"{path.name}: not a netzops backup manifest ({exc})") from None


def backup_dir(target: Target) -> Path:
    """The target's backup folder (`backups.dir`, else `<outputs>/<target>/backups`)."""
    configured = target.backups.dir
    if configured:
        return Path(os.path.expanduser(configured)).resolve()
    return outputs_dir() / target.name / "backups"


def stem_of(path: Path) -> str:
    """`netzwaechter-20261130T120000Z` of `.dump`, `.sql.gz`, `.manifest.json`, `.verify.json`."""
    name = path.name
    for suffix in (".manifest.json", ".verify.json", ".dump", ".sql.gz", ".sql"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def manifest_path(backup: Path) -> Path:
    return backup.with_name(stem_of(backup) + ".manifest.json")


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically (a temporary file renamed over the target)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n")
    os.replace(tmp, path)


@dataclass(frozen=True)
class Identity:
    server_version: str
    server_version_num: int
    database: str


@dataclass(frozen=True)
class TableName:
    schema: str
    table_name: str


@dataclass(frozen=True)
class Snapshot:
    snapshot: str


@dataclass(frozen=True)
class Count:
    row_count: int


def row_counts(db: Database) -> dict[str, int]:
    """Exact row count of every table a backup holds ("schema.table" → rows)."""
    return {
        f"{t.schema}.{t.table_name}": db.rows(
            "row_count", Count, identifiers={"table": (t.schema, t.table_name)}
        )[0].row_count
        for t in db.rows("backup_tables", TableName)
    }


def for_database(target: Target, dbname: str) -> Target:
    """The target with another database name (a throwaway or a foreign database)."""
    postgres = target.postgres.model_copy(update={"dbname": dbname})
    return target.model_copy(update={"postgres": postgres})


def dump(
    client: DockerClient,
    target: Target,
    kind: str = "backup",
    database: str | None = None,
    folder: Path | None = None,
) -> Manifest:
    """Dump the target's database (or `database`) in the custom format into the backup
    folder (or `folder`) and write its manifest. Raises TargetUnreachable when the server
    or the engine cannot be reached, BadInput (naming pg_dump's error) when pg_dump fails;
    a failed dump leaves no file behind."""
    db = Database(for_database(target, database) if database else target, "admin")
    server = Server(client, target)
    out = folder or backup_dir(target)
    out.mkdir(parents=True, exist_ok=True)
    try:
        return _dump(db, server, out, kind)
    finally:
        db.close()


def _dump(db: Database, server: Server, out: Path, kind: str) -> Manifest:
    version = server.version("pg_dump")
    conn = db.connection()
    with conn.transaction():
        db.execute("repeatable_read")
        snapshot = db.rows("export_snapshot", Snapshot)[0].snapshot
        ident = db.rows("server_identity", Identity)[0]
        started = datetime.now(UTC)
        tables = row_counts(db)
        suffix = "-pre-restore" if kind == "safety" else ""
        path = out / f"{ident.database}-{started.strftime(STAMP)}{suffix}.dump"
        if path.exists():
            raise BadInput(f"{path.name} exists already; one backup per second and database")
        size, digest = _stream(server, ident.database, snapshot, path)
    manifest = Manifest(
        path.name,
        ident.database,
        db.target.name,
        kind,
        ident.server_version,
        ident.server_version_num,
        version,
        started.isoformat(),
        datetime.now(UTC).isoformat(),
        size,
        digest,
        tables,
    )
    write_json(manifest_path(path), manifest.to_json())
    return manifest


def _stream(server: Server, dbname: str, snapshot: str, path: Path) -> tuple[int, str]:
    """pg_dump's output into `path` (via a `.partial` file), hashed on the way."""
    partial = path.with_name(path.name + ".partial")
    digest = hashlib.sha256()
    size = 0
    try:
        with partial.open("wb") as fh:

            def sink(block: bytes) -> None:
                nonlocal size
                digest.update(block)
                size += len(block)
                fh.write(block)

            cmd = ["pg_dump", "-Fc", f"--snapshot={snapshot}", "-d", dbname]
            done = server.run(cmd, sink=sink)
            fh.flush()
            os.fsync(fh.fileno())
        if not done.ok:
            raise BadInput(f"pg_dump of {dbname} failed: {done.error}")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return size, digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


@check("backup_make", "Backup of {target.postgres.dbname} on {target.name}")
def make(client: DockerClient, target: Target) -> Outcome:
    """Runbook "Database backup", as a custom-format dump with a manifest (see `dump`).
    Rows: the manifest (file, versions, times, size, SHA-256) and one row per table with its
    row count. Metrics: backup.size_bytes, backup.dump_seconds, backup.tables, backup.rows.
    A backup that cannot be made is a P1 finding (the database is then not protected)."""
    start = time.monotonic()
    try:
        m = dump(client, target)
    except BadInput as exc:  # the server refused the dump (see `dump`)
        why = f"no backup made: {exc}"[:240]
        return Outcome(findings=[Finding("backup_make", target.postgres.dbname, Priority.P1, why)])
    seconds = round(time.monotonic() - start, 3)
    rows = [
        {"table": name, "rows": count, "file": m.file, "sha256": m.sha256}
        for name, count in m.tables.items()
    ]
    metrics = {
        "backup.size_bytes": float(m.size_bytes),
        "backup.dump_seconds": seconds,
        "backup.tables": float(len(m.tables)),
        "backup.rows": float(sum(m.tables.values())),
    }
    notes = [
        f"{m.file}: {m.size_bytes / 1e6:.1f} MB in {seconds:g} s, SHA-256 {m.sha256}, "
        f"{m.pg_dump_version} against server {m.server_version}"
    ]
    return Outcome(rows, metrics=metrics, notes=notes)

"""Verification by restore (pgBackRest `verify`, WAL-G `backup-verify`, Barman
`check-backup`: a backup never restored is not a backup).

Steps, in order; the first that fails ends the verification with a P1 finding naming the
file and that step, and nothing else is touched:

    manifest    the manifest names the target's database (custom format; plain backups have none)
    checksum    SHA-256 and size equal the manifest's
    list        `pg_restore --list` reads the archive; its header names the same database
    restore     into a throwaway database: `pg_restore --exit-on-error [-j N]`, or plain SQL
                through `psql -v ON_ERROR_STOP=1 --single-transaction`
    row counts  every table's exact count equals the manifest's
    amcheck     `bt_index_check(index[, heapallindexed])` on every B-tree index (when the
                server has the amcheck extension)

The throwaway database is dropped afterwards, also when a step fails midway. The result
carries RPO (age of the newest verified backup) and RTO (this restore's duration) in its
metrics, `backup.rpo_seconds` and `backup.rto_seconds`; `<stem>.verify.json` keeps it.
"""

from __future__ import annotations

import gzip
import secrets
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from docker import DockerClient

from netzops.backups.archive import (
    Manifest,
    for_database,
    manifest_path,
    row_counts,
    sha256_of,
    write_json,
)
from netzops.backups.catalog import latest_verified, resolve, verify_path
from netzops.backups.server import BLOCK, Server, blocks, check
from netzops.checks import Outcome
from netzops.errors import BadInput, NetzopsError, TargetUnreachable
from netzops.findings import Finding, Priority
from netzops.postgres.client import Database
from netzops.targets import Target

PARALLEL_MIN_BYTES = 64 << 20  # below this, pg_restore -j gains less than the copy costs
MAX_JOBS = 4  # our choice: leave the server's other cores to the application
THROWAWAY_PREFIX = "netzops_verify_"


class StepFailed(NetzopsError):
    """A verification step failed; `step` names it."""

    def __init__(self, step: str, why: str) -> None:
        super().__init__(why)
        self.step = step


@dataclass
class Step:
    step: str
    ok: bool
    detail: str
    seconds: float


@dataclass
class Verification:
    """What one verification found (the rows of its Result are its steps)."""

    file: str
    steps: list[Step] = field(default_factory=list)
    restore_seconds: float | None = None
    counts: dict[str, int] = field(default_factory=dict)
    failed: StepFailed | None = None

    def run(self, name: str, body: Callable[[], str]) -> None:
        """Run one step (unless one failed before); record its outcome and duration."""
        if self.failed:
            return
        start = time.monotonic()
        try:
            detail = body()
        except StepFailed as exc:
            self.failed = exc
            detail = str(exc)
        except (BadInput, TargetUnreachable, psycopg.Error) as exc:
            self.failed = StepFailed(name, _one_line(exc))
            detail = str(self.failed)
        ok = self.failed is None
        self.steps.append(Step(name, ok, detail, round(time.monotonic() - start, 3)))


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


@check("backup_verify", "Backup verification — {backup}")
def verify(
    client: DockerClient,
    target: Target,
    backup: str | Path | None = None,
    jobs: int | None = None,
    amcheck: bool = True,
    heapallindexed: bool = False,
) -> Outcome:
    """Verify a backup (a file name in the backup folder, a path, or None for the newest)
    by restoring it into a throwaway database. Returns the steps as rows; a refusal is a
    P1 finding "<file>: <step> failed: <why>". Metrics: backup.rpo_seconds (newest verified
    backup's age), backup.rto_seconds (this restore), backup.size_bytes, backup.verified
    (1/0), backup.verify_seconds. `jobs` None: -j up to 4 when the server has the cores and
    the dump is ≥ 64 MB. `amcheck` checks every B-tree index's structure; `heapallindexed`
    also that every table row has its index entry (slower: it reads every table again).
    Raises BadInput when there is no such backup."""
    path = resolve(target, backup)
    started = time.monotonic()
    v = _verify(Server(client, target), target, path, jobs, amcheck, heapallindexed)
    total = round(time.monotonic() - started, 3)
    _record(path, v, total)
    return _result(target, path, v, total)


def _verify(
    server: Server,
    target: Target,
    path: Path,
    jobs: int | None,
    amcheck: bool,
    heapallindexed: bool,
) -> Verification:
    v = Verification(path.name)
    plain = path.name.endswith(".sql.gz")
    manifest: list[Manifest] = []
    if not plain:
        v.run("manifest", lambda: _manifest(target, path, manifest))
        v.run("checksum", lambda: _checksum(path, manifest[0] if manifest else None))
        v.run("list", lambda: _list(server, path, manifest[0] if manifest else None))
    if v.failed:
        return v
    admin = Database(target, "admin")
    name = THROWAWAY_PREFIX + secrets.token_hex(4)
    try:
        v.run("create", lambda: _create(admin, name))
        scratch = _scratch(server, target, path, jobs)
        v.run("restore", lambda: _restore(server, v, path, name, scratch, plain))
        throwaway = Database(for_database(target, name), "admin")
        try:
            v.run("row counts", lambda: _counts(throwaway, v, manifest[0] if manifest else None))
            if amcheck:
                v.run("amcheck", lambda: _amcheck(throwaway, heapallindexed))
        finally:
            throwaway.close()
    finally:
        _drop(admin, name)
        admin.close()
    return v


def _manifest(target: Target, path: Path, out: list[Manifest]) -> str:
    mpath = manifest_path(path)
    if not mpath.is_file():
        return "no manifest: checksum and row counts cannot be compared"
    m = Manifest.read(mpath)
    if m.database != target.postgres.dbname:
        raise StepFailed(
            "manifest", f"a backup of database {m.database!r}, not {target.postgres.dbname!r}"
        )
    out.append(m)
    return f"database {m.database}, {len(m.tables)} tables, taken {m.started}"


def _checksum(path: Path, m: Manifest | None) -> str:
    size = path.stat().st_size
    if size == 0:
        raise StepFailed("checksum", "the file is empty")
    if m is None:
        return "no manifest to compare with"
    if size != m.size_bytes:
        raise StepFailed("checksum", f"size {size} B, the manifest says {m.size_bytes} B")
    digest = sha256_of(path)
    if digest != m.sha256:
        raise StepFailed("checksum", f"SHA-256 {digest[:12]}… ≠ manifest {m.sha256[:12]}…")
    return f"SHA-256 {digest[:12]}… and size {size} B as in the manifest"


def _list(server: Server, path: Path, m: Manifest | None) -> str:
    out = bytearray()
    with path.open("rb") as fh:
        done = server.run(["pg_restore", "--list"], source=blocks(fh), sink=out.extend)
    if not done.ok:
        raise StepFailed("list", f"pg_restore --list: {done.error}")
    header = out[:4096].decode("utf-8", "replace")
    dbname = next(
        (ln.split(":", 1)[1].strip() for ln in header.splitlines() if "dbname:" in ln), None
    )
    entries = sum(1 for ln in out.decode("utf-8", "replace").splitlines() if ln and ln[0] != ";")
    if m is not None and dbname != m.database:
        raise StepFailed("list", f"the archive is of database {dbname!r}, not {m.database!r}")
    if entries == 0:
        raise StepFailed("list", "the archive lists no entries")
    return f"{entries} entries, database {dbname}"


def _create(admin: Database, name: str) -> str:
    admin.execute("create_database", identifiers={"name": (name,)})
    return f"created throwaway database {name}"


def _drop(admin: Database, name: str) -> None:
    """Drop the throwaway database whatever happened (a new session if ours broke)."""
    try:
        admin.execute("drop_database", identifiers={"name": (name,)})
    except (TargetUnreachable, psycopg.Error):
        admin.close()
        admin.execute("drop_database", identifiers={"name": (name,)})


def _jobs(server: Server, path: Path, jobs: int | None) -> int:
    if jobs is not None:
        if jobs < 1:
            raise BadInput(f"jobs must be ≥ 1, not {jobs}")
        return jobs
    if path.stat().st_size < PARALLEL_MIN_BYTES:
        return 1
    cores = int(server.client.info().get("NCPU") or 1)
    return max(1, min(cores, MAX_JOBS))


def _scratch(server: Server, target: Target, path: Path, jobs: int | None) -> tuple[int, str]:
    """(-j count, path of the seekable copy inside the container or "" for stdin)."""
    if path.name.endswith(".sql.gz"):
        return 1, ""
    n = _jobs(server, path, jobs)
    if n == 1:
        return 1, ""
    return n, f"{target.backups.server_scratch.rstrip('/')}/netzops-{secrets.token_hex(6)}.dump"


def _restore(
    server: Server, v: Verification, path: Path, name: str, scratch: tuple[int, str], plain: bool
) -> str:
    jobs, copy = scratch
    start = time.monotonic()
    if plain:
        cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-d", name]
        done = server.run(cmd, source=_gunzip(path))
    elif copy:
        try:
            with path.open("rb") as fh:
                put = server.run(["dd", f"of={copy}", "bs=1M", "status=none"], source=blocks(fh))
            if not put.ok:
                raise StepFailed("restore", f"copy into the container: {put.error}")
            cmd = ["pg_restore", "--exit-on-error", "-j", str(jobs), "-d", name, copy]
            done = server.run(cmd)
        finally:
            server.run(["rm", "-f", copy])
    else:
        with path.open("rb") as fh:
            done = server.run(["pg_restore", "--exit-on-error", "-d", name], source=blocks(fh))
    v.restore_seconds = round(time.monotonic() - start, 3)
    if not done.ok:
        raise StepFailed("restore", done.error)
    how = f"pg_restore -j {jobs}" if jobs > 1 else ("psql" if plain else "pg_restore")
    return f"{how} into {name} in {v.restore_seconds:g} s"


def _gunzip(path: Path) -> Iterator[bytes]:
    """The plain SQL of a .sql.gz in blocks; a truncated or corrupt file raises StepFailed
    (psql then gets no more input and the single transaction rolls back)."""
    try:
        with gzip.open(path, "rb") as fh:
            while block := fh.read(BLOCK):
                yield block
    except (OSError, EOFError, zlib.error) as exc:
        raise StepFailed("restore", f"gzip: {_one_line(exc)}") from None


def _counts(db: Database, v: Verification, m: Manifest | None) -> str:
    v.counts = row_counts(db)
    if m is None:
        return f"{len(v.counts)} tables, {sum(v.counts.values())} rows (no manifest to compare)"
    differ = {
        t: (m.tables.get(t), v.counts.get(t))
        for t in sorted(set(m.tables) | set(v.counts))
        if m.tables.get(t) != v.counts.get(t)
    }
    if differ:
        first = next(iter(differ))
        want, got = differ[first]
        raise StepFailed(
            "row counts",
            f"{len(differ)} table(s) differ from the manifest, first {first}: "
            f"{got} restored, {want} in the manifest",
        )
    return f"{len(v.counts)} tables, {sum(v.counts.values())} rows, as in the manifest"


@dataclass(frozen=True)
class Present:
    present: bool


@dataclass(frozen=True)
class Index:
    oid: int
    schema: str
    index_name: str


def _amcheck(db: Database, heapallindexed: bool) -> str:
    if not db.rows("extension_available", Present, {"name": "amcheck"})[0].present:
        return "amcheck is not available on this server: skipped"
    db.execute("create_amcheck")
    indexes = db.rows("btree_indexes", Index)
    for ix in indexes:
        try:
            db.rows("bt_index_check", Present, {"oid": ix.oid, "heap": heapallindexed})
        except psycopg.Error as exc:
            raise StepFailed("amcheck", f"{ix.schema}.{ix.index_name}: {_one_line(exc)}") from None
    deep = " (with heapallindexed)" if heapallindexed else ""
    return f"{len(indexes)} B-tree indexes checked{deep}"


def _record(path: Path, v: Verification, total: float) -> None:
    """`<stem>.verify.json`: the outcome, and the size and mtime of the file it saw."""
    st = path.stat()
    data: dict[str, Any] = {
        "file": path.name,
        "ok": v.failed is None,
        "failed_step": v.failed.step if v.failed else None,
        "reason": str(v.failed) if v.failed else None,
        "verified_at": datetime.now(UTC).isoformat(),
        "restore_seconds": v.restore_seconds,
        "verify_seconds": total,
        "size_bytes": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "steps": [vars(s) for s in v.steps],
        "row_counts": v.counts,
    }
    write_json(verify_path(path), data)


def _result(target: Target, path: Path, v: Verification, total: float) -> Outcome:
    metrics: dict[str, float] = {
        "backup.verified": float(v.failed is None),
        "backup.size_bytes": float(path.stat().st_size),
        "backup.verify_seconds": total,
    }
    if v.restore_seconds is not None and v.failed is None:
        metrics["backup.rto_seconds"] = v.restore_seconds
    newest = latest_verified(target)
    if newest is not None:
        metrics["backup.rpo_seconds"] = round(newest.age_hours * 3600, 1)
    findings = (
        [
            Finding(
                "backup_verify",
                path.name,
                Priority.P1,
                f"{path.name}: {v.failed.step} failed: {v.failed}"[:300],
            )
        ]
        if v.failed
        else []
    )
    notes = [] if v.failed else [f"{path.name} restores: verified"]
    title = f"Backup verification — {path.name}"
    return Outcome(v.steps, findings, metrics, notes, title=title)

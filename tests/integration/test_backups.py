"""Backups proven by restore, on the real sandbox: the dump and its manifest compared with
what pg_restore and psql say; broken copies refused with a P1 naming the file and the
step, the live database untouched; the guarded restore after deleting rows."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from docker import DockerClient

from netzops import backups
from netzops.backups.archive import Manifest, dump, manifest_path
from netzops.backups.catalog import verify_path
from netzops.errors import BadInput, GuardRefused
from netzops.results import Result
from netzops.sandbox import stack
from netzops.targets import Target
from tests.conftest import psql, sh

POSTGRES = "netzwaechter-postgres"
TABLES = ("users", "sites", "alerts", "measurements")


def live_state() -> dict[str, str]:
    """Each table's count and content hash, and the list of databases, as psql sees them."""
    state = {"databases": psql("SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database")}
    for t in TABLES:
        state[t] = psql(
            f"SELECT count(*) || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY x.id), ''))"
            f" FROM {t} x"
        )
    return state


def copy_rows(dump_file: Path) -> dict[str, int]:
    """Rows per table in a custom-format dump, counted in `pg_restore --data-only -f -`."""
    with dump_file.open("rb") as fh:
        out = subprocess.run(
            ["docker", "exec", "-i", POSTGRES, "pg_restore", "--data-only", "-f", "-"],
            stdin=fh,
            capture_output=True,
            check=True,
            timeout=120,
        ).stdout.decode()
    counts: dict[str, int] = {}
    table = None
    for line in out.splitlines():
        if line.startswith("COPY "):
            table = line.split()[1]
            counts[table] = 0
        elif line == "\\.":
            table = None
        elif table:
            counts[table] += 1
    return counts


def throwaways() -> str:
    return psql(
        "SELECT string_agg(datname, ',') FROM pg_database WHERE datname LIKE 'netzops_verify_%'"
    )


def secrets(target: Target) -> list[str]:
    values = target.resolve_secrets()
    assert len(values) >= 3
    return values


@pytest.fixture(scope="module")
def made(client: DockerClient, target: Target) -> tuple[Result, Path]:
    result = backups.make(client, target)
    assert not result.findings, result.findings
    path = backups.backup_dir(target) / result.rows[0]["file"]
    return result, path


@pytest.fixture(scope="module")
def verified(client: DockerClient, target: Target, made: tuple[Result, Path]) -> Result:
    return backups.verify(client, target, made[1].name)


def test_backup_has_a_manifest_that_pg_restore_and_psql_confirm(
    made: tuple[Result, Path], target: Target
) -> None:
    result, path = made
    m = Manifest.read(manifest_path(path))
    assert path.name == m.file and path.name.startswith("netzwaechter-") and path.suffix == ".dump"
    assert m.database == "netzwaechter" and m.target == "sandbox" and m.kind == "backup"
    assert m.size_bytes == path.stat().st_size
    assert m.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    server = psql("SHOW server_version")
    assert m.server_version == server
    assert server.split(".")[0] in m.pg_dump_version.split(")")[1].split(".")[0]
    assert m.started <= m.ended
    in_dump = copy_rows(path)
    assert m.tables == in_dump
    live = {f"public.{t}": int(psql(f"SELECT count(*) FROM {t}")) for t in TABLES}
    assert m.tables == live
    assert result.metrics["backup.rows"] == sum(live.values())
    with path.open("rb") as fh:
        toc = subprocess.run(
            ["docker", "exec", "-i", POSTGRES, "pg_restore", "--list"],
            stdin=fh,
            capture_output=True,
            check=True,
            timeout=120,
        ).stdout.decode()
    assert ";     dbname: netzwaechter" in toc
    assert f"Dumped from database version: {server}" in toc


def test_verified_by_restore_with_equal_counts_and_rpo_rto(
    verified: Result, made: tuple[Result, Path], target: Target
) -> None:
    _, path = made
    assert not verified.findings, verified.findings
    steps = {r["step"]: r for r in verified.rows}
    assert list(steps) == [
        "manifest",
        "checksum",
        "list",
        "create",
        "restore",
        "row counts",
        "amcheck",
    ]
    assert all(r["ok"] for r in verified.rows)
    assert "as in the manifest" in steps["row counts"]["detail"]
    indexes = int(psql("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'"))
    assert f"{indexes} B-tree indexes checked" == steps["amcheck"]["detail"]
    assert 0 < verified.metrics["backup.rto_seconds"] < verified.metrics["backup.verify_seconds"]
    assert 0 <= verified.metrics["backup.rpo_seconds"] < 600
    record = json.loads(verify_path(path).read_text())
    assert record["ok"] and record["restore_seconds"] == verified.metrics["backup.rto_seconds"]
    assert record["row_counts"] == Manifest.read(manifest_path(path)).tables
    assert throwaways() == ""
    newest = backups.latest_verified(target)
    assert newest is not None and newest.file == path.name and newest.verified
    listed = backups.catalog(target)
    row = next(r for r in listed.rows if r["file"] == path.name)
    assert row["verified"] and row["size_bytes"] == path.stat().st_size
    assert listed.metrics["backup.rpo_seconds"] >= verified.metrics["backup.rpo_seconds"]


def test_no_password_in_manifest_verification_or_results(
    made: tuple[Result, Path], verified: Result, target: Target
) -> None:
    _, path = made
    texts = [
        manifest_path(path).read_text(),
        verify_path(path).read_text(),
        json.dumps(made[0].to_json()),
        json.dumps(verified.to_json()),
    ]
    for secret in secrets(target):
        assert all(secret not in text for text in texts)


# --- refusals -------------------------------------------------------------------------------


def _copy(src: Path, name: str, manifest: bool = True) -> Path:
    dst = src.with_name(f"{name}.dump")
    shutil.copyfile(src, dst)
    if manifest:
        data = json.loads(manifest_path(src).read_text()) | {"file": dst.name}
        manifest_path(dst).write_text(json.dumps(data))
    return dst


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def foreign(
    client: DockerClient, target: Target, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """A custom-format backup (with manifest) of another database on the same server."""
    psql("DROP DATABASE IF EXISTS netzops_foreign")
    psql("CREATE DATABASE netzops_foreign")
    try:
        psql(
            "CREATE TABLE users (id int PRIMARY KEY, name text); INSERT INTO users VALUES (1, 'x')",
            dbname="netzops_foreign",
        )
        folder = tmp_path_factory.mktemp("foreign")
        m = dump(client, target, database="netzops_foreign", folder=folder)
        yield folder / m.file
    finally:
        psql("DROP DATABASE IF EXISTS netzops_foreign")


def _broken(kind: str, good: Path, foreign: Path) -> tuple[Path, str, str]:
    """(the broken backup, the step expected to fail, a word its reason must hold)."""
    stem = good.name.removesuffix(".dump")
    if kind == "truncated":
        path = _copy(good, f"{stem}-truncated")
        _truncate(path)
        return path, "checksum", "size"
    if kind == "flipped":
        path = _copy(good, f"{stem}-flipped")
        _flip(path)
        return path, "checksum", "SHA-256"
    if kind == "foreign":
        path = good.with_name(foreign.name)
        shutil.copyfile(foreign, path)
        shutil.copyfile(manifest_path(foreign), manifest_path(path))
        return path, "manifest", "netzops_foreign"
    if kind == "foreign-disguised":  # another database's archive, its manifest rewritten
        path = good.with_name(f"{stem}-disguised.dump")
        shutil.copyfile(foreign, path)
        m = json.loads(manifest_path(foreign).read_text())
        m |= {"file": path.name, "database": "netzwaechter"}
        manifest_path(path).write_text(json.dumps(m))
        return path, "list", "netzops_foreign"
    if kind == "truncated-no-manifest":
        path = _copy(good, f"{stem}-cut", manifest=False)
        _truncate(path)
        return path, "restore", "pg_restore"
    if kind == "flipped-no-manifest":
        path = _copy(good, f"{stem}-bitrot", manifest=False)
        _flip(path)
        return path, "restore", "pg_restore"
    assert kind == "empty"
    path = good.with_name(f"{stem}-empty.dump")
    path.write_bytes(b"")
    return path, "checksum", "empty"


@pytest.mark.parametrize(
    "kind",
    [
        "truncated",
        "flipped",
        "foreign",
        "foreign-disguised",
        "truncated-no-manifest",
        "flipped-no-manifest",
        "empty",
    ],
)
def test_broken_backups_are_refused_with_a_p1_and_the_live_database_untouched(
    kind: str, client: DockerClient, target: Target, made: tuple[Result, Path], foreign: Path
) -> None:
    path, step, word = _broken(kind, made[1], foreign)
    try:
        before = live_state()
        result = backups.verify(client, target, path.name)
        after = live_state()
        assert after == before
        assert throwaways() == ""
        assert [f.priority.name for f in result.findings] == ["P1"], result.findings
        summary = result.findings[0].summary
        assert summary.startswith(f"{path.name}: {step} failed:"), summary
        assert word in summary, summary
        failed = [r for r in result.rows if not r["ok"]]
        assert [r["step"] for r in failed] == [step]
        assert result.rows[-1]["step"] == step  # nothing ran after the first failure
        assert (
            result.metrics["backup.verified"] == 0.0 and "backup.rto_seconds" not in result.metrics
        )
        record = json.loads(verify_path(path).read_text())
        assert not record["ok"] and record["failed_step"] == step
        assert backups.latest_verified(target).file == made[1].name  # type: ignore[union-attr]
        with pytest.raises(BadInput, match=r"not verified|a backup of|only a netzops backup"):
            backups.restore(client, target, path.name)
    finally:
        for f in (path, manifest_path(path), verify_path(path)):
            f.unlink(missing_ok=True)


def test_the_runbooks_plain_backup_is_verified_and_a_cut_one_refused(
    client: DockerClient, target: Target, made: tuple[Result, Path]
) -> None:
    """`pg_dump -U postgres netzwaechter | gzip > backup.sql.gz`, the runbook's quick
    reference; its `gunzip -c | head -n 100` check passes for the cut copy too."""
    folder = made[1].parent
    plain = folder / "netzwaechter-runbook.sql.gz"
    cut = folder / "netzwaechter-runbook-cut.sql.gz"
    sql = subprocess.run(
        ["docker", "exec", POSTGRES, "pg_dump", "-U", "postgres", "netzwaechter"],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    try:
        plain.write_bytes(gzip.compress(sql))
        data = plain.read_bytes()
        cut.write_bytes(data[: len(data) // 2])
        head = subprocess.run(
            f"gunzip -c {cut} | head -n 100", shell=True, capture_output=True, check=False
        )
        assert len(head.stdout.splitlines()) == 100  # the runbook's check proves nothing
        before = live_state()
        good = backups.verify(client, target, plain.name)
        assert not good.findings, good.findings
        counts = next(r for r in good.rows if r["step"] == "row counts")["detail"]
        total = sum(int(psql(f"SELECT count(*) FROM {t}")) for t in TABLES)
        assert f"{total} rows" in counts
        bad = backups.verify(client, target, cut.name)
        assert [f.priority.name for f in bad.findings] == ["P1"]
        assert bad.findings[0].summary.startswith(f"{cut.name}: restore failed:")
        assert live_state() == before and throwaways() == ""
    finally:
        for f in (plain, cut, verify_path(plain), verify_path(cut)):
            f.unlink(missing_ok=True)


# --- guarded restore ------------------------------------------------------------------------


def _backend_ids() -> list[str]:
    return sh(
        "docker",
        "ps",
        "-q",
        "--no-trunc",
        "--filter",
        "label=com.docker.compose.project=netzwaechter",
        "--filter",
        "label=com.docker.compose.service=backend",
    ).split()


def _api_users() -> int:
    port = sh(
        "docker",
        "port",
        sorted(
            sh(
                "docker",
                "ps",
                "--format",
                "{{.Names}}",
                "--filter",
                "label=com.docker.compose.service=backend",
            ).split()
        )[0],
        "5000",
    ).split()[0]
    return httpx.get(f"http://{port}/api/users", timeout=10).status_code


def test_confirmed_restore_brings_deleted_rows_back_and_unconfirmed_changes_nothing(
    client: DockerClient, target: Target, made: tuple[Result, Path], verified: Result
) -> None:
    path = made[1]
    m = Manifest.read(manifest_path(path))
    safety_before = {p.name for p in path.parent.glob("*-pre-restore.dump")}
    try:
        psql("DELETE FROM users WHERE username IN ('viewer41', 'viewer42', 'viewer43')")
        psql("DELETE FROM alerts WHERE id <= 100")
        damaged = live_state()
        ids = _backend_ids()
        dry = backups.restore(client, target, path.name)
        assert dry.actions[0]["dry_run"] and "confirm with: restore_backup@sandbox#" in dry.notes[0]
        assert live_state() == damaged and _backend_ids() == ids
        assert {p.name for p in path.parent.glob("*-pre-restore.dump")} == safety_before
        with pytest.raises(GuardRefused):
            backups.restore(
                client, target, path.name, confirm="restore_backup@sandbox#000000000000"
            )
        assert live_state() == damaged
        confirmation = dry.notes[0].rsplit(" ", 1)[1]
        done = backups.restore(client, target, path.name, confirm=confirmation)
        audit = done.actions[0]
        assert not done.findings, (done.findings, audit["outcome"])
        assert audit["verified"] is True and not audit["dry_run"]
        assert audit["before"]["row_counts"]["public.users"] == m.tables["public.users"] - 3
        live = {f"public.{t}": int(psql(f"SELECT count(*) FROM {t}")) for t in TABLES}
        assert live == m.tables
        assert psql("SELECT count(*) FROM users WHERE username = 'viewer42'") == "1"
        assert _api_users() == 200
        new = {p.name for p in path.parent.glob("*-pre-restore.dump")} - safety_before
        assert len(new) == 1 and new.pop() in audit["outcome"]
        safety = next(
            p for p in path.parent.glob("*-pre-restore.dump") if p.name not in safety_before
        )
        sm = Manifest.read(manifest_path(safety))
        assert sm.kind == "safety" and sm.tables["public.users"] == m.tables["public.users"] - 3
        assert copy_rows(safety)["public.users"] == m.tables["public.users"] - 3
        for secret in secrets(target):
            assert (
                secret not in json.dumps(done.to_json())
                and secret not in manifest_path(safety).read_text()
            )
    finally:
        if psql("SELECT count(*) FROM users") != str(m.tables["public.users"]):
            with path.open("rb") as fh:  # put the sandbox back whatever happened
                subprocess.run(
                    [
                        "docker",
                        "exec",
                        "-i",
                        POSTGRES,
                        "pg_restore",
                        "-U",
                        "postgres",
                        "--clean",
                        "--if-exists",
                        "--single-transaction",
                        "-d",
                        "netzwaechter",
                    ],
                    stdin=fh,
                    check=True,
                    timeout=300,
                )
        stack.up(target)  # grants and the deliberate dead tuples (on-up.sql), backend healthy


def test_parallel_restore_reads_a_copy_inside_the_container_and_removes_it(
    client: DockerClient, target: Target, made: tuple[Result, Path]
) -> None:
    result = backups.verify(client, target, made[1].name, jobs=2, amcheck=False)
    assert not result.findings, result.findings
    restore = next(r for r in result.rows if r["step"] == "restore")
    assert restore["detail"].startswith("pg_restore -j 2 into netzops_verify_")
    scratch = target.backups.server_scratch
    left = sh("docker", "exec", POSTGRES, "ls", "-a", scratch).split()
    assert not [name for name in left if name.startswith("netzops-")]
    assert throwaways() == ""

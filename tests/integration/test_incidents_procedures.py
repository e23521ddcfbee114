"""The runbook's Emergency Procedures as guarded plans, on the real sandbox: each is a dry run
by default (nothing changes, as `docker inspect` shows), a wrong confirmation is refused, the
evidence is verifiable with `sha256sum -c`, and a confirmed complete-outage run brings every
service back healthy with the smoke tests passing (checked with curl and `docker ps`)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from secrets import token_hex

import httpx
import pytest
from docker import DockerClient

from netzops import backups, incidents
from netzops.backups import Manifest
from netzops.backups.archive import for_database, manifest_path
from netzops.errors import BadInput, GuardRefused
from netzops.incidents.actions import restore_api
from netzops.postgres.client import Database
from netzops.sandbox import stack, traffic
from netzops.targets import Target
from tests.conftest import psql, redis_cli, sh

PROJECT = "label=com.docker.compose.project=netzwaechter"
PG = "netzwaechter_postgres-data"


def _state() -> dict[str, str]:
    """container name → id and StartedAt, from `docker ps` and `docker inspect`."""
    names = sh("docker", "ps", "-a", "--filter", PROJECT, "--format", "{{.Names}}").split()
    out = sh("docker", "inspect", "-f", "{{.Name}} {{.Id}} {{.State.StartedAt}}", *names)
    return {line.split()[0].lstrip("/"): line.split(None, 1)[1] for line in out.splitlines()}


def _curl(url: str) -> str:
    return sh("curl", "-ks", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", url)


def _confirmation(result: object) -> str:
    entry = result.actions[0]  # type: ignore[attr-defined]
    return f"{entry['action']}@{entry['target']}#{entry['fingerprint']}"


def test_every_procedure_is_a_dry_run_by_default(sandbox: Target, client: DockerClient) -> None:
    before = _state()
    outage = incidents.complete_outage(client, sandbox)
    corruption = incidents.database_corruption(client, sandbox)
    breach = incidents.security_breach(client, sandbox, address="203.0.113.7")
    assert _state() == before, "a dry run changes nothing"
    for result in (outage, corruption, breach):
        (entry,) = result.actions
        assert entry["dry_run"] is True and entry["outcome"].startswith("dry run")
        assert any("confirm with" in n for n in result.notes)
    steps = [r["step"] for r in outage.rows]
    assert any(" down" in s for s in steps) and any(" up -d" in s for s in steps)
    assert any("/health" in s for s in steps) and any("/api/users" in s for s in steps)
    breach_steps = " | ".join(r["step"] for r in breach.rows)
    assert "ufw prepend deny from 203.0.113.7" in breach_steps
    for name, ref in sandbox.secrets.items():
        assert name in breach_steps
        assert all(str(place) in breach_steps for place in (ref.env, ref.file) if place)
    secrets = [s for s in sandbox.resolve_secrets() if len(s) >= 4]
    assert not any(s in breach_steps for s in secrets)
    assert "netzwaechter_postgres-data" in breach_steps


def test_database_corruption_plan_names_what_is_missing(
    sandbox: Target, client: DockerClient
) -> None:
    backups, _ = restore_api()
    result = incidents.database_corruption(client, sandbox)
    steps = [r["step"] for r in result.rows]
    assert steps[0].endswith("stop backend   (no further writes)")
    assert any(s.startswith("pg_dump -Fc netzwaechter") for s in steps)
    lacking = [s for s in steps if s.startswith("MISSING: ")]
    assert bool(lacking) == (backups is None or backups.latest_verified(sandbox) is None)
    assert len(lacking) == len(set(lacking))
    if lacking:
        before = _state()
        with pytest.raises(BadInput, match="missing"):
            incidents.database_corruption(client, sandbox, confirm=_confirmation(result))
        assert _state() == before, "refused before anything ran"


def test_wrong_or_stale_confirmation_is_refused(sandbox: Target, client: DockerClient) -> None:
    before = _state()
    with pytest.raises(GuardRefused):
        incidents.complete_outage(client, sandbox, confirm="complete_outage@sandbox#000000000000")
    with pytest.raises(GuardRefused):
        incidents.security_breach(client, sandbox, confirm="complete_outage@sandbox#x")
    with pytest.raises(BadInput):
        incidents.security_breach(client, sandbox, address="not-an-ip")
    assert _state() == before


def test_evidence_is_verifiable_with_sha256sum(sandbox: Target, client: DockerClient) -> None:
    folder = incidents.collect_evidence(client, sandbox)
    names = {p.name for p in folder.iterdir()}
    assert {"manifest.sha256", "volume-netzwaechter_postgres-data.tar.gz"} <= names
    assert any(n.startswith("logs-netzwaechter-postgres") for n in names)
    check = subprocess.run(
        ["sha256sum", "-c", "manifest.sha256"], cwd=folder, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    listed = sh("tar", "-tzf", str(folder / "volume-netzwaechter_postgres-data.tar.gz"))
    assert any(name.endswith("/PG_VERSION") for name in listed.split())


def test_confirmed_complete_outage_brings_every_service_back(
    sandbox: Target, client: DockerClient
) -> None:
    before = _state()
    dry = incidents.complete_outage(client, sandbox)
    done = incidents.complete_outage(client, sandbox, confirm=_confirmation(dry))
    (entry,) = done.actions
    assert entry["dry_run"] is False and entry["verified"] is True, entry["outcome"]
    after = _state()
    assert set(after) >= {"netzwaechter-postgres", "netzwaechter-redis", "netzwaechter-frontend"}
    assert not set(before.values()) & set(after.values()), "every container is new"
    ps = sh("docker", "ps", "--filter", PROJECT, "--format", "{{.Names}} {{.Status}}")
    assert all("(healthy)" in line for line in ps.splitlines()), ps
    base = sandbox.http.frontend_url.rstrip("/")
    assert _curl(f"{base}/health") == "200" and _curl(f"{base}/api/users") == "200"
    evidence = Path(entry["outcome"].rsplit("evidence ", 1)[1])
    assert (evidence / "ps.json").exists() and (evidence / "logs-tail100.txt").exists()


# --- database corruption, confirmed, on a scratch database ------------------------------------
# The procedure targets a throwaway database on the sandbox's server (backups' for_database),
# never netzwaechter itself; only the backend's stop and start touch the real stack.


def _table_state(db: str) -> dict[str, str]:
    """Each scratch table's row count and content hash, as psql sees them."""
    return {
        f"public.{t}": psql(
            f"SELECT count(*) || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY x.id), ''))"
            f" FROM {t} x",
            dbname=db,
        )
        for t in ("users", "alerts")
    }


def _counts(state: dict[str, str]) -> dict[str, int]:
    return {t: int(v.split(":")[0]) for t, v in state.items()}


@pytest.fixture
def scratch(
    client: DockerClient, sandbox: Target
) -> Iterator[tuple[Target, Manifest, dict[str, str]]]:
    """A throwaway database with two tables, its backup verified by restore, and the
    tables' state at backup time; dropped (and its backup files deleted) afterwards."""
    name = f"netzops_scratch_{token_hex(3)}"
    psql(f"CREATE DATABASE {name}")
    target = for_database(sandbox, name)
    try:
        psql(
            "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL)",
            "INSERT INTO users SELECT g, 'user' || g FROM generate_series(1, 40) g",
            "CREATE TABLE alerts (id int PRIMARY KEY, user_id int REFERENCES users, note text)",
            "INSERT INTO alerts SELECT g, 1 + g % 40, 'alert ' || g FROM generate_series(1, 300) g",
            dbname=name,
        )
        made = backups.make(client, target)
        assert not made.findings, made.findings
        path = backups.backup_dir(target) / made.rows[0]["file"]
        checked = backups.verify(client, target, path.name, amcheck=False)
        assert not checked.findings, checked.findings
        m = Manifest.read(manifest_path(path))
        state = _table_state(name)
        assert m.database == name and m.tables == _counts(state)
        yield target, m, state
    finally:
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        for f in backups.backup_dir(sandbox).glob(f"{name}-*"):
            f.unlink()


def _dump_rows(dump: Path, table: str) -> int:
    """Rows of `table` in a custom-format dump, counted in `pg_restore -a -t <table> -f -`."""
    with dump.open("rb") as fh:
        out = subprocess.run(
            [
                "docker",
                "exec",
                "-i",
                "netzwaechter-postgres",
                "pg_restore",
                "-a",
                "-t",
                table,
                "-f",
                "-",
            ],
            stdin=fh,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
    copy = out.split(f"COPY public.{table} ", 1)[1].split("\n\\.\n", 1)[0]
    return len(copy.splitlines()) - 1


def _backend_serving() -> None:
    ps = sh(
        "docker",
        "ps",
        "--filter",
        PROJECT,
        "--filter",
        "label=com.docker.compose.service=backend",
        "--format",
        "{{.Status}}",
    )
    assert ps.strip() and all("(healthy)" in s for s in ps.splitlines()), ps


def test_confirmed_database_corruption_restores_the_verified_backup(
    scratch: tuple[Target, Manifest, dict[str, str]], client: DockerClient
) -> None:
    target, m, good = scratch
    db = target.postgres.dbname
    psql(
        "DELETE FROM alerts WHERE user_id > 35",
        "DELETE FROM users WHERE id > 35",
        "UPDATE alerts SET note = 'tampered' WHERE id <= 10",
        dbname=db,
    )
    damaged = _table_state(db)
    dry = incidents.database_corruption(client, target)
    steps = [r["step"] for r in dry.rows]
    assert not any(s.startswith("MISSING") for s in steps) and m.file in steps[2], steps
    done = incidents.database_corruption(client, target, confirm=_confirmation(dry))
    entry, restore = done.actions
    assert not done.findings and entry["verified"] is True, (done.findings, entry["outcome"])
    assert entry["details"]["row_counts"] == m.tables
    assert entry["before"]["differ"] == {
        t: [n, m.tables[t]] for t, n in _counts(damaged).items() if n != m.tables[t]
    }
    assert entry["after"]["differ"] == {} and all(r["ok"] for r in entry["after"]["smoke"])
    assert restore["action"] == "restore_backup" and restore["verified"] is True
    assert restore["details"]["backup"] == m.file
    assert done.metrics["restore.verified"] == 1.0
    assert done.metrics["restore.tables_differing"] == 0.0
    assert _table_state(db) == good, "psql: every row as in the backup, content too"
    assert _counts(_table_state(db)) == m.tables
    safety = Path(entry["outcome"].split("safety dump ", 1)[1].split(";", 1)[0])
    assert _dump_rows(safety, "users") == _counts(damaged)["public.users"], "the damaged state"
    _backend_serving()
    assert _curl(f"{target.http.frontend_url.rstrip('/')}/api/users") == "200"


def test_database_corruption_whose_restore_fails_verification_is_a_p1(
    scratch: tuple[Target, Manifest, dict[str, str]], client: DockerClient
) -> None:
    """A view created after the backup depends on alerts: pg_restore --clean cannot drop
    the table, the single transaction rolls back and the damage stays."""
    target, m, _ = scratch
    db = target.postgres.dbname
    psql(
        "DELETE FROM alerts WHERE id > 100",
        "CREATE VIEW recent_alerts AS SELECT * FROM alerts WHERE id > 50",
        dbname=db,
    )
    dry = incidents.database_corruption(client, target)
    done = incidents.database_corruption(client, target, confirm=_confirmation(dry))
    entry, restore = done.actions
    assert entry["verified"] is False and restore["verified"] is False
    assert "NOT restored (rolled back)" in restore["outcome"]
    (finding,) = done.findings
    assert finding.check == "database_corruption" and finding.priority.name == "P1"
    assert finding.subject == db
    assert (
        f"public.alerts: 100 rows now, {m.tables['public.alerts']} in the backup" in finding.summary
    )
    assert entry["after"]["differ"] == {"public.alerts": [100, m.tables["public.alerts"]]}
    assert done.metrics["restore.verified"] == 0.0
    assert done.metrics["restore.tables_differing"] == 1.0
    assert _counts(_table_state(db)) == {"public.users": 40, "public.alerts": 100}
    assert psql("SELECT count(*) FROM recent_alerts", dbname=db) == "50"
    _backend_serving()


# --- security breach, confirmed, on the sandbox -----------------------------------------------


def _log_lines(container: str) -> set[str]:
    """Every line `docker logs --timestamps` prints for the container (both streams)."""
    done = subprocess.run(
        ["docker", "logs", "--timestamps", container],
        capture_output=True,
        text=True,
        errors="surrogateescape",
        check=True,
        timeout=60,
    )
    return set((done.stdout + done.stderr).splitlines())


def _secret_files(target: Target) -> dict[str, str]:
    return {
        name: hashlib.sha256(Path(ref.file).expanduser().read_bytes()).hexdigest()
        for name, ref in target.secrets.items()
        if ref.file
    }


def test_confirmed_security_breach_keeps_evidence_stops_and_changes_no_credential(
    sandbox: Target, client: DockerClient
) -> None:
    """Evidence first, compared with docker; every service stopped with its container kept;
    nothing rotated, blocked or flushed (the isolation and the rotation are a checklist);
    afterwards the sandbox is brought back and every credential still works."""
    base = sandbox.http.frontend_url.rstrip("/")
    with httpx.Client(base_url=base, verify=False, timeout=10) as http:
        login = http.post("/api/login", json={"username": "viewer1", "password": traffic.PASSWORD})
    assert login.status_code == 200, login.text[:200]
    session = login.json()["session"]
    names = sh("docker", "ps", "-a", "--filter", PROJECT, "--format", "{{.Names}}").split()
    logged = {n: _log_lines(n) for n in names}
    volumes = sh("docker", "volume", "ls", "-q", "--filter", PROJECT).split()
    mounts = {
        v: Path(sh("docker", "volume", "inspect", "-f", "{{.Mountpoint}}", v).strip())
        for v in volumes
    }
    tops = {  # top-level files and folders, less Redis's transient temp-<pid>.rdb
        v: {
            f"./{p.name}"
            for p in m.iterdir()
            if (p.is_file() or p.is_dir()) and not p.name.startswith("temp-")
        }
        for v, m in mounts.items()
    }
    secret_files = _secret_files(sandbox)
    before = _state()
    address = "203.0.113.9"
    dry = incidents.security_breach(client, sandbox, address=address)
    try:
        done = incidents.security_breach(
            client, sandbox, address=address, confirm=_confirmation(dry)
        )
        (entry,) = done.actions
        assert entry["dry_run"] is False and entry["outcome"].endswith("services stopped")
        status = sh("docker", "inspect", "-f", "{{.Name}} {{.Id}} {{.State.Status}}", *names)
        stopped = {ln.split()[0].lstrip("/"): ln.split()[1:] for ln in status.splitlines()}
        assert {n: s[0] for n, s in stopped.items()} == {n: before[n].split()[0] for n in names}
        assert {s[1] for s in stopped.values()} == {"exited"}, stopped
        folder = Path(entry["outcome"].split("evidence in ", 1)[1].split(" (manifest", 1)[0])
        check = subprocess.run(
            ["sha256sum", "-c", "manifest.sha256"], cwd=folder, capture_output=True, text=True
        )
        assert check.returncode == 0, check.stdout + check.stderr
        listed = {
            ln.split("  ", 1)[1] for ln in (folder / "manifest.sha256").read_text().splitlines()
        }
        assert listed == {p.name for p in folder.iterdir()} - {"manifest.sha256"}
        for n in names:  # every line docker had before ⊆ the evidence ⊆ what docker has now
            kept = set((folder / f"logs-{n}.txt").read_text(errors="surrogateescape").splitlines())
            assert logged[n] <= kept <= _log_lines(n), n
        for v, top in tops.items():  # what each volume held when the evidence was taken
            tar = sh("tar", "-tzf", str(folder / f"volume-{v}.tar.gz")).split()
            assert top <= {t.rstrip("/") for t in tar}, (v, top)
        pg = str(folder / f"volume-{PG}.tar.gz")
        version = next(t for t in sh("tar", "-tzf", pg).split() if t.endswith("/PG_VERSION"))
        assert sh("tar", "-xzOf", pg, version) == (mounts[PG] / version).read_text()
        texts = [
            p.read_text(errors="replace") for p in folder.iterdir() if not p.name.endswith(".gz")
        ]
        texts += [json.dumps(done.to_json())]
        for secret in (s for s in sandbox.resolve_secrets() if len(s) >= 4):
            assert not any(secret in t for t in texts)
        steps = " | ".join(r["step"] for r in done.rows)
        assert f"ufw prepend deny from {address}" in steps  # planned for the host, never run
        assert address not in sh("iptables-save")
        assert _secret_files(sandbox) == secret_files, "no secret rotated"
    finally:
        stack.up(sandbox)
    ps = sh("docker", "ps", "--filter", PROJECT, "--format", "{{.Names}} {{.Status}}")
    assert len(ps.splitlines()) == len(names) and all(
        "(healthy)" in ln for ln in ps.splitlines()
    ), ps
    assert redis_cli("PING").strip() == "PONG"  # redis_password
    assert redis_cli("EXISTS", f"session:{session}").strip() == "1", "sessions not flushed"
    with httpx.Client(base_url=base, verify=False, timeout=10) as http:
        assert http.get("/api/me", headers={"X-Session-Id": session}).status_code == 200
        again = http.post("/api/login", json={"username": "viewer1", "password": traffic.PASSWORD})
        assert again.status_code == 200 and http.get("/api/users").status_code == 200
    for role in ("admin", "monitor"):  # postgres_password, monitor_password over TCP
        db = Database(sandbox, role)
        try:
            row = db.connection().execute("SELECT current_user").fetchone()
            assert row is not None and row[0] == db.user
        finally:
            db.close()

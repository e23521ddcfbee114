"""The runbook's Emergency Procedures as guarded plans, on the real sandbox: each is a dry run
by default (nothing changes, as `docker inspect` shows), a wrong confirmation is refused, the
evidence is verifiable with `sha256sum -c`, and a confirmed complete-outage run brings every
service back healthy with the smoke tests passing (checked with curl and `docker ps`)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from docker import DockerClient

from netzops import incidents
from netzops.errors import BadInput, GuardRefused
from netzops.incidents.actions import restore_api
from netzops.targets import Target
from tests.conftest import sh

PROJECT = "label=com.docker.compose.project=netzwaechter"


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
    assert "ufw insert 1 deny from 203.0.113.7" in breach_steps
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

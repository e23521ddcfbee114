"""The maintenance schedule from real evidence, log rotation against docker inspect, the
docker prune plan against docker ps/images, security updates against apt-get."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from docker import DockerClient

from netzops import backups, maintenance
from netzops.targets import Target
from tests.conftest import sh

RUNBOOK_ITEMS = {  # runbook "Regular Maintenance Schedule", every item
    "daily": ["Review error logs", "Check disk space", "Verify backups completed"],
    "weekly": [
        "Review performance metrics",
        "Clean Docker system (docker system prune -f)",
        "Check for security updates",
    ],
    "monthly": [
        "Rotate logs",
        "Update dependencies",
        "Review user access",
        "Test backup restoration",
        "Performance tuning",
    ],
    "quarterly": [
        "Rotate credentials",
        "Security audit",
        "Disaster recovery test",
        "Capacity planning review",
    ],
}


@pytest.fixture()
def clean_outputs(tmp_path: Path) -> Iterator[Path]:
    """An outputs folder with no records, no ledger and no backups."""
    old = os.environ["NETZOPS_OUTPUTS"]
    os.environ["NETZOPS_OUTPUTS"] = str(tmp_path)
    try:
        yield tmp_path
    finally:
        os.environ["NETZOPS_OUTPUTS"] = old


def _rows(client: DockerClient, target: Target) -> dict[str, dict[str, str]]:
    result = maintenance.schedule(client, target)
    return {r["item"]: r for r in result.rows}


def test_every_item_of_the_runbook_with_a_status(client: DockerClient, target: Target) -> None:
    result = maintenance.schedule(client, target)
    shown: dict[str, list[str]] = {}
    for r in result.rows:
        shown.setdefault(r["every"], []).append(r["item"])
        assert r["status"] in ("done", "due", "overdue")
        assert r["evidence"]
    assert shown == RUNBOOK_ITEMS
    counts = {s: sum(r["status"] == s for r in result.rows) for s in ("done", "due", "overdue")}
    assert {k: result.metrics[f"maintenance.{k}"] for k in counts} == counts
    overdue = {f.subject for f in result.findings if f.check == "maintenance"}
    assert overdue == {r["item"] for r in result.rows if r["status"] == "overdue"}


def test_backup_items_follow_the_backups_made_and_verified(
    client: DockerClient, target: Target, clean_outputs: Path
) -> None:
    rows = _rows(client, target)
    assert rows["Verify backups completed"]["status"] == "overdue"
    assert rows["Test backup restoration"]["status"] == "overdue"
    assert rows["Disaster recovery test"]["status"] == "overdue"
    made = backups.make(client, target)
    name = made.rows[0]["file"]
    rows = _rows(client, target)
    assert rows["Verify backups completed"]["status"] == "done"
    assert name in rows["Verify backups completed"]["evidence"]
    assert rows["Test backup restoration"]["status"] == "overdue"
    backups.verify(client, target, name)
    rows = _rows(client, target)
    assert rows["Test backup restoration"]["status"] == "done"
    assert name in rows["Test backup restoration"]["evidence"]
    assert rows["Review error logs"]["status"] == "overdue"  # no ledger here


def test_a_person_marks_the_security_audit_done(
    client: DockerClient, target: Target, clean_outputs: Path
) -> None:
    assert _rows(client, target)["Security audit"]["status"] == "overdue"
    maintenance.mark_done(target, "Security audit", "checked ports and grants")
    row = _rows(client, target)["Security audit"]
    assert row["status"] == "done" and "checked ports and grants" in row["evidence"]
    with pytest.raises(Exception, match="no maintenance item"):
        maintenance.mark_done(target, "Water the plants")


def test_disk_and_credentials_match_df_and_stat(client: DockerClient, target: Target) -> None:
    rows = _rows(client, target)
    df = sh("df", "--output=pcent", "/").splitlines()[1].strip().rstrip("%")
    assert f"mount / at {int(df)} %" in rows["Check disk space"]["evidence"] or (
        f"mount / at {int(df) - 1} %" in rows["Check disk space"]["evidence"]
    )
    files = [Path(r.file).expanduser() for r in target.secrets.values() if r.file]
    oldest = min(f.stat().st_mtime for f in files)
    last = datetime.fromisoformat(rows["Rotate credentials"]["last_done"])
    assert abs(last.timestamp() - oldest) < 1
    assert (
        rows["Rotate credentials"]["status"]
        == ("done" if (datetime.now(UTC).timestamp() - oldest) < 92 * 86400 else "due")
        or rows["Rotate credentials"]["status"] == "overdue"
    )


def test_log_rotation_matches_docker_inspect(client: DockerClient, target: Target) -> None:
    result = maintenance.log_rotation(client, target)
    assert result.rows
    for r in result.rows:
        config = json.loads(
            sh("docker", "inspect", "-f", "{{json .HostConfig.LogConfig}}", r["container"])
        )
        assert r["driver"] == config["Type"]
        assert r["max_size"] == config["Config"].get("max-size", "")
        assert r["max_file"] == int(config["Config"].get("max-file", 1))
        log_path = Path(sh("docker", "inspect", "-f", "{{.LogPath}}", r["container"]).strip())
        sizes = sum(p.stat().st_size for p in log_path.parent.glob(log_path.name + "*"))
        assert abs(r["log_bytes"] - sizes) < 1 << 20  # the log grows while we look
        if config["Config"].get("max-size") == "10m":
            assert r["limit_bytes"] == 10 * 1024**2 * int(config["Config"]["max-file"])
    rows = _rows(client, target)
    assert rows["Rotate logs"]["status"] == (
        "done" if all(r["rotates"] for r in result.rows) else "overdue"
    )


def test_security_updates_match_apt_get() -> None:
    result = maintenance.security_updates()
    out = subprocess.run(
        ["apt-get", "-s", "-o", "Debug::NoLocking=1", "upgrade"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "LC_ALL": "C"},
    ).stdout
    inst = [ln for ln in out.splitlines() if ln.startswith("Inst ")]
    assert result.metrics["host.updates.pending"] == len(inst)
    security = [ln for ln in inst if "security" in ln.lower()]
    assert result.metrics["host.updates.security"] == len(security)
    assert {r["package"] for r in result.rows} == {ln.split()[1] for ln in inst}


def test_docker_prune_plan_lists_stopped_containers_and_frees_nothing_when_dry(
    client: DockerClient, target: Target
) -> None:
    name = "netzops-test-prune-candidate"
    sh("docker", "rm", "-f", name, check=False)
    sh(
        "docker",
        "create",
        "--name",
        name,
        "--label",
        "netzops-test=1",
        "netzwaechter/base:local",
        "/bin/true",
    )
    try:
        dry = maintenance.docker_prune(client, target)
        audit = dry.actions[0]
        assert audit["dry_run"] and audit["action"] == "docker_prune"
        planned = {c["name"] for c in audit["details"]["containers"]}
        stopped = set(
            sh(
                "docker",
                "ps",
                "-a",
                "--filter",
                "status=exited",
                "--filter",
                "status=created",
                "--filter",
                "status=dead",
                "--format",
                "{{.Names}}",
            ).split()
        )
        assert planned == stopped and name in planned
        dangling = {
            i[:12]
            for i in sh("docker", "images", "-q", "--no-trunc", "-f", "dangling=true").split()
        }
        assert {i["id"] for i in audit["details"]["images"]} <= {
            d.split(":")[-1][:12] for d in dangling
        }
        assert any(name in step["step"] for step in dry.rows)
        assert name in sh("docker", "ps", "-a", "--format", "{{.Names}}").split()  # still there
    finally:
        sh("docker", "rm", "-f", name, check=False)


def test_no_apt_means_a_p3_not_an_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    result = maintenance.security_updates()
    assert [f.priority.name for f in result.findings] == ["P3"]

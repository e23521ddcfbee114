"""The backup notebook's records: the backup it made and verified, checked against the
files, pg_restore and psql; RPO and RTO in the side-car; no password anywhere."""

from __future__ import annotations

import json

from netzops.backups import backup_dir
from netzops.backups.archive import manifest_path
from netzops.backups.catalog import verify_path
from netzops.targets import load_target
from tests.notebooks.helpers import confirmation, psql, run


def test_backup_notebook_makes_verifies_and_lists_with_rpo_and_rto() -> None:
    record = run("backup")
    assert record.exit == 0, record.side["findings"]
    made = record.result("backup_make")
    name = made["rows"][0]["file"]
    path = backup_dir(load_target("sandbox")) / name
    manifest = json.loads(manifest_path(path).read_text())
    counts = {r["table"]: r["rows"] for r in made["rows"]}
    assert counts == manifest["tables"]
    assert counts["public.users"] == int(psql("SELECT count(*) FROM users"))
    verified = record.result("backup_verify")
    assert verified["title"].endswith(name) and not record.findings("backup_verify")
    assert {r["step"] for r in verified["rows"]} >= {"checksum", "restore", "row counts"}
    rto = record.metric("backup.rto_seconds")
    assert rto == json.loads(verify_path(path).read_text())["restore_seconds"] > 0
    assert 0 <= record.metric("backup.rpo_seconds") < record.after - record.before + 60
    listed = record.result("backups")
    assert any(r["file"] == name and r["verified"] for r in listed["rows"])
    text = record.html.read_text() + json.dumps(record.side) + manifest_path(path).read_text()
    for secret in load_target("sandbox").resolve_secrets():
        assert secret not in text


def test_prune_is_a_dry_run_until_confirmed() -> None:
    folder = backup_dir(load_target("sandbox"))
    before = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    dry = run("backup", "make=false", "verify=none", "action=prune")
    assert dry.exit == 0
    assert dry.action["dry_run"] and dry.action["action"] == "prune_backups"
    assert sorted(p.name for p in folder.iterdir()) == before
    done = run(
        "backup", "make=false", "verify=none", "action=prune", f"confirm={confirmation(dry.action)}"
    )
    assert done.action["verified"] is True and not done.action["dry_run"]
    assert all(not (folder / f).exists() for f in done.action["details"]["delete"])
    assert all((folder / f).exists() for f in done.action["details"]["keep"])


def test_restore_from_the_notebook_is_a_dry_run_without_confirm() -> None:
    folder = backup_dir(load_target("sandbox"))
    safety = set(folder.glob("*-pre-restore.dump"))
    before = psql("SELECT count(*) || ':' || max(id) FROM users")
    record = run("backup", "action=restore")  # makes and verifies one first
    assert record.exit == 0, record.side["findings"]
    audit = record.action
    assert audit["dry_run"] and audit["action"] == "restore_backup"
    assert audit["details"]["backup"] == record.result("backup_make")["rows"][0]["file"]
    assert audit["details"]["backup"].endswith(".dump")
    assert any("pg_restore --clean --if-exists --single-transaction" in s for s in audit["steps"])
    assert psql("SELECT count(*) || ':' || max(id) FROM users") == before
    assert set(folder.glob("*-pre-restore.dump")) == safety

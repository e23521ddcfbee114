"""Records and a ledger written by netzops before the layout moved (commit e837709, a real
`netzops run service-status` on the sandbox) still read: the ledger verifies, `runs` lists
the run, the side-car's check names are the ones the library registers today, and the
history that trends read takes its metrics."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from netzops.checks import finding_names
from netzops.runner import ledger, trends

BEFORE = Path(__file__).resolve().parents[1] / "data" / "outputs-before-layout"


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    copy = tmp_path / "outputs"
    shutil.copytree(BEFORE, copy)
    return copy


def _sidecar(outputs: Path) -> dict[str, object]:
    (path,) = outputs.glob("sandbox/*/*-service-status.json")
    data: dict[str, object] = json.loads(path.read_text())
    return data


def test_the_old_ledger_verifies(outputs: Path) -> None:
    assert ledger.verify(outputs / "ledger.jsonl", outputs) == []
    (entry,) = ledger.entries(outputs / "ledger.jsonl")
    assert (entry["notebook"], entry["status"], entry["exit_code"]) == (
        "service-status",
        "completed",
        0,
    )


def test_tampering_with_an_old_record_is_still_found(outputs: Path) -> None:
    (html,) = outputs.glob("sandbox/*/*.html")
    html.write_text(html.read_text() + "<!-- changed -->")
    assert ledger.verify(outputs / "ledger.jsonl", outputs)


def test_the_cli_lists_and_verifies_the_old_run(outputs: Path) -> None:
    env = {**os.environ, "NETZOPS_OUTPUTS": str(outputs)}
    cli = [sys.executable, "-m", "netzops.cli"]
    verify = subprocess.run([*cli, "ledger", "verify"], env=env, capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    runs = subprocess.run([*cli, "runs"], env=env, capture_output=True, text=True, check=True)
    assert "service-status" in runs.stdout and "completed" in runs.stdout


def test_old_check_names_are_registered_today(outputs: Path) -> None:
    for name in ("netzops.containers", "netzops.postgres", "netzops.cache", "netzops.endpoints"):
        importlib.import_module(name)
    results = _sidecar(outputs)["results"]
    assert isinstance(results, list)
    names = {r["check"] for r in results}
    assert names == {"service_status", "http_health", "postgres_ping", "redis_ping"}
    assert names <= finding_names()


def test_trends_read_the_old_metrics(outputs: Path) -> None:
    (entry,) = ledger.entries(outputs / "ledger.jsonl")
    now = datetime.fromisoformat(str(entry["started"])).astimezone(UTC)
    frame = trends.history("sandbox", outputs, now=now)
    assert set(frame["notebook"]) == {"service-status"}
    up = frame[frame["metric"] == "postgres.up"]["value"]
    assert list(up) == [1.0]

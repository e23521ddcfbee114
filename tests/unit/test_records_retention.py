"""Retention keeps the history: pruning record files and `make clean-outputs` leave a ledger
that `netzops ledger verify` accepts, with every entry still in it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from netzops.runner import ledger
from tests.conftest import ROOT

NETZOPS = str(ROOT / ".venv" / "bin" / "netzops")


def _runs(outputs: Path, count: int, ended: str) -> None:
    for n in range(count):
        folder = outputs / "sandbox" / "2026-01-01"
        folder.mkdir(parents=True, exist_ok=True)
        files = {}
        for suffix in (".ipynb", ".html", ".json"):
            path = folder / f"00000{n}-service-status{suffix}"
            path.write_text(f"record {n}{suffix}")
            files[str(path.relative_to(outputs))] = ledger.file_hash(path)
        ledger.append(
            outputs / "ledger.jsonl",
            {
                "run_id": f"run{n}",
                "notebook": "service-status",
                "target": "sandbox",
                "started": ended,
                "ended": ended,
                "status": "completed",
                "worst": None,
                "files": files,
            },
        )


def _cli(outputs: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NETZOPS_OUTPUTS": str(outputs)}
    return subprocess.run([NETZOPS, *args], capture_output=True, text=True, env=env, timeout=60)


def test_prune_older_than_keeps_verify_green(tmp_path: Path) -> None:
    _runs(tmp_path, 2, "2020-01-01T00:00:00+00:00")
    recent = tmp_path / "recent"
    recent.write_text("x")
    ledger.append(
        tmp_path / "ledger.jsonl",
        {
            "run_id": "new",
            "notebook": "service-status",
            "target": "sandbox",
            "started": "2999-01-01T00:00:00+00:00",
            "ended": "2999-01-01T00:00:00+00:00",
            "status": "completed",
            "worst": None,
            "files": {"recent": ledger.file_hash(recent)},
        },
    )
    done = _cli(tmp_path, "records", "prune", "--older-than", "30d")
    assert done.returncode == 0, done.stderr
    assert "pruned 6 file(s) of 2 run(s)" in done.stdout
    assert not list((tmp_path / "sandbox").rglob("*.ipynb")) and recent.exists()
    entries = list(ledger.entries(tmp_path / "ledger.jsonl"))
    assert entries[-1]["kind"] == "prune" and len(entries[-1]["pruned"]) == 6
    verified = _cli(tmp_path, "ledger", "verify")
    assert verified.returncode == 0, verified.stdout
    assert "ledger: 4 entries, 0 problem(s)" in verified.stdout
    # still tamper-evident: the unpruned record may not change
    recent.write_text("edited")
    assert _cli(tmp_path, "ledger", "verify").returncode == 1


def test_prune_needs_a_duration_or_all(tmp_path: Path) -> None:
    assert _cli(tmp_path, "records", "prune").returncode == 2
    assert _cli(tmp_path, "records", "prune", "--older-than", "soon").returncode == 2


def test_clean_outputs_keeps_the_ledger_and_verify_passes(tmp_path: Path) -> None:
    _runs(tmp_path, 3, "2026-01-01T00:00:00+00:00")
    (tmp_path / "sandbox" / "2026-01-01" / "loose-session.ipynb").write_text("{}")
    before = (tmp_path / "ledger.jsonl").read_text()
    env = {**os.environ, "NETZOPS_OUTPUTS": str(tmp_path)}
    done = subprocess.run(
        ["make", "-s", "-C", str(ROOT), "clean-outputs"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.head", "ledger.jsonl"]
    after = (tmp_path / "ledger.jsonl").read_text()
    assert after.startswith(before)  # every entry kept, one prune line added
    assert json.loads(after.splitlines()[-1])["kind"] == "prune"
    verified = _cli(tmp_path, "ledger", "verify")
    assert verified.returncode == 0 and "ledger: 4 entries, 0 problem(s)" in verified.stdout

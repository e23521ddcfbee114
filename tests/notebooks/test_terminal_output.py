"""What the terminal says: a failed run names its error, failing cell and the guard's
message; a dry run prints its confirmation string; --json prints the side-car; NAME --help
and list NAME show the notebook's parameters; an unknown target lists the known ones."""

from __future__ import annotations

import json
import os
import re
import subprocess

from netzops.paths import outputs_dir
from netzops.runner import ledger
from tests.conftest import ROOT

NETZOPS = str(ROOT / ".venv" / "bin" / "netzops")


def netzops(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NETZOPS, *args], capture_output=True, text=True, timeout=300, env=dict(os.environ)
    )


def test_dry_run_prints_its_confirmation_string() -> None:
    done = netzops("run", "restart-scale", "-p", "service=backend")
    assert done.returncode == 0, done.stdout + done.stderr
    found = re.search(r"confirm with: -p confirm='(restart@sandbox#[0-9a-f]{12})'", done.stdout)
    assert found, done.stdout
    assert "dry run: restart backend on sandbox" in done.stdout
    entry = list(ledger.latest(outputs_dir() / "ledger.jsonl"))[-1]
    audit = entry["actions"][0]
    assert found.group(1) == f"restart@sandbox#{audit['fingerprint']}" and audit["dry_run"]


def test_failed_run_names_the_error_the_cell_and_the_guards_message() -> None:
    done = netzops(
        "run",
        "restart-scale",
        "-p",
        "service=backend",
        "-p",
        "confirm=restart@sandbox#000000000000",
    )
    assert done.returncode == 3, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("failed: restart-scale on sandbox")
    assert re.match(r"error in cell \d+ \(`actions\[action\]\(\)`\):", lines[1]), lines[1]
    assert lines[2].startswith("  GuardRefused: restart on sandbox refused: stale plan")
    assert "confirm again" in lines[2]
    # the refusal's audit entry went to the ledger from the kernel as it happened
    refused = [
        e
        for e in ledger.entries(outputs_dir() / "ledger.jsonl")
        if e.get("kind") == "action" and e["actions"][0]["outcome"].startswith("refused")
    ]
    assert refused and "stale plan" in refused[-1]["actions"][0]["outcome"]


def test_json_prints_the_sidecar() -> None:
    done = netzops("run", "service-status", "--json")
    assert done.returncode in (0, 1), done.stderr  # 1: findings at P1 or above
    side = json.loads(done.stdout)
    assert side["exit_code"] == done.returncode
    path = outputs_dir() / "ledger.jsonl"
    last = list(ledger.latest(path))[-1]
    assert side["run_id"] == last["run_id"] and side["status"] == "completed"
    assert {r["check"] for r in side["results"]} >= {"service_status"}


def test_help_and_list_show_a_notebooks_parameters() -> None:
    helped = netzops("run", "restart-scale", "--help")
    assert helped.returncode == 0
    assert "Parameters of restart-scale" in helped.stdout
    assert "replicas: int = 1  # for scale: the wanted number of replicas" in helped.stdout
    listed = netzops("list", "cache")
    assert listed.returncode == 0 and listed.stdout.startswith("cache: ")
    assert "key_pattern: str = 'session:*'" in listed.stdout
    assert "restart-scale" not in listed.stdout


def test_unknown_target_lists_the_known_ones() -> None:
    done = netzops("run", "service-status", "--target", "prod")
    assert done.returncode == 2
    assert "no target 'prod'" in done.stderr and "known: sandbox" in done.stderr

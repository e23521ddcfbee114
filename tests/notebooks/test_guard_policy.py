"""Headless guard policy: a headless run may plan anything, but it acts only on a target
with `allow_destructive: true` that lists the action in `allowed_actions` — even with the
right confirmation string.

Two copies of the sandbox target in a temporary NETZOPS_TARGETS folder: `locked`
(allow_destructive false) and `narrow` (allow_destructive true, restart not allowed). The
refused restart is checked against `docker inspect` (StartedAt unchanged).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from netzops import guard
from netzops.errors import BadInput, GuardRefused
from netzops.guard import Plan
from netzops.runner import ledger
from netzops.runner.execution import Exit
from netzops.targets import load_target
from tests.conftest import ROOT, sh

NETZOPS = str(ROOT / ".venv" / "bin" / "netzops")
ACTIONS = [
    "restart",
    "recreate",
    "scale",
    "cancel_backend",
    "terminate_backend",
    "vacuum",
    "set_user_role",
    "set_user_active",
    "delete_keys",
    "flushdb",
    "set_maxmemory_policy",
]
POLICIES = {
    "locked": {"allow_destructive": False, "allowed_actions": ACTIONS},
    "narrow": {
        "allow_destructive": True,
        "allowed_actions": [a for a in ACTIONS if a != "restart"],
    },
}


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """locked.yaml and narrow.yaml: the sandbox target with another name and policy."""
    folder = tmp_path_factory.mktemp("targets")
    base = yaml.safe_load((ROOT / "parameters" / "targets" / "sandbox.yaml").read_text())
    base["compose"]["file"] = str(ROOT / base["compose"]["file"])  # valid from anywhere
    for name, policy in POLICIES.items():
        (folder / f"{name}.yaml").write_text(yaml.safe_dump({**base, "name": name, **policy}))
    return folder


# --- the policy, without a kernel (the act below touches nothing) -------------------------


@pytest.mark.parametrize(
    ("name", "headless", "acts"),
    [
        ("locked", True, False),
        ("narrow", True, False),
        ("locked", False, True),
        ("narrow", False, True),
    ],
)
def test_policy_matrix(
    targets: Path, monkeypatch: pytest.MonkeyPatch, name: str, headless: bool, acts: bool
) -> None:
    target = load_target(name, targets)
    if headless:
        monkeypatch.setenv(guard.HEADLESS_ENV, "1")
    else:
        monkeypatch.delenv(guard.HEADLESS_ENV, raising=False)
    done: list[str] = []

    def plan() -> Plan:
        return Plan("restart", target.name, "backend", ["restart nothing (test)"])

    dry = guard.run(target, plan, lambda p: done.append("acted"))
    assert dry.actions[0]["dry_run"] is True and done == []
    if acts:
        result = guard.run(target, plan, lambda p: done.append("acted"), plan().confirmation)
        assert done == ["acted"] and result.actions[0]["dry_run"] is False
    else:
        with pytest.raises(GuardRefused, match="allow_destructive"):
            guard.run(target, plan, lambda p: done.append("acted"), plan().confirmation)
        assert done == []


# --- headless runs through the CLI ------------------------------------------------------


def _run(targets: Path, name: str, *params: str) -> tuple[int, dict[str, Any]]:
    args = [NETZOPS, "run", "restart-scale", "--target", name]
    for p in params:
        args += ["-p", p]
    done = subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "NETZOPS_TARGETS": str(targets)},
    )
    path = next(
        (
            line.split(None, 1)[1]
            for line in done.stdout.splitlines()
            if line.startswith("sidecar:")
        ),
        None,
    )
    assert path, done.stderr[-2000:]
    return done.returncode, json.loads(Path(path).read_text())


def _started(ids: list[str]) -> dict[str, str]:
    out = sh("docker", "inspect", "-f", "{{.Id}} {{.State.StartedAt}}", *ids)
    return {line.split()[0][:12]: line.split()[1] for line in out.splitlines()}


@pytest.mark.parametrize("name", list(POLICIES))
def test_headless_confirmed_restart_is_refused_by_policy(targets: Path, name: str) -> None:
    code, dry = _run(targets, name)
    assert code == Exit.OK and dry["target"] == name, dry["error"]
    [plan] = dry["actions"]
    assert plan["dry_run"] is True and plan["action"] == "restart" and plan["headless"] is True
    ids = [c["id"] for c in plan["details"]["containers"]]
    assert ids, plan
    before = _started(ids)

    code, real = _run(targets, name, f"confirm=restart@{name}#{plan['fingerprint']}")
    assert code == Exit.FAILED and real["status"] == "failed"
    assert real["error"]["ename"] == "GuardRefused", real["error"]
    why = real["error"]["evalue"]
    assert "allow_destructive" in why and name in why and "stale" not in why, why
    [refusal] = real["actions"]  # the refusal is audited, and nothing else happened
    assert refusal["dry_run"] is False and refusal["outcome"].startswith("refused:")
    assert refusal["fingerprint"] == plan["fingerprint"]
    assert _started(ids) == before  # no backend container was restarted
    outputs = Path(os.environ["NETZOPS_OUTPUTS"])
    entry = next(
        e for e in ledger.latest(outputs / "ledger.jsonl") if e["run_id"] == real["run_id"]
    )
    assert entry["status"] == "failed" and entry["target"] == name
    assert [a["outcome"][:8] for a in entry["actions"]] == ["refused:"]


def test_a_target_file_must_carry_its_own_name(targets: Path, tmp_path: Path) -> None:
    data = yaml.safe_load((targets / "locked.yaml").read_text())
    (tmp_path / "readonly.yaml").write_text(yaml.safe_dump({**data, "name": "sandbox"}))
    with pytest.raises(BadInput, match="name"):
        load_target("readonly", tmp_path)

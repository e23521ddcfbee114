"""The runner end to end: headless runs through the CLI, their records, the ledger, and
refusals of bad input before any kernel starts."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from netzops.findings import Priority
from netzops.runner import ledger, notebooks
from netzops.runner.execution import Exit, execute, prepare
from netzops.targets import Target
from tests.conftest import ROOT, sh

NETZOPS = str(ROOT / ".venv" / "bin" / "netzops")


def netzops(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NETZOPS, *args], capture_output=True, text=True, timeout=300, env=os.environ.copy()
    )


def _outputs() -> Path:
    return Path(os.environ["NETZOPS_OUTPUTS"])


def _sidecar(stdout: str) -> dict:  # type: ignore[type-arg]
    path = next(
        line.split(None, 1)[1] for line in stdout.splitlines() if line.startswith("sidecar:")
    )
    return json.loads(Path(path).read_text())


def _exit_of(side: dict) -> Exit:  # type: ignore[type-arg]
    """The exit a healthy sandbox's service-status gives: 1 only for a P0/P1, and the only
    one a healthy sandbox may carry is another test's error burst of the last 5 minutes
    (as in test_records_status)."""
    urgent = [f for f in side["findings"] if f["priority"] in ("P0", "P1")]
    assert all(f["check"] == "request_error_rate_recent" for f in urgent), urgent
    return Exit.FINDINGS if urgent else Exit.OK


def test_service_status_run_leaves_a_full_record(target: Target) -> None:
    done = netzops("run", "service-status", "--target", "sandbox")
    side = _sidecar(done.stdout)
    assert done.returncode == _exit_of(side), done.stderr
    assert side["status"] == "completed" and side["error"] is None
    assert side["parameters"] == {"target": "sandbox"}
    # the four services and their health, as docker sees them
    ps = sh(
        "docker",
        "ps",
        "--filter",
        "label=com.docker.compose.project=netzwaechter",
        "--format",
        '{{.Label "com.docker.compose.service"}} {{.Status}}',
    )
    docker_healthy = {line.split()[0]: "(healthy)" in line for line in ps.splitlines()}
    for service in ("frontend", "backend", "postgres", "redis"):
        assert side["metrics"][f"containers.{service}.healthy"] == float(docker_healthy[service])
    status = next(r for r in side["results"] if r["check"] == "service_status")
    assert {r["service"] for r in status["rows"]} == {"frontend", "backend", "postgres", "redis"}
    assert side["metrics"]["postgres.up"] == 1.0 and side["metrics"]["redis.up"] == 1.0
    base = Path(
        next(
            line.split(None, 1)[1]
            for line in done.stdout.splitlines()
            if line.startswith("record:")
        )
    )
    assert base.parent.parent == _outputs() / "sandbox"
    assert base.suffix == ".ipynb" and base.with_suffix(".html").exists()
    html = base.with_suffix(".html").read_text()
    assert "Service status" in html and "load_target(target)" not in html  # code hidden


def test_ledger_gets_one_line_per_run_and_verifies() -> None:
    before = sum(1 for _ in ledger.entries(_outputs() / "ledger.jsonl"))
    done = netzops("run", "service-status")
    assert done.returncode == _exit_of(_sidecar(done.stdout)), done.stderr
    entries = list(ledger.entries(_outputs() / "ledger.jsonl"))
    assert len(entries) == before + 1
    assert entries[-1]["notebook"] == "service-status" and entries[-1]["status"] == "completed"
    verified = netzops("ledger", "verify")
    assert verified.returncode == 0, verified.stdout
    listed = netzops("runs", "--notebook", "service-status", "--json")
    mine = [e["run_id"] for e in entries if e["notebook"] == "service-status"]
    assert [json.loads(line)["run_id"] for line in listed.stdout.splitlines()] == mine


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "service-status", "-p", "nosuch=1"], "unknown parameter 'nosuch'"),
        (["run", "service-status", "-p", "target"], "key=value"),
        (["run", "no-such-notebook"], "no notebook 'no-such-notebook'"),
        (["run", "../etc/passwd"], "invalid notebook name"),
        (["run", "service-status", "--target", "nosuch"], "no target 'nosuch'"),
        (["run", "service-status", "--fail-on", "P9"], "unknown priority"),
    ],
)
def test_bad_input_exits_2_and_runs_nothing(args: list[str], message: str) -> None:
    before = sorted(p.name for p in _outputs().rglob("*"))
    done = netzops(*args)
    assert done.returncode == Exit.BAD_INPUT
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1  # one clear line
    assert sorted(p.name for p in _outputs().rglob("*")) == before  # no record, no kernel


FAILING = """# %% [markdown]
# # Failing on purpose

# %% tags=["parameters"]
target: str = "sandbox"  # target

# %%
from netzops import containers, load_target
stack = load_target(target)
containers.service_status(containers.connect(stack), stack)

# %%
raise RuntimeError("boom " + stack.secret("redis_password"))
"""


def test_failed_run_keeps_a_partial_record_naming_the_cell(tmp_path: Path, target: Target) -> None:
    (tmp_path / "failing.py").write_text(FAILING)
    notebook = notebooks.load("failing", tmp_path)
    run = execute(notebook, target, prepare(notebook, target, [], {}), Priority.P1, 120)
    assert run.exit == Exit.FAILED and run.status == "failed"
    side = json.loads(run.sidecar.read_text())
    assert side["error"]["ename"] == "RuntimeError", side["error"]
    assert side["error"]["cell"] == 3
    assert "********" in side["error"]["evalue"]
    assert any(r["check"] == "service_status" for r in side["results"])  # cells before it kept
    secret = target.secret("redis_password")
    for path in (run.notebook, run.html, run.sidecar, _outputs() / "ledger.jsonl"):
        assert secret not in path.read_text(), path
    assert list(ledger.entries(_outputs() / "ledger.jsonl"))[-1]["status"] == "failed"

"""Reports run in parallel over the warm kernel pool give the same records as a serial run:
the same results, findings, metrics, exit codes and errors, one record and one ledger line
per run, in plan order. Deterministic notebooks (no sandbox); a rendezvous proves that the
parallel runs really overlapped (each waits, with a deadline, until every run has started)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from netzops.findings import Priority
from netzops.runner import ledger, notebooks
from netzops.runner.execution import Exit, prepare
from netzops.runner.reports import Planned, execute_all
from netzops.targets import Target

NUMBERS = """# %% [markdown]
# # Numbers

# %% tags=["parameters"]
target: str = "sandbox"  # target
count: int = 3  # how many

# %%
import os, pathlib, time
meeting = os.environ.get("NETZOPS_TEST_RENDEZVOUS")
if meeting:  # parallel run: wait until every run of the report has started
    here = pathlib.Path(meeting)
    (here / f"{count}.started").touch()
    deadline = time.monotonic() + 120
    while len(list(here.glob("*.started"))) < int(os.environ["NETZOPS_TEST_RUNS"]):
        assert time.monotonic() < deadline, "the runs did not overlap"
        time.sleep(0.05)

# %%
from netzops.findings import Finding, Priority
from netzops.results import Result
Result.of(
    "numbers",
    f"Squares below {count}",
    [{"i": i, "square": i * i} for i in range(count)],
    [Finding("numbers", "squares", Priority.P2, "many", count, 3)] if count > 3 else [],
    {"numbers.count": count},
)

# %%
assert count != 5, "five is refused"
"""
COUNTS = (2, 4, 5, 3)
KEPT = ("notebook", "target", "status", "exit_code", "worst", "fail_on", "parameters")


def _plan(folder: Path, target: Target) -> list[Planned]:
    (folder / "numbers.py").write_text(NUMBERS)
    nb = notebooks.load("numbers", folder)
    return [Planned(nb, prepare(nb, target, [{"count": n}], {})) for n in COUNTS]


def _essence(side: dict[str, Any]) -> dict[str, Any]:
    kept = {k: side[k] for k in KEPT}
    for key in ("results", "findings", "metrics", "actions"):
        kept[key] = side[key]
    kept["error"] = side["error"] and {k: side["error"][k] for k in ("cell", "ename", "evalue")}
    return kept


def test_parallel_report_equals_serial(
    tmp_path: Path, target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = _plan(tmp_path, target)
    serial = execute_all(steps, target, Priority.P2, workers=1)
    meeting = tmp_path / "rendezvous"
    meeting.mkdir()
    monkeypatch.setenv("NETZOPS_TEST_RENDEZVOUS", str(meeting))
    monkeypatch.setenv("NETZOPS_TEST_RUNS", str(len(COUNTS)))
    parallel = execute_all(steps, target, Priority.P2, workers=len(COUNTS))
    assert len(list(meeting.glob("*.started"))) == len(COUNTS)  # they all ran at once

    for one, other in zip(serial, parallel, strict=True):
        left, right = (json.loads(r.sidecar.read_text()) for r in (one, other))
        assert _essence(left) == _essence(right)
        assert (one.status, one.exit, one.worst) == (other.status, other.exit, other.worst)
        assert one.html.exists() and other.html.exists() and one.notebook != other.notebook
    assert [r.exit for r in parallel] == [Exit.OK, Exit.FINDINGS, Exit.FAILED, Exit.OK]
    assert [json.loads(r.sidecar.read_text())["parameters"]["count"] for r in parallel] == [*COUNTS]
    entries = {
        e["run_id"]: e for e in ledger.entries(Path(os.environ["NETZOPS_OUTPUTS"]) / "ledger.jsonl")
    }
    for run in (*serial, *parallel):  # one ledger line per run, naming its files
        assert entries[run.run_id]["status"] == run.status
        assert any(name.endswith(run.html.name) for name in entries[run.run_id]["files"])
    assert (
        ledger.verify(
            Path(os.environ["NETZOPS_OUTPUTS"]) / "ledger.jsonl",
            Path(os.environ["NETZOPS_OUTPUTS"]),
        )
        == []
    )

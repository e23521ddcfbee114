"""The progress of `netzops report` and `netzops sandbox up` when stderr is not a terminal:
one plain line per finished step, while stdout keeps the results."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from netzops.runner import reports
from netzops.sandbox import stack
from netzops.targets import Target
from tests.conftest import ROOT

NETZOPS = str(ROOT / ".venv" / "bin" / "netzops")
LINE = re.compile(r"^\[(\d+)/(\d+)\] (\S+) (.*) (\d+\.\d) s$")


def lines(stderr: str) -> list[tuple[int, int, str, str]]:
    found = (LINE.match(line) for line in stderr.splitlines())
    return [(int(m[1]), int(m[2]), m[3], m[4]) for m in found if m]


def daily_report(outputs: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """`netzops report daily --fail-on P0 OPTIONS` with records under `outputs`; exit 0."""
    done = subprocess.run(
        [NETZOPS, "report", "daily", "--fail-on", "P0", *options],
        cwd=ROOT,
        env={**os.environ, "NETZOPS_OUTPUTS": str(outputs)},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def test_report_prints_one_line_per_finished_notebook(sandbox: Target, tmp_path: Path) -> None:
    done = daily_report(tmp_path, "--target", "sandbox")
    names = [r.notebook for r in reports.load_report("daily").runs]
    seen = lines(done.stderr)
    assert [i for i, *_ in seen] == list(range(1, len(names) + 1))  # counted as they end
    assert {total for _, total, *_ in seen} == {len(names)}
    assert sorted(name for _, _, name, _ in seen) == sorted(names)
    for _, _, name, outcome in seen:  # the outcome agrees with the run's line on stdout
        status = outcome.split()[0]
        assert re.search(rf"^{status}\s+worst=\S+\s+{name}\s", done.stdout, re.M), done.stdout
    assert "\x1b[" not in done.stderr  # no terminal control codes in a pipe


def test_report_json_is_the_side_cars_and_still_writes_the_page_and_the_metrics(
    sandbox: Target, tmp_path: Path
) -> None:
    """`report --json`: stdout is a JSON list of the runs' side-cars in plan order (as the
    records on disk hold them); the summary page and --prometheus are still written, and
    what is said about them goes to stderr."""
    prom = tmp_path / "netzops.prom"
    done = daily_report(tmp_path, "--json", "--prometheus", str(prom))
    sides = json.loads(done.stdout)
    assert [s["notebook"] for s in sides] == [r.notebook for r in reports.load_report("daily").runs]
    on_disk = {p.stem: json.loads(p.read_text()) for p in tmp_path.glob("sandbox/*/*.json")}
    for side in sides:
        assert side in on_disk.values() and side["status"] == "completed"
    page = re.search(r"^summary: (\S+)$", done.stderr, re.M)
    assert page and Path(page[1]).is_file() and prom.is_file() and prom.stat().st_size > 0


def test_sandbox_up_prints_its_steps_and_leaves_running_containers(sandbox: Target) -> None:
    done = subprocess.run(
        [NETZOPS, "sandbox", "up"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = lines(done.stderr)
    assert [(i, name) for i, _, name, _ in seen] == list(enumerate(stack.STEPS, 1))
    assert dict((name, outcome) for _, _, name, outcome in seen)["containers"] == "4 left running"
    changes = re.findall(r"^(netzwaechter\S+): (.+)$", done.stdout, re.M)
    assert len(changes) == 4 and {what for _, what in changes} == {"left running"}
    assert "\x1b[" not in done.stderr

"""`netzops report daily` through the command line: one record per run of
parameters/reports/daily.yaml, in order, with that run's parameters; an exit code that is
the worst of its runs (0 or 1: nothing refused, nothing failed); and a summary page whose
links all reach the records, worst finding first (the records table of the page)."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT
from tests.notebooks.helpers import Record, cli, printed_path

# a row of the summary page's records table: run id, link, name, status, worst (a badge)
RECORD_ROW = re.compile(
    r'<tr data-run="([^"]*)"><td><a href="([^"]*)">([^<]*)</a></td>'
    r"<td>([^<]*)</td><td>(.*?)</td>"
)


def record_rows(page: str) -> list[tuple[str, str, str, str, str]]:
    """The records table as (worst, link, name, status, run id), in page order."""
    records = page.split('<h2 id="records">', 1)[1]
    return [
        (re.sub(r"<[^>]+>", "", worst), link, name, status, run_id)
        for run_id, link, name, status, worst in RECORD_ROW.findall(records)
    ]


RANK = {"failed": -1, "P0": 0, "P1": 1, "P2": 2, "P3": 3, "ok": 9}


@pytest.fixture(scope="module")
def daily() -> dict[str, Any]:
    done = cli("report", "daily")
    lines = [line for line in done.stdout.splitlines() if not line.startswith("summary:")]
    records = [Record.load(Path(line.split()[-1]).with_suffix(".json")) for line in lines]
    page = printed_path(done.stdout, "summary")
    return {
        "exit": done.returncode,
        "stderr": done.stderr,
        "lines": lines,
        "page": page,
        "records": records,
    }


def planned() -> list[dict[str, Any]]:
    report = yaml.safe_load((ROOT / "parameters" / "reports" / "daily.yaml").read_text())
    return list(report["runs"])


def test_exit_code_is_the_worst_of_its_runs(daily: dict[str, Any]) -> None:
    assert daily["exit"] in (0, 1), daily["stderr"]
    assert daily["exit"] == max(r.side["exit_code"] for r in daily["records"])


def test_one_record_per_planned_run_in_order(daily: dict[str, Any]) -> None:
    steps, records = planned(), daily["records"]
    assert [r.side["notebook"] for r in records] == [s["notebook"] for s in steps]
    for step, record in zip(steps, records, strict=True):
        assert record.side["status"] == "completed", record.side["error"]
        assert record.notebook.exists() and record.html.exists()
        for key, value in (step.get("parameters") or {}).items():
            assert record.side["parameters"][key] == value, (step["notebook"], key)
    for line, record in zip(daily["lines"], records, strict=True):  # printed status, worst
        assert line.split()[:2] == [record.side["status"], f"worst={record.side['worst'] or '-'}"]


def test_summary_links_every_record_worst_first(daily: dict[str, Any]) -> None:
    page: Path = daily["page"]
    rows = record_rows(page.read_text())
    by_run = {r.side["run_id"]: r for r in daily["records"]}
    assert sorted(row[4] for row in rows) == sorted(by_run)  # one row per run
    for worst, link, name, status, run_id in rows:
        record = by_run[run_id]
        target = (page.parent / html.unescape(link)).resolve()
        assert target.exists() and target == record.html.resolve(), link
        assert (name, status) == (record.side["notebook"], record.side["status"])
        assert worst == (record.side["worst"] or "ok")
    ranks = [RANK[row[0]] for row in rows]
    assert ranks == sorted(ranks), [row[0] for row in rows]

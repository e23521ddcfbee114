"""Named sets of runs (parameters/reports/<name>.yaml) and their one-page summary."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from netzops.errors import BadInput
from netzops.findings import Priority
from netzops.paths import outputs_dir, parameters_dir, project_root
from netzops.runner import notebooks
from netzops.runner.execution import Exit, RunResult, prepare
from netzops.runner.parameters import read_file
from netzops.targets import NAME, Target, load_target


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    notebook: str
    parameters: dict[str, Any] = Field(default_factory=dict)


class Report(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    runs: list[Step]


def load_report(name: str) -> Report:
    if not NAME.match(name):
        raise BadInput(f"invalid report name {name!r}")
    path = parameters_dir() / "reports" / f"{name}.yaml"
    if not path.is_file():
        raise BadInput(f"no report {name!r}: {path} does not exist")
    try:
        return Report(**read_file(path))
    except ValidationError as exc:
        raise BadInput(f"{path}: {exc.errors()[0]['msg']}") from None


@dataclass(frozen=True)
class Planned:
    notebook: notebooks.Notebook
    params: dict[str, Any]


def plan(report: Report, target: Target) -> list[Planned]:
    """Every run of the report with checked parameters; BadInput before anything runs."""
    planned = []
    for step in report.runs:
        nb = notebooks.load(step.notebook)
        planned.append(Planned(nb, prepare(nb, target, [step.parameters], {})))
    return planned


#: Told (notebook, outcome, seconds) as each run's record is written, e.g.
#: ("monitoring", "completed P2", 3.1); the CLI shows it as progress (`netzops.progress`).
Progress = Callable[[str, str, float], None]


def execute_all(
    steps: list[Planned],
    target: Target,
    fail_on: Priority,
    workers: int | None = None,
    progress: Progress | None = None,
) -> list[RunResult]:
    """Every planned run, at most `workers` at a time (default: one per core) over one pool
    of warm kernels; the records (HTML, side-car, ledger line) are written by one thread
    while the next notebooks run. One record per run, as a serial run writes it; the results
    come back in plan order. `progress` hears of each run as its record is written."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from netzops.runner import kernels
    from netzops.runner.execution import keep, prewarm, run_notebook, warm_modules

    width = max(1, min(len(steps), workers or os.cpu_count() or 1))
    scrub = target.scrubber()
    env, cwd = kernels.headless_env(), project_root()
    warm = tuple(dict.fromkeys(m for s in steps for m in warm_modules(s.notebook)))
    with (
        kernels.Pool(env, cwd, budget=len(steps), size=width, warm=warm) as pool,
        ThreadPoolExecutor(width, thread_name_prefix="netzops-run") as runners,
        ThreadPoolExecutor(1, thread_name_prefix="netzops-record") as recorder,
    ):
        recorder.submit(prewarm)

        def one(step: Planned) -> Future[RunResult]:
            began = time.monotonic()
            done = run_notebook(step.notebook, target, step.params, pool, scrub=scrub)
            kept = recorder.submit(keep, done, fail_on, scrub)
            if progress is not None:
                kept.add_done_callback(lambda f: _tell(progress, step, f, began))
            return kept

        pending = [runners.submit(one, step) for step in steps]
        return [future.result().result() for future in pending]


def _tell(progress: Progress, step: Planned, kept: Future[RunResult], began: float) -> None:
    import time

    if kept.exception() is not None:
        outcome = f"error {type(kept.exception()).__name__}"
    else:
        result = kept.result()
        outcome = f"{result.status} {result.worst or ''}".strip()
    progress(step.notebook.name, outcome, time.monotonic() - began)


def run(
    name: str, target_name: str, fail_on: Priority = Priority.P1, progress: Progress | None = None
) -> tuple[Exit, Path, list[RunResult]]:
    """Run the report's notebooks (in parallel, see `execute_all`) and write its summary
    page; returns the exit code (the worst of its runs), the page's path and the runs in
    the report's order. `progress(notebook, outcome, seconds)` hears of each finished run."""
    report = load_report(name)
    target = load_target(target_name)
    steps = plan(report, target)
    started = datetime.now(UTC)
    results = execute_all(steps, target, fail_on, progress=progress)
    page = write_summary(report, target, started, results)
    return max((r.exit for r in results), default=Exit.OK), page, results


def write_summary(
    report: Report, target: Target, started: datetime, results: list[RunResult]
) -> Path:
    """Write the summary page of `results` (outputs/<target>/<date>/<time>-report-<name>
    .html) scrubbed of the target's secrets: it quotes side-cars (older ones too, for the
    trends), parameters and the report's text, none of which it trusts to be clean."""
    page = (
        outputs_dir()
        / target.name
        / started.strftime("%Y-%m-%d")
        / f"{started.strftime('%H%M%S')}-report-{report.name}.html"
    )
    page.parent.mkdir(parents=True, exist_ok=True)
    scrub = target.scrubber()
    page.write_text(scrub(summary_html(report, target, started, results, page.parent)))
    return page


def summary_html(
    report: Report, target: Target, started: datetime, results: list[RunResult], folder: Path
) -> str:
    """The summary page: findings of every record worst first, key figures with their
    trends, then the records (`runner.summary`)."""
    from netzops.runner import summary

    records = [summary.load_record(r.name, r.status, r.worst, r.sidecar) for r in results]
    title = f"{report.name} report"
    return summary.page(title, report.description, target, started, records, folder)

"""Run a runbook notebook headless with papermill and keep the record.

One run, in small steps:
    prepare       parameters merged (notebook defaults < parameter files < target < -p flags),
                  checked — BadInput before any kernel starts
    run_notebook  papermill executes a converted copy in a warm kernel from a `kernels.Pool`
                  (engine `netzops-warm`); the kernel is discarded in the background
    keep          the record: outputs/<target>/<date>/<time>-<notebook>.{ipynb,html,json},
                  every file scrubbed with the run's `Scrubber`
    exit_code     from the error and the worst finding against --fail-on
    ledger_entry  what the ledger keeps of the run (appended by `keep`)
`execute` does all of it for one notebook; `runner.reports` runs many over one pool.
"""

from __future__ import annotations

import getpass
import logging
import platform
import re
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from functools import cache
from pathlib import Path
from typing import Any

from netzops import __version__
from netzops.errors import BadInput
from netzops.findings import Finding, Priority, worst
from netzops.paths import outputs_dir, project_root
from netzops.runner import kernels
from netzops.runner.notebooks import Notebook, preflight_cells
from netzops.runner.parameters import merge
from netzops.secrets import Scrubber
from netzops.targets import Target

LEDGER_FIELDS = (
    "run_id",
    "notebook",
    "target",
    "started",
    "ended",
    "duration_s",
    "status",
    "exit_code",
    "worst",
)


class Exit(IntEnum):
    """Exit codes for schedulers (documented in docs/cli.md)."""

    OK = 0  # completed; no finding at or above --fail-on
    FINDINGS = 1  # completed; findings at or above --fail-on
    BAD_INPUT = 2  # refused before anything ran
    FAILED = 3  # execution failed; the partial record is kept


@dataclass(frozen=True)
class RunResult:
    run_id: str
    name: str
    status: str
    exit: Exit
    notebook: Path
    html: Path
    sidecar: Path
    worst: str | None


@dataclass(frozen=True)
class Executed:
    """A notebook that ran (or failed to): where its executed copy is, and what went wrong."""

    run_id: str
    notebook: Notebook
    target: Target
    params: dict[str, Any]
    started: datetime
    ended: datetime
    base: Path  # the record's files are base.{ipynb,html,json}
    error: dict[str, Any] | None

    def path(self, suffix: str) -> Path:
        return self.base.with_suffix(suffix)


def prepare(
    notebook: Notebook, target: Target, files: list[dict[str, Any]], cli: dict[str, Any]
) -> dict[str, Any]:
    """The checked parameters for a run (defaults < files < target < command line);
    BadInput before any kernel starts."""
    names = {p.name for p in notebook.parameters}
    if "target" not in names:
        raise BadInput(f"notebook {notebook.name} declares no `target` parameter")
    target_layer = target.parameters.get(notebook.name, {})
    params = merge(notebook.parameters, *files, target_layer, cli)
    if any(layer.get("target", target.name) != target.name for layer in (*files, cli)):
        raise BadInput(f"parameter target disagrees with --target {target.name}: use --target")
    params["target"] = target.name
    for key in ("service", "services"):
        value = params.get(key)
        for service in [value] if isinstance(value, str) else value or []:
            if service != "all":  # "" too: it names no service
                target.check_service(service)
    preflight(notebook, params)
    return params


def preflight(notebook: Notebook, params: dict[str, Any]) -> None:
    """Run the notebook's `preflight` cells here, with the parameters as their globals: the
    notebook's own input checks (an unknown incident, a wildcard key pattern) refuse the run
    with BadInput before a kernel starts or a record is written. Any other error there is
    left for the run itself to meet and record."""
    for index, code in enumerate(preflight_cells(notebook.path.read_text())):
        try:
            exec(compile(code, f"{notebook.path}:preflight[{index}]", "exec"), dict(params))
        except BadInput:
            raise
        except Exception:  # the kernel meets it again and records it
            logging.getLogger(__name__).debug("preflight of %s", notebook.name, exc_info=True)


def _paths(target: str, name: str, started: datetime) -> Path:
    folder = outputs_dir() / target / started.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{started.strftime('%H%M%S')}-{name}"
    suffix = 1
    while True:  # exclusive creation: parallel runs of one notebook never share a name
        base = folder / (stem if suffix == 1 else f"{stem}-{suffix}")
        try:
            base.with_suffix(".ipynb").touch(exist_ok=False)
            return base
        except FileExistsError:
            suffix += 1


_IMPORTS = re.compile(r"^(?:from (netzops) import ([\w, ]+)|import ([\w., ]+))$", re.MULTILINE)


def warm_modules(notebook: Notebook) -> tuple[str, ...]:
    """The modules `notebook` imports (`from netzops import a, b` → netzops.a, netzops.b),
    for a kernel started for it alone; names that are not modules are skipped there."""
    found: list[str] = []
    for match in _IMPORTS.finditer(notebook.path.read_text()):
        if match[1]:
            found += [f"netzops.{n.strip()}" for n in match[2].split(",") if n.strip()]
        else:
            found += [n.strip().split(" as ")[0] for n in match[3].split(",") if n.strip()]
    return tuple(dict.fromkeys(found))


def own_pool(notebook: Notebook) -> kernels.Pool:
    """A pool of one kernel, warmed with `notebook`'s imports (a single run); while it
    starts, this process loads papermill and the HTML exporter (`prewarm`)."""
    pool = kernels.Pool(kernels.headless_env(), project_root(), 1, 1, warm_modules(notebook))
    threading.Thread(target=prewarm, name="netzops-prewarm", daemon=True).start()
    return pool


def prewarm() -> None:
    """Import papermill and build the HTML exporter (what a run needs after its kernel is
    ready), so that this happens while kernels start rather than after."""
    import papermill  # noqa: F401

    from netzops.runner import engine, records  # noqa: F401

    records.exporter()


def execute(
    notebook: Notebook,
    target: Target,
    params: dict[str, Any],
    fail_on: Priority = Priority.P1,
    cell_timeout_s: int = 600,
    pool: kernels.Pool | None = None,
) -> RunResult:
    """Execute `notebook` for `target` with checked `params` and write its record; in a
    kernel from `pool`, or in one started for this run alone."""
    own = pool is None
    kernel_pool = own_pool(notebook) if pool is None else pool
    try:
        scrub = target.scrubber()
        done = run_notebook(notebook, target, params, kernel_pool, cell_timeout_s, scrub)
        return keep(done, fail_on, scrub)
    finally:
        if own:
            kernel_pool.close()


def run_notebook(
    notebook: Notebook,
    target: Target,
    params: dict[str, Any],
    pool: kernels.Pool,
    cell_timeout_s: int = 600,
    scrub: Scrubber | None = None,
) -> Executed:
    """Execute `notebook` in a warm kernel from `pool` (discarded afterwards, in the
    background); the executed copy is written as the cells start and complete, each time
    scrubbed with `scrub` (default: of `target`'s secrets) before it reaches disk."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from netzops.runner.engine import ENGINE
    from netzops.runner.records import RecordWriter

    # Parameters are checked by `prepare`; papermill's own inference does not read
    # Literal annotations and would warn about parameters it did not understand.
    logging.getLogger("papermill").setLevel(logging.ERROR)
    source = notebook.read()
    km = pool.take()
    started = datetime.now(UTC)
    base = _paths(target.name, notebook.name, started)
    writer = RecordWriter(base.with_suffix(".ipynb"), scrub or target.scrubber())
    error: dict[str, Any] | None = None
    try:
        papermill.execute_notebook(
            source,
            None,  # papermill writes nothing itself: every save goes through `writer`
            parameters=params,
            engine_name=ENGINE,
            km=km,
            sink=writer,
            kernel_name=kernels.NAME,
            execution_timeout=cell_timeout_s,
            progress_bar=False,
            log_output=False,
            report_mode=False,
        )
    except PapermillExecutionError as exc:
        writer.flush()  # with the error marker cell papermill added after its last save
        error = {"cell": exc.cell_index, "ename": exc.ename, "evalue": str(exc.evalue)}
    except Exception as exc:  # kernel died, timeout, ...: the record says what happened
        error = {"cell": None, "ename": type(exc).__name__, "evalue": str(exc)}
    finally:
        pool.discard(km)
    ended = datetime.now(UTC)
    return Executed(km.run_id, notebook, target, params, started, ended, base, error)


def keep(done: Executed, fail_on: Priority, scrub: Scrubber) -> RunResult:
    """Write the record of `done` (scrubbed .ipynb, HTML, side-car) and its ledger line."""
    import nbformat

    from netzops.runner import ledger, records

    ipynb, html, sidecar = (done.path(s) for s in (".ipynb", ".html", ".json"))
    if not ipynb.exists() or ipynb.stat().st_size == 0:  # papermill failed before writing
        nbformat.write(done.notebook.read(), str(ipynb))
    nb = records.scrub_notebook(ipynb, scrub)
    error = done.error
    if error is not None:
        error = records.failing_cell(nb, scrub) or error
        error["evalue"] = scrub(error["evalue"])[:500]
    collected = records.collect(nb)
    records.write_html(nb, html, scrub)
    code = exit_code(error, collected.findings, fail_on)
    side = {
        "run_id": done.run_id,
        "notebook": done.notebook.name,
        "target": done.target.name,
        "started": done.started.isoformat(),
        "ended": done.ended.isoformat(),
        "duration_s": round((done.ended - done.started).total_seconds(), 2),
        "status": "failed" if error else "completed",
        "exit_code": int(code),
        "fail_on": fail_on.name,
        "parameters": done.params,
        "error": error,
        "versions": versions(),
        "host": socket.gethostname(),
        "user": getpass.getuser(),
        **records.summary(collected),
    }
    records.write_sidecar(sidecar, side, scrub)
    ledger.append(outputs_dir() / "ledger.jsonl", ledger_entry(side, [ipynb, html, sidecar]))
    return RunResult(
        done.run_id, done.notebook.name, side["status"], code, ipynb, html, sidecar, side["worst"]
    )


def exit_code(error: dict[str, Any] | None, findings: list[Finding], fail_on: Priority) -> Exit:
    """FAILED when a cell failed; FINDINGS when a finding is at least as urgent as
    `fail_on`; else OK."""
    if error:
        return Exit.FAILED
    top = worst(findings)
    return Exit.FINDINGS if top is not None and top <= fail_on else Exit.OK


def ledger_entry(side: dict[str, Any], files: list[Path]) -> dict[str, Any]:
    """The ledger's line for a run: LEDGER_FIELDS of its side-car, the number of findings,
    ledger.ACTION_FIELDS of each action and the SHA-256 of each record file (paths relative to the
    outputs folder)."""
    from netzops.runner import ledger

    root = outputs_dir()
    entry = {k: side[k] for k in LEDGER_FIELDS}
    entry["findings"] = len(side["findings"])
    entry["actions"] = [{k: a.get(k) for k in ledger.ACTION_FIELDS} for a in side["actions"]]
    entry["files"] = {str(p.relative_to(root)): ledger.file_hash(p) for p in files if p.exists()}
    return entry


@cache
def versions() -> dict[str, str]:
    from importlib.metadata import version

    found = {"netzops": __version__, "python": platform.python_version()}
    for package in ("papermill", "docker", "psycopg", "redis", "httpx"):
        found[package] = version(package)
    return found

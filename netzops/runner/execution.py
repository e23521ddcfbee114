"""Run a runbook notebook headless with papermill and keep the record.

parameters merged (notebook defaults < parameter files < target < -p flags), checked
→ papermill executes a converted copy in the pinned kernel
→ outputs/<target>/<date>/<time>-<notebook>.{ipynb,html,json} + a ledger line
"""

from __future__ import annotations

import getpass
import logging
import os
import platform
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path
from typing import Any

import nbformat

from netzops import __version__
from netzops.errors import BadInput
from netzops.findings import Priority, worst
from netzops.guard import HEADLESS_ENV
from netzops.paths import outputs_dir, project_root
from netzops.runner import kernels, ledger, records
from netzops.runner.notebooks import Notebook
from netzops.runner.parameters import merge
from netzops.secrets import scrub
from netzops.targets import Target

#: What the ledger keeps of each guarded action's audit entry (the record has all of it).
AUDIT_FIELDS = (
    "action",
    "target",
    "subject",
    "dry_run",
    "fingerprint",
    "outcome",
    "verified",
    "who",
    "at",
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
    return params


def _paths(target: str, name: str, started: datetime) -> Path:
    folder = outputs_dir() / target / started.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / f"{started.strftime('%H%M%S')}-{name}"
    suffix = 2
    while base.with_suffix(".ipynb").exists():
        base = folder / f"{started.strftime('%H%M%S')}-{name}-{suffix}"
        suffix += 1
    return base


def execute(
    notebook: Notebook,
    target: Target,
    params: dict[str, Any],
    fail_on: Priority = Priority.P1,
    cell_timeout_s: int = 600,
) -> RunResult:
    """Execute `notebook` for `target` with checked `params` and write its record."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    kernels.ensure_kernelspec()
    # Parameters are checked by `prepare`; papermill's own inference does not read
    # Literal annotations and would warn about parameters it did not understand.
    logging.getLogger("papermill").setLevel(logging.ERROR)
    target.resolve_secrets()  # known in memory so every record file can be scrubbed
    started = datetime.now(UTC)
    base = _paths(target.name, notebook.name, started)
    ipynb, html, sidecar = (base.with_suffix(s) for s in (".ipynb", ".html", ".json"))
    error: dict[str, Any] | None = None
    os.environ[HEADLESS_ENV] = "1"  # guarded actions in the kernel never wait for input
    try:
        papermill.execute_notebook(
            notebook.read(),
            str(ipynb),
            parameters=params,
            kernel_name=kernels.NAME,
            kernel_manager_class=kernels.IPCKernelManager,
            cwd=str(project_root()),
            execution_timeout=cell_timeout_s,
            progress_bar=False,
            log_output=False,
            report_mode=False,
        )
    except PapermillExecutionError as exc:
        error = {"cell": exc.cell_index, "ename": exc.ename, "evalue": str(exc.evalue)}
    except Exception as exc:  # kernel died, timeout, ...: the record says what happened
        error = {"cell": None, "ename": type(exc).__name__, "evalue": str(exc)}
    finally:
        os.environ.pop(HEADLESS_ENV, None)
    ended = datetime.now(UTC)
    if not ipynb.exists() or ipynb.stat().st_size == 0:  # papermill failed before writing
        nbformat.write(notebook.read(), str(ipynb))
    nb = records.scrub_notebook(ipynb)
    if error is not None:
        error = records.failing_cell(nb) or error
        error["evalue"] = scrub(error["evalue"])[:500]
    collected = records.collect(nb)
    records.write_html(nb, html)
    top = worst(collected.findings)
    exit_code = (
        Exit.FAILED if error else Exit.FINDINGS if top is not None and top <= fail_on else Exit.OK
    )
    status = "failed" if error else "completed"
    run_id = uuid.uuid4().hex[:12]
    side = {
        "run_id": run_id,
        "notebook": notebook.name,
        "target": target.name,
        "started": started.isoformat(),
        "ended": ended.isoformat(),
        "duration_s": round((ended - started).total_seconds(), 2),
        "status": status,
        "exit_code": int(exit_code),
        "fail_on": fail_on.name,
        "parameters": params,
        "error": error,
        "versions": _versions(),
        "host": socket.gethostname(),
        "user": getpass.getuser(),
        **records.summary(collected),
    }
    records.write_sidecar(sidecar, side)
    _log(side, [ipynb, html, sidecar])
    return RunResult(run_id, notebook.name, status, exit_code, ipynb, html, sidecar, side["worst"])


def _log(side: dict[str, Any], files: list[Path]) -> None:
    root = outputs_dir()
    entry = {
        k: side[k]
        for k in (
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
    }
    entry["findings"] = len(side["findings"])
    entry["actions"] = [{k: a.get(k) for k in AUDIT_FIELDS} for a in side["actions"]]
    entry["files"] = {str(p.relative_to(root)): ledger.file_hash(p) for p in files if p.exists()}
    ledger.append(root / "ledger.jsonl", entry)


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    found = {"netzops": __version__, "python": platform.python_version()}
    for package in ("papermill", "docker", "psycopg", "redis", "httpx"):
        found[package] = version(package)
    return found

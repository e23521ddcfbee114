"""JupyterLab sessions: a runbook source opened to work in, and the record of what was done.

    create()   the *session notebook*: the runbook with its parameters filled in (an injected
               cell, as papermill does), under outputs/<target>/<date>/<time>-<name>-session.ipynb.
               The source in notebooks/ is never written.
    Recorder   lives in an interactive `netzops` kernel (see kernel_extension): it keeps every
               executed cell with its outputs, in execution order, and saves them as a record
               like a headless run's — <time>-<name>-interactive.{ipynb,html,json}, scrubbed,
               with a ledger line marked `interactive` — after every guarded action, at least
               every SAVE_EVERY_S seconds while cells run, and when the kernel shuts down.

A session's ledger lines share its run id; each snapshot supersedes the one before
(`ledger.verify` checks only the last one's files).
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from netzops import __version__
from netzops.paths import outputs_dir
from netzops.runner import ledger

SAVE_EVERY_S = float(os.environ.get("NETZOPS_SESSION_SAVE_S", "60"))
SESSION_SUFFIX = "-session.ipynb"
RECORD_SUFFIX = "-interactive"


def scrubber(target: str | None) -> Callable[[str], str]:
    """Masks the secrets of `target` (those that resolve here, `Target.scrubber()`): what
    a session's files are scrubbed with, since a kernel may show a secret it read itself
    and a server process resolved none. No target, or an unknown or broken target file:
    a scrubber that masks nothing (there are no secrets netzops knows of)."""
    from netzops.errors import NetzopsError
    from netzops.secrets import Scrubber
    from netzops.targets import load_target

    with suppress(NetzopsError):
        return load_target(target).scrubber() if target else Scrubber()
    return Scrubber()


def scrubbed(data: Any, scrub: Callable[[str], str]) -> Any:
    """`data` as strict JSON values (non-finite numbers null) with `scrub` applied to every
    string and key before serialising, then to the JSON text (every escaped form)."""
    from netzops.results import json_safe
    from netzops.secrets import scrub_tree

    text = json.dumps(scrub_tree(json_safe(data), scrub), allow_nan=False, ensure_ascii=False)
    return json.loads(scrub(text))


def _folder(target: str, when: datetime) -> Path:
    folder = outputs_dir() / target / when.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _free(folder: Path, stem: str, suffix: str) -> Path:
    path, n = folder / f"{stem}{suffix}", 2
    while path.exists():
        path, n = folder / f"{stem}-{n}{suffix}", n + 1
    return path


def create(name: str, target_name: str, assignments: dict[str, Any] | None = None) -> Path:
    """A new session notebook for runbook `name` on `target_name` with checked parameters
    (defaults < target file < `assignments`); BadInput (one line) for a bad name or value.
    Returns its path under outputs/."""
    import nbformat

    from netzops.runner import notebooks, records
    from netzops.runner.execution import prepare
    from netzops.targets import load_target

    notebook = notebooks.load(name)
    target = load_target(target_name)
    params = prepare(notebook, target, [], dict(assignments or {}))
    nb = notebook.read()
    where = next(
        (i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])), -1
    )
    injected = nbformat.v4.new_code_cell(
        "# Parameters of this session (checked)\n"
        + "".join(f"{k} = {v!r}\n" for k, v in params.items())
    )
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(where + 1, injected)
    started = datetime.now(UTC)
    session = uuid.uuid4().hex[:12]
    nb.metadata.pop("jupytext", None)  # a plain .ipynb, not paired with the source
    nb.metadata["netzops"] = {
        "notebook": name,
        "target": target.name,
        "session": session,
        "started": started.isoformat(),
        "source": f"notebooks/{notebook.path.name}",
    }
    path = _free(_folder(target.name, started), f"{started:%H%M%S}-{name}", SESSION_SUFFIX)
    scrub = scrubber(target.name)  # a value typed as a parameter may be a secret
    records.write_atomic(path, records.scrubbed_text(nbformat.writes(nb), scrub))
    return path


def _session_metadata() -> dict[str, Any]:
    """The netzops metadata of the session notebook this kernel was started for, if any
    (jupyter_server names it in JPY_SESSION_NAME; the kernel runs in its folder)."""
    named = os.environ.get("JPY_SESSION_NAME", "")
    if not named.endswith(".ipynb"):
        return {}
    try:
        data = json.loads((Path.cwd() / Path(named).name).read_text())
        meta = data.get("metadata", {}).get("netzops", {})
        return meta if isinstance(meta, dict) else {}
    except (OSError, ValueError):
        return {}


def _source_name() -> str:
    """The runbook's name for a kernel opened on a source (notebooks/<name>.py) or a copy."""
    stem = Path(os.environ.get("JPY_SESSION_NAME", "lab")).stem
    return stem.removesuffix("-session") or "lab"


class Recorder:
    """The transcript of an interactive kernel, saved as a record (see the module docstring).

    Cells are kept as nbformat code cells; outputs are the display data, results and errors
    the kernel published. Thread-safe: widget callbacks may save while no cell runs."""

    def __init__(self) -> None:
        meta = _session_metadata()
        self.run_id: str = meta.get("session") or uuid.uuid4().hex[:12]
        self.notebook: str = meta.get("notebook") or _source_name()
        self.target: str | None = meta.get("target")
        self.started = datetime.now(UTC)
        self.cells: list[dict[str, Any]] = []
        self.current: dict[str, Any] | None = None
        self.dirty = False
        self.ended = False
        self.last_save = time.monotonic()
        self.base: Path | None = None
        self.lock = threading.RLock()

    # --- capture -----------------------------------------------------------------------
    def begin(self, source: str, count: int | None) -> None:
        with self.lock:
            self.current = {"source": source, "execution_count": count, "outputs": []}
            self.cells.append(self.current)
            self.dirty = True

    def output(self, output: dict[str, Any]) -> None:
        with self.lock:
            if self.current is None:
                self.begin("# (output outside a cell)", None)
            assert self.current is not None
            self.current["outputs"].append(output)
            self.dirty = True

    def display(self, data: dict[str, Any], metadata: dict[str, Any] | None) -> None:
        self.output(
            {"output_type": "display_data", "data": _jsonable(data), "metadata": metadata or {}}
        )

    def result(self, data: dict[str, Any], count: int | None) -> None:
        self.output(
            {
                "output_type": "execute_result",
                "data": _jsonable(data),
                "metadata": {},
                "execution_count": count,
            }
        )

    def error(self, exc: BaseException) -> None:
        self.output(
            {
                "output_type": "error",
                "ename": type(exc).__name__,
                "evalue": str(exc),
                "traceback": [f"{type(exc).__name__}: {exc}"],
            }
        )

    def end(self) -> None:
        with self.lock:
            self.current = None

    def due(self) -> bool:
        return self.dirty and time.monotonic() - self.last_save >= SAVE_EVERY_S

    # --- the record --------------------------------------------------------------------
    def save(self, final: bool = False, target: str | None = None) -> Path | None:
        """Write the record and its ledger line; None when nothing ran since the last save."""
        with self.lock:
            if self.ended or (not self.dirty and not (final and self.base is not None)):
                return None
            if not self.cells or (self.target is None and target is None and not final):
                return None  # wait for the parameters cell to name the target
            self.target = self.target or target or "local"
            if self.base is None:
                folder = _folder(self.target, self.started)
                stem = f"{self.started:%H%M%S}-{self.notebook}{RECORD_SUFFIX}"
                self.base = _free(folder, stem, ".ipynb").with_suffix("")
            self._write(final)
            self.ended = final
            self.dirty = False
            self.last_save = time.monotonic()
            return self.base.with_suffix(".ipynb")

    def _notebook(self) -> Any:
        import nbformat

        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {
            "name": "netzops",
            "display_name": "netzops (Python)",
            "language": "python",
        }
        nb.metadata["language_info"] = {"name": "python"}
        nb.metadata["netzops"] = {
            "notebook": self.notebook,
            "target": self.target,
            "session": self.run_id,
            "interactive": True,
        }
        for cell in self.cells:
            code = nbformat.v4.new_code_cell(cell["source"])
            code.execution_count = cell["execution_count"]
            code.outputs = [nbformat.from_dict(o) for o in cell["outputs"]]
            nb.cells.append(code)
        return nb

    def _write(self, final: bool) -> None:
        import nbformat

        from netzops.runner import records

        assert self.base is not None
        scrub = scrubber(self.target)
        ipynb, html, sidecar = (self.base.with_suffix(s) for s in (".ipynb", ".html", ".json"))
        tmp = ipynb.with_suffix(".ipynb.tmp")
        text = records.scrubbed_text(nbformat.writes(self._notebook()), scrub)  # before disk
        tmp.write_text(text)
        nb = nbformat.reads(text, as_version=4)
        html_tmp = html.with_suffix(".html.tmp")
        records.write_html(nb, html_tmp, scrub)
        collected = records.collect(nb)
        errors = sum(
            1 for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"
        )
        ended = datetime.now(UTC)
        side = {
            "run_id": self.run_id,
            "notebook": self.notebook,
            "target": self.target,
            "interactive": True,
            "started": self.started.isoformat(),
            "ended": ended.isoformat(),
            "duration_s": round((ended - self.started).total_seconds(), 2),
            "status": "ended" if final else "in progress",
            "exit_code": None,
            "cells": len(nb.cells),
            "errors": errors,
            "versions": {"netzops": __version__},
            "host": socket.gethostname(),
            "user": getpass.getuser(),
            **records.summary(collected),
        }
        side_tmp = sidecar.with_suffix(".json.tmp")
        records.write_sidecar(side_tmp, side, scrub)
        for done, final_path in ((tmp, ipynb), (html_tmp, html), (side_tmp, sidecar)):
            done.replace(final_path)
        root = outputs_dir()
        entry = {k: side[k] for k in ("run_id", "notebook", "target", "started", "ended")}
        entry.update(
            duration_s=side["duration_s"],
            status=side["status"],
            exit_code=None,
            worst=side["worst"],
            interactive=True,
            findings=len(side["findings"]),
            actions=[{k: a.get(k) for k in ledger.ACTION_FIELDS} for a in side["actions"]],
            files={str(p.relative_to(root)): ledger.file_hash(p) for p in (ipynb, html, sidecar)},
        )
        ledger.append(root / "ledger.jsonl", scrubbed(entry, scrub))


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    """MIME bundle values as nbformat keeps them (JSON types; bytes are not expected)."""
    clean: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return clean


def audit_line(entry: dict[str, Any], run_id: str, notebook: str, interactive: bool) -> None:
    """Append a guarded action's audit entry to the ledger, as it happens (scrubbed of the
    target's secrets and this process's, strict JSON)."""
    line = {
        "kind": "action",
        "run_id": run_id,
        "notebook": notebook,
        "target": entry.get("target"),
        "started": entry.get("at"),
        "interactive": interactive,
        "actions": [{k: entry.get(k) for k in ledger.ACTION_FIELDS}],
    }
    scrub = scrubber(line["target"] if isinstance(line["target"], str) else None)
    ledger.append(outputs_dir() / "ledger.jsonl", scrubbed(line, scrub))

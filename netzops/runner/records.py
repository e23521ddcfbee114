"""Records of runs: the executed notebook, its HTML (code hidden) and a side-car JSON.

Results reach the record through their custom MIME output (`results.MIME_TYPE`), so the
kernel writes nothing on the side. Every record file is scrubbed with the `scrub` it is
given (the run's `Target.scrubber()`).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import nbformat

from netzops.findings import Finding, worst
from netzops.results import MIME_TYPE, json_safe
from netzops.secrets import scrub_tree

ROWS_KEPT = 200  # rows of each result copied into the side-car (the notebook has them all)


@dataclass
class Collected:
    results: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    actions: list[dict[str, Any]] = field(default_factory=list)


def collect(nb: Any) -> Collected:
    """Every netzops result shown in the notebook's outputs, in cell order."""
    found = Collected()
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {}).get(MIME_TYPE)
            if not data:
                continue
            rows = data.get("rows", [])
            found.results.append(
                {
                    "check": data["check"],
                    "title": data["title"],
                    "rows_total": len(rows),
                    "rows": rows[:ROWS_KEPT],
                }
            )
            found.findings += Finding.read_all(data.get("findings", []), str(data["check"]))
            found.metrics.update(data.get("metrics", {}))
            found.actions += data.get("actions", [])
    return found


_ADDED_BY_PAPERMILL = {"papermill-error-cell-tag", "injected-parameters"}


def failing_cell(nb: Any, scrub: Callable[[str], str]) -> dict[str, Any] | None:
    """The first cell whose output is an error: its index in the source notebook, its first
    line, the error's name and message."""
    source_cells = [
        c for c in nb.cells if not _ADDED_BY_PAPERMILL & set(c.get("metadata", {}).get("tags", []))
    ]
    for index, cell in enumerate(source_cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return {
                    "cell": index,
                    "first_line": str(cell.source).split("\n", 1)[0][:120],
                    "ename": output.get("ename", ""),
                    "evalue": scrub(str(output.get("evalue", "")))[:500],
                }
    return None


def scrubbed_text(text: str, scrub: Callable[[str], str]) -> str:
    """A notebook's JSON `text` with secret values masked everywhere (in the values before
    serialising, then in the text for every encoding) and as strict JSON (a NaN or
    ±Infinity some output carried becomes null)."""
    nb = nbformat.reads(strict_json_text(text), as_version=4)  # multi-line strings joined
    body = nbformat.writes(nbformat.from_dict(scrub_tree(nb, scrub)))  # values, then write
    return scrub(body if body.endswith("\n") else body + "\n")  # the text: every encoding


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` by renaming a complete file into place: a reader (or a kill
    at any moment) sees the old content or the new, never a part."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def scrub_notebook(path: Path, scrub: Callable[[str], str]) -> Any:
    """Rewrite the notebook at `path` scrubbed (`scrubbed_text`); return it."""
    text = path.read_text()
    clean = scrubbed_text(text, scrub)
    if clean != text:
        write_atomic(path, clean)
    return nbformat.reads(clean, as_version=4)


class RecordWriter:
    """The one way an executing notebook reaches disk (papermill's saves, see
    `runner.engine`): each save is scrubbed in memory, then renamed into place, so no
    moment of a run (autosave, a failing cell, the runner killed) leaves a secret in a
    file. `flush()` saves the notebook last given again (papermill adds its error marker
    cell after the last save)."""

    def __init__(self, path: Path, scrub: Callable[[str], str]) -> None:
        self.path = path
        self.scrub = scrub
        self.last: Any = None
        self._lock = threading.Lock()

    def __call__(self, nb: Any) -> None:
        self.last = nb
        with self._lock:
            write_atomic(self.path, scrubbed_text(nbformat.writes(nb), self.scrub))

    def flush(self) -> None:
        if self.last is not None:
            self(self.last)


@cache
def exporter() -> Any:
    """One HTML exporter per process (its templates load once); callers serialize use."""
    from nbconvert import HTMLExporter

    return HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)


_html_lock = threading.Lock()


def write_html(nb: Any, path: Path, scrub: Callable[[str], str]) -> None:
    """The notebook as HTML with code cells hidden (outputs only)."""
    with _html_lock:
        body, _ = exporter().from_notebook_node(nb)
    from netzops.runner.summary import with_banner  # its findings first (issue 14)

    path.write_text(scrub(with_banner(body, collect(nb).findings)))


def write_sidecar(path: Path, data: dict[str, Any], scrub: Callable[[str], str]) -> None:
    """The side-car: strict JSON (`allow_nan=False`; non-finite numbers are null)."""
    clean = scrub_tree(json_safe(data), scrub)  # values first, then the text
    path.write_text(scrub(json.dumps(clean, indent=2, sort_keys=True, allow_nan=False)))


def strict_json_text(text: str) -> str:
    """`text` (a JSON document) unchanged if it is strict JSON, else re-written with every
    NaN/Infinity/-Infinity token as null (as nbformat would write it, indent 1)."""
    found: list[str] = []

    def constant(token: str) -> None:
        found.append(token)

    data = json.loads(text, parse_constant=constant)
    if not found:
        return text
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def summary(collected: Collected) -> dict[str, Any]:
    top = worst(collected.findings)
    return {
        "worst": top.name if top is not None else None,
        "findings": [f.to_dict() for f in sorted(collected.findings, key=lambda f: f.priority)],
        "metrics": collected.metrics,
        "actions": collected.actions,
        "results": collected.results,
    }

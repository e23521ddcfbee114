"""The catalog of runbook notebooks: jupytext py:percent sources in notebooks/."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jupytext

from netzops.errors import BadInput
from netzops.paths import notebooks_dir
from netzops.runner.parameters import Parameter, declared

KERNEL = "netzops"
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class Notebook:
    name: str
    path: Path
    title: str
    parameters: list[Parameter]

    def read(self) -> Any:
        """The notebook as an nbformat node (converted in memory from the py:percent file),
        bound to the netzops kernel."""
        nb = jupytext.read(self.path, fmt="py:percent")
        nb.metadata["kernelspec"] = {
            "name": KERNEL,
            "display_name": "netzops (Python)",
            "language": "python",
        }
        nb.metadata.setdefault("language_info", {"name": "python"})
        return nb


def _parameters_cell(nb: Any) -> str:
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            return str(cell.source)
    return ""


def _title(nb: Any, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in str(cell.source).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def load(name: str, folder: Path | None = None) -> Notebook:
    """The notebook called `name` (kebab-case), with its declared parameters."""
    if not NAME.match(name):
        raise BadInput(f"invalid notebook name {name!r}: use lower-case letters, digits and -")
    path = (folder or notebooks_dir()) / f"{name}.py"
    if not path.is_file():
        known = ", ".join(catalog(folder)) or "none"
        raise BadInput(f"no notebook {name!r}; known: {known}")
    nb = jupytext.read(path, fmt="py:percent")
    return Notebook(name, path, _title(nb, name), declared(_parameters_cell(nb)))


def catalog(folder: Path | None = None) -> list[str]:
    return sorted(p.stem for p in (folder or notebooks_dir()).glob("*.py") if NAME.match(p.stem))

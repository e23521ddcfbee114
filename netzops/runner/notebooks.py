"""The catalog of runbook notebooks: jupytext py:percent sources in notebooks/.

`load` reads a notebook's title and parameters cell straight from the py:percent text (its
`# %%` cell markers), so that checking a run's parameters does not import jupytext and a
kernel can start before it loads; `Notebook.read` converts with jupytext.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
        import jupytext

        nb = jupytext.read(self.path, fmt="py:percent")
        nb.metadata["kernelspec"] = {
            "name": KERNEL,
            "display_name": "netzops (Python)",
            "language": "python",
        }
        nb.metadata.setdefault("language_info", {"name": "python"})
        return nb


_MARKER = re.compile(r"^# %%(.*)$", re.MULTILINE)


def cells(text: str) -> list[tuple[str, str]]:
    """(marker options, body) of each cell of a py:percent text, in order; a markdown cell's
    body without its `# ` comment prefixes; bodies without leading or trailing blank lines
    (as jupytext reads them)."""
    parts = _MARKER.split(text)
    found = []
    for options, body in zip(parts[1::2], parts[2::2], strict=True):
        lines = body.strip("\n").splitlines()
        if "[markdown]" in options:
            lines = [line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines]
        found.append((options, "\n".join(lines)))
    return found


def _parameters_cell(text: str) -> str:
    for options, body in cells(text):
        if "[markdown]" not in options and re.search(r"tags=\[[^]]*\bparameters\b", options):
            return body
    return ""


def preflight_cells(text: str) -> list[str]:
    """The code of the cells tagged `preflight`: checks of the parameters that touch nothing
    (no target, no file written), run by the runner before any kernel starts (`prepare`)
    and again, like any cell, in the kernel or in JupyterLab."""
    return [
        body
        for options, body in cells(text)
        if "[markdown]" not in options and re.search(r"tags=\[[^]]*\bpreflight\b", options)
    ]


def _title(text: str, fallback: str) -> str:
    for options, body in cells(text):
        if "[markdown]" in options:
            for line in body.splitlines():
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
    text = path.read_text()
    return Notebook(name, path, _title(text, name), declared(_parameters_cell(text)))


def catalog(folder: Path | None = None) -> list[str]:
    return sorted(p.stem for p in (folder or notebooks_dir()).glob("*.py") if NAME.match(p.stem))

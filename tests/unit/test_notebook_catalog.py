"""The catalog reads titles and parameters cells from the py:percent text itself (no
jupytext at load time); it agrees with jupytext's conversion on every runbook notebook."""

from __future__ import annotations

import subprocess
import sys

import jupytext

from netzops.runner import notebooks
from netzops.runner.parameters import declared


def test_catalog_agrees_with_jupytext() -> None:
    for name in notebooks.catalog():
        nb = notebooks.load(name)
        converted = jupytext.read(nb.path, fmt="py:percent")
        cell = next(
            c
            for c in converted.cells
            if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])
        )
        assert nb.parameters == declared(str(cell.source)), name
        heading = next(
            line[2:].strip()
            for c in converted.cells
            if c.cell_type == "markdown"
            for line in str(c.source).splitlines()
            if line.startswith("# ")
        )
        assert nb.title == heading, name


def test_loading_a_notebook_does_not_import_jupytext() -> None:
    code = (
        "import sys\nfrom netzops.runner import notebooks\nnotebooks.load('service-status')\n"
        "print('jupytext' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"

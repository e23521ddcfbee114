"""Every notebook runs top to bottom in a real kernel with its defaults, from the
notebooks folder, as JupyterLab would run it (no papermill, no runner)."""

from __future__ import annotations

import pytest
from nbclient import NotebookClient

from netzops.results import MIME_TYPE
from netzops.runner import notebooks
from netzops.targets import Target


@pytest.mark.parametrize("name", notebooks.catalog())
def test_notebook_runs_with_defaults(name: str, target: Target) -> None:
    notebook = notebooks.load(name)
    nb = notebook.read()
    NotebookClient(
        nb,
        timeout=300,
        kernel_name="netzops",
        resources={"metadata": {"path": str(notebook.path.parent)}},
    ).execute()
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any(MIME_TYPE in o.get("data", {}) for o in outputs)  # results displayed

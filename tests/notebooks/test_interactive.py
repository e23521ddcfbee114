"""Every notebook runs top to bottom in a real kernel with its defaults, from the
notebooks folder, as JupyterLab would run it (no papermill, no runner). The notebooks run
two at a time (each in its own kernel, as two Lab tabs would), each checked on its own."""

from __future__ import annotations

import asyncio
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from netzops.results import MIME_TYPE
from netzops.runner import notebooks
from netzops.targets import Target

AT_ONCE = 2  # the machine's cores


async def _run_all(names: list[str]) -> dict[str, nbformat.NotebookNode | BaseException]:
    gate = asyncio.Semaphore(AT_ONCE)

    async def run(name: str) -> nbformat.NotebookNode:
        notebook = notebooks.load(name)
        nb = notebook.read()
        async with gate:
            client = NotebookClient(
                nb,
                timeout=300,
                kernel_name="netzops",
                resources={"metadata": {"path": str(notebook.path.parent)}},
            )
            await client.async_execute()
        return nb

    done = await asyncio.gather(*(run(n) for n in names), return_exceptions=True)
    return dict(zip(names, done, strict=True))


@pytest.fixture(scope="module")
def executed(target: Target) -> dict[str, Any]:
    return asyncio.run(_run_all(notebooks.catalog()))


@pytest.mark.parametrize("name", notebooks.catalog())
def test_notebook_runs_with_defaults(name: str, executed: dict[str, Any]) -> None:
    nb = executed[name]
    if isinstance(nb, BaseException):
        raise nb
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any(MIME_TYPE in o.get("data", {}) for o in outputs)  # results displayed

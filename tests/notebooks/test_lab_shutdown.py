"""JupyterLab as the project starts it, with no netzops flags (`.venv/bin/jupyter lab` in the
repository, after `make bootstrap`'s `python -m netzops.runner.lab`):

- the runbook sources are read-only (the contents manager comes from the configuration,
  not only from `make lab`'s command line);
- shutting a session's kernel down (what Lab's "Shut Down Kernel" and closing a notebook
  do through the REST API) waits for the session record's final save: the last ledger line
  of the session says `ended`, and its files verify.

The kernel is driven over its own connection file (jupyter_client), as Lab's frontend
drives it over the server's websocket; no browser is needed for what is checked here.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_core.paths import jupyter_runtime_dir

from netzops.runner import kernels, lab, ledger
from tests.conftest import ROOT
from tests.notebooks.labserver import TOKEN, jupyter_lab


@pytest.fixture(scope="module")
def plain_lab() -> Iterator[tuple[httpx.Client, Path]]:
    """`jupyter lab` started in the repository with only port, address and token."""
    kernels.ensure_kernelspec()
    lab.install()  # what `make bootstrap` and `make lab` run
    outputs = ROOT / "outputs" / f"lab-shutdown-test-{uuid.uuid4().hex[:8]}"
    outputs.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k != "NETZOPS_ROOT"}
    try:
        with (
            jupyter_lab(cwd=ROOT, env={**env, "NETZOPS_OUTPUTS": str(outputs)}) as url,
            httpx.Client(base_url=url, params={"token": TOKEN}, timeout=120) as client,
        ):
            yield client, outputs
    finally:
        shutil.rmtree(outputs, ignore_errors=True)


def test_sources_are_read_only_without_netzops_flags(
    plain_lab: tuple[httpx.Client, Path],
) -> None:
    client, _ = plain_lab
    path = "/api/contents/notebooks/service-status.py"
    assert client.get(path, params={"content": 0}).json()["writable"] is False
    model = client.get(path, params={"type": "notebook", "content": 1}).json()
    saved = client.put(
        path, json={"type": "notebook", "format": "json", "content": model["content"]}
    )
    assert saved.status_code == 403 and "read-only" in saved.text


def _session_lines(outputs: Path, run_ids: set[str] | None = None) -> list[dict[str, Any]]:
    path = outputs / "ledger.jsonl"
    if not path.exists():
        return []
    return [
        e
        for e in ledger.entries(path)
        if e.get("interactive") and e.get("files") and (run_ids is None or e["run_id"] in run_ids)
    ]


@pytest.mark.parametrize("how", ["session", "kernel"])
def test_kernel_shutdown_waits_for_the_final_session_save(
    plain_lab: tuple[httpx.Client, Path], how: str
) -> None:
    client, outputs = plain_lab
    seen = {e["run_id"] for e in _session_lines(outputs)}
    notebook = outputs.relative_to(ROOT) / f"shutdown-{how}.ipynb"
    session = client.post(
        "/api/sessions",
        json={"path": str(notebook), "type": "notebook", "kernel": {"name": "netzops"}},
    ).json()
    kernel_id = session["kernel"]["id"]
    kc = BlockingKernelClient(
        connection_file=os.path.join(jupyter_runtime_dir(), f"kernel-{kernel_id}.json")
    )
    kc.load_connection_file()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        for code in ("target = 'sandbox'", "print('before shutdown')", "6 * 7"):
            reply = kc.execute_interactive(code, timeout=60, output_hook=lambda msg: None)
            assert reply["content"]["status"] == "ok"
    finally:
        kc.stop_channels()
    assert not [e for e in _session_lines(outputs) if e["run_id"] not in seen]  # not due yet
    if how == "session":
        assert client.delete(f"/api/sessions/{session['id']}").status_code == 204
    else:
        assert client.delete(f"/api/kernels/{kernel_id}").status_code == 204
    # the DELETE returns once the kernel process is gone: the save happened before that
    lines = [e for e in _session_lines(outputs) if e["run_id"] not in seen]
    assert lines, "no record of the session after its kernel shut down"
    last = lines[-1]
    assert last["status"] == "ended" and last["target"] == "sandbox"
    record = outputs / next(f for f in last["files"] if f.endswith(".ipynb"))
    side = json.loads(record.with_suffix(".json").read_text())
    assert side["status"] == "ended" and side["cells"] == 3 and side["errors"] == 0
    sources = ["".join(c["source"]) for c in json.loads(record.read_text())["cells"]]
    assert sources == ["target = 'sandbox'", "print('before shutdown')", "6 * 7"]
    for rel, digest in last["files"].items():
        assert ledger.file_hash(outputs / rel) == digest

"""JupyterLab opens the py:percent sources as notebooks (through jupytext), with the
parameters cell tagged: what an engineer sees with `make lab`."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import ROOT

TOKEN = "netzops-test-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def lab() -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "jupyter"),
            "lab",
            "--no-browser",
            "--allow-root",
            f"--ServerApp.port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={ROOT / 'notebooks'}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/api/status", params={"token": TOKEN}).is_success:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            raise AssertionError("JupyterLab did not start within 60 s")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_lab_opens_a_runbook_source_as_a_notebook(lab: str) -> None:
    reply = httpx.get(
        f"{lab}/api/contents/service-status.py",
        params={"token": TOKEN, "type": "notebook", "content": 1},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    nb = reply.json()
    assert nb["type"] == "notebook"
    cells = nb["content"]["cells"]
    tagged = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1 and "target: str" in tagged[0]["source"]
    assert nb["content"]["metadata"]["kernelspec"]["name"] == "netzops"

"""JupyterLab started for a test: a free local port, a known token, stopped afterwards."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import ROOT, wait_for

TOKEN = "netzops-test-token"


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/status", params={"token": TOKEN}).is_success
    except httpx.HTTPError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def jupyter_lab(
    *flags: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Iterator[str]:
    """`.venv/bin/jupyter lab` with `flags` on 127.0.0.1 and a free port; yields its URL
    once /api/status answers (60 s at most), terminates it afterwards."""
    port = _free_port()
    command = [str(ROOT / ".venv" / "bin" / "jupyter"), "lab", "--no-browser", "--allow-root"]
    command += [f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1"]
    command += [f"--IdentityProvider.token={TOKEN}", *flags]
    server = subprocess.Popen(
        command,
        cwd=cwd,
        env=None if env is None else dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(url), 60, "JupyterLab did not start")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=60)

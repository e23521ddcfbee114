"""JupyterLab opens the py:percent sources as notebooks (through jupytext), with the
parameters cell tagged: what an engineer sees with `make lab`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, sync_playwright

from netzops.runner import ledger
from tests.conftest import ROOT, wait_for
from tests.notebooks.labserver import TOKEN, jupyter_lab


@pytest.fixture(scope="module")
def lab() -> Iterator[str]:
    with jupyter_lab(f"--ServerApp.root_dir={ROOT / 'notebooks'}") as url:
        yield url


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


# --- sessions in JupyterLab, driven in Debian's chromium (Playwright; no browser download) ---


CHROMIUM = "/usr/bin/chromium"
ALL_NUMBERED = """() => {
  const shown = '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt';
  const p = [...document.querySelectorAll(shown)]
    .map(e => e.textContent);
  return p.length > 2 && p.every(t => /\\[\\d+\\]/.test(t));
}"""


@pytest.fixture(scope="module")
def session_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """Lab on the project root, as `make lab` starts it, recording into its own outputs
    folder inside the root (Lab opens sessions from there)."""
    from netzops.runner import kernels, lab

    kernels.ensure_kernelspec()
    lab.install()
    outputs = ROOT / "outputs" / f"lab-test-{uuid.uuid4().hex[:8]}"
    outputs.mkdir(parents=True)
    env = {
        **os.environ,
        "NETZOPS_OUTPUTS": str(outputs),
        "NETZOPS_ROOT": str(ROOT),
        "NETZOPS_SESSION_SAVE_S": "0",  # a snapshot after every cell
    }
    flags = (
        f"--ServerApp.root_dir={ROOT}",
        "--ServerApp.contents_manager_class=netzops.runner.lab.ContentsManager",
        "--LabApp.expose_app_in_browser=True",
        f"--LabApp.workspaces_dir={tmp_path_factory.mktemp('workspaces')}",
    )
    try:
        with jupyter_lab(*flags, env=env) as url:
            yield url, outputs
    finally:
        shutil.rmtree(outputs, ignore_errors=True)


def _open_session(page: Page, url: str, query: str) -> None:
    page.goto(f"{url}/lab?reset&token={TOKEN}")  # no tabs restored from an earlier test
    page.wait_for_selector(".jp-LauncherBody, .jp-Launcher", state="attached", timeout=60_000)
    page.goto(f"{url}/netzops/session?{query}&token={TOKEN}")
    page.wait_for_selector("text=netzops (Python) | Idle", timeout=90_000)
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", state="attached", timeout=30_000)
    page.evaluate(
        "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); return 1; }"
    )
    page.wait_for_function(ALL_NUMBERED, timeout=180_000, polling=250)


def _shut_down_kernels(url: str) -> None:
    with httpx.Client(base_url=url, params={"token": TOKEN}, timeout=60) as client:
        for session in client.get("/api/sessions").json():
            assert client.delete(f"/api/sessions/{session['id']}").status_code == 204


def _entries(outputs: Path) -> list[dict[str, Any]]:
    return list(ledger.entries(outputs / "ledger.jsonl"))


def _verify(outputs: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "netzops"), "ledger", "verify"],
        capture_output=True,
        text=True,
        env={**os.environ, "NETZOPS_OUTPUTS": str(outputs)},
        timeout=60,
    )


def _git_status_notebooks() -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", "notebooks"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_runbook_sources_are_read_only_in_lab(session_lab: tuple[str, Path]) -> None:
    url, _ = session_lab
    params = {"token": TOKEN}
    model = httpx.get(f"{url}/api/contents/notebooks/service-status.py", params=params).json()
    assert model["writable"] is False
    model = httpx.get(
        f"{url}/api/contents/notebooks/service-status.py",
        params={**params, "type": "notebook", "content": 1},
    ).json()
    saved = httpx.put(
        f"{url}/api/contents/notebooks/service-status.py",
        params=params,
        json={"type": "notebook", "format": "json", "content": model["content"]},
    )
    assert saved.status_code == 403 and "read-only" in saved.text


def test_a_lab_session_is_an_interactive_record(session_lab: tuple[str, Path]) -> None:
    url, outputs = session_lab
    before = _git_status_notebooks()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            _open_session(browser.new_page(), url, "notebook=service-status&target=sandbox")
        finally:
            browser.close()

    def recorded() -> list[dict[str, Any]]:
        return [e for e in _entries(outputs) if e.get("interactive") and e.get("files")]

    entry = wait_for(recorded, 30, "no interactive record in the ledger")[-1]
    _shut_down_kernels(url)
    assert entry["notebook"] == "service-status" and entry["target"] == "sandbox"
    record = outputs / next(f for f in entry["files"] if f.endswith(".ipynb"))
    side = json.loads(record.with_suffix(".json").read_text())
    assert side["interactive"] is True and side["errors"] == 0
    assert {r["check"] for r in side["results"]} >= {"service_status"}
    verified = _verify(outputs)
    assert verified.returncode == 0, verified.stdout
    assert _git_status_notebooks() == before  # the sources were not written
    listed = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "netzops"), "runs", "--interactive"],
        capture_output=True,
        text=True,
        env={**os.environ, "NETZOPS_OUTPUTS": str(outputs)},
        timeout=60,
    ).stdout
    assert entry["run_id"] in listed and "interactive" in listed


def _actions(outputs: Path) -> list[dict[str, Any]]:
    return [e["actions"][0] for e in _entries(outputs) if e.get("kind") == "action"]


def test_confirming_a_dry_run_in_lab_runs_it_through_the_guard(
    session_lab: tuple[str, Path],
) -> None:
    url, outputs = session_lab
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            _open_session(page, url, "notebook=restart-scale&target=sandbox&service=backend")
            dry = [a for a in _actions(outputs) if a["dry_run"] and a["action"] == "restart"]
            assert dry, "the dry run's audit entry is in the ledger at once"
            page.click("button:has-text('Confirm restart on sandbox')")
            typed = page.locator(".widget-text input")
            run = page.locator("button.widget-button:text-is('Run')")
            typed.fill("production")
            run.click()
            wait_for(
                lambda: [a for a in _actions(outputs) if "typed 'production'" in a["outcome"]],
                30,
                "the wrong name was not refused and audited",
            )
            page.wait_for_selector("text=— refused", timeout=30_000)
            typed.fill("sandbox")
            run.click()
            done = wait_for(
                lambda: [
                    a
                    for a in _actions(outputs)
                    if not a["dry_run"] and "refused" not in a["outcome"]
                ],
                180,
                "the confirmed restart has no audit entry",
            )[-1]
            page.wait_for_selector("text=restart on sandbox — done", timeout=60_000)
        finally:
            browser.close()
    assert done["fingerprint"] == dry[-1]["fingerprint"] and done["subject"] == "backend"
    assert done["verified"] is True
    _shut_down_kernels(url)
    assert [e for e in _entries(outputs) if e.get("interactive") and e.get("files")]
    assert _verify(outputs).returncode == 0

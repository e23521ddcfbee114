"""Issue 11, kind G, at every moment of a run: papermill saves the executed notebook as each
cell starts and completes (and autosaves during long cells), so a secret a cell printed used
to be on disk under outputs/ until the final scrub. Every save now goes through the
runner's `RecordWriter` (scrubbed in memory, renamed into place): these tests read every
file under outputs/ *while* a run holds a printed secret, after a kernel dies mid-run and
after the runner itself is killed with SIGKILL."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from netzops.findings import Priority
from netzops.runner import notebooks
from netzops.runner.execution import Exit, RunResult, execute, prepare
from netzops.secrets import SecretRef
from netzops.targets import Target
from tests.conftest import ROOT
from tests.unit.test_secrets_encodings import survivors

HOSTILE = {
    "NETZOPS_TEST_SECRET_A": "Grüße\\2026",
    "NETZOPS_TEST_SECRET_B": "50%off'\"\n",
    "NETZOPS_TEST_SECRET_C": "ab\\cd99xy",
}

#: Prints the secrets (raw, repr, HTML), says which kernel it is, then holds the run open
#: until the test has seen the in-progress record (the `flag` file), then does `finish`.
HOLDS = """# %% tags=["parameters"]
target: str = "sandbox"  # target
flag: str = ""  # file the test creates once it has read the in-progress record
finish: str = "ok"  # ok | raise | die

# %%
import os, pathlib, time
from IPython.display import HTML, display
values = [os.environ[k] for k in sorted(os.environ) if k.startswith("NETZOPS_TEST_SECRET_")]
print("kernel pid", os.getpid())
print("values:", *values)
display(HTML("".join(f"<p>{v!r}</p>" for v in values)))
values

# %%
deadline = time.monotonic() + 90
while not pathlib.Path(flag).exists() and time.monotonic() < deadline:
    time.sleep(0.02)
assert pathlib.Path(flag).exists(), "the test never saw the in-progress record"

# %%
if finish == "raise":
    raise ValueError(f"bad password {values!r}")
if finish == "die":
    os._exit(9)  # the kernel dies with the secrets in its last outputs
"""


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _leaks(root: Path) -> list[str]:
    found = []
    for path in _files(root):
        try:
            for secret in HOSTILE.values():
                if survivors(path, secret):
                    found.append(f"{secret!r} in {path}")
        except FileNotFoundError:  # a save renamed it away between listing and reading
            continue
    return found


def _in_progress(root: Path) -> Path | None:
    """The record notebook once a save shows the first cell's (masked) output."""
    for path in root.rglob("*-holds.ipynb"):
        try:
            text = path.read_text()
        except FileNotFoundError:
            continue
        if "values:" in text and "********" in text:
            return path
    return None


@pytest.fixture
def hostile(target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Target:
    """The target with the hostile secrets, and an outputs folder of the test's own: read
    again and again while the run holds them, it must hold only this run's files (the
    session's folder holds every earlier record)."""
    monkeypatch.setenv("NETZOPS_OUTPUTS", str(tmp_path / "outputs"))
    for name, value in HOSTILE.items():
        monkeypatch.setenv(name, value)
    refs = {name.lower(): SecretRef(env=name) for name in HOSTILE}
    return target.model_copy(update={"secrets": {**target.secrets, **refs}})


def _watch_run(tmp_path: Path, hostile: Target, finish: str) -> tuple[RunResult, list[str]]:
    """Run HOLDS in a thread while this thread reads every file under outputs/ again and
    again; returns the run and every leak seen at any moment."""
    outputs = Path(os.environ["NETZOPS_OUTPUTS"]) / hostile.name
    (tmp_path / "holds.py").write_text(HOLDS)
    nb = notebooks.load("holds", tmp_path)
    flag = tmp_path / f"flag-{finish}"
    params = prepare(nb, hostile, [], {"flag": str(flag), "finish": finish})
    done: list[RunResult] = []
    runner = threading.Thread(
        target=lambda: done.append(execute(nb, hostile, params, Priority.P0, 120))
    )
    runner.start()
    leaks: list[str] = []
    deadline = time.monotonic() + 150
    while runner.is_alive() and time.monotonic() < deadline:
        leaks += _leaks(outputs)
        time.sleep(0.005)  # a poll interval, not a wait for anything
        if not flag.exists() and _in_progress(outputs) is not None:
            leaks += _leaks(outputs)  # the moment papermill has saved the printed secrets
            flag.touch()
    runner.join(timeout=30)
    assert flag.exists(), "no in-progress save showed the first cell's output"
    assert done, "the run did not end"
    return done[0], leaks + _leaks(outputs)


def test_no_moment_of_a_run_leaves_a_secret_on_disk(tmp_path: Path, hostile: Target) -> None:
    run, leaks = _watch_run(tmp_path, hostile, "ok")
    assert run.exit == Exit.OK, run
    assert leaks == []
    assert "********" in run.notebook.read_text()
    assert not [p for p in run.notebook.parent.iterdir() if p.name.endswith(".tmp")]


def test_failing_cell_mid_run_leaves_no_secret(tmp_path: Path, hostile: Target) -> None:
    run, leaks = _watch_run(tmp_path, hostile, "raise")
    assert run.exit == Exit.FAILED
    assert leaks == []
    text = run.notebook.read_text()
    assert "ValueError" in text and "papermill-error-cell-tag" in text  # the marker kept


def test_kernel_dying_mid_run_leaves_no_secret(tmp_path: Path, hostile: Target) -> None:
    run, leaks = _watch_run(tmp_path, hostile, "die")
    assert run.exit == Exit.FAILED
    assert leaks == []
    assert "values:" in run.notebook.read_text()  # the partial record kept what ran


RUNNER = """
import sys
from pathlib import Path
from netzops.findings import Priority
from netzops.runner import notebooks
from netzops.runner.execution import execute, prepare
from netzops.secrets import SecretRef
from netzops.targets import load_target

target = load_target("sandbox")
names = [n for n in sys.argv[3:]]
refs = {n.lower(): SecretRef(env=n) for n in names}
target = target.model_copy(update={"secrets": {**target.secrets, **refs}})
nb = notebooks.load("holds", Path(sys.argv[1]))
params = prepare(nb, target, [], {"flag": sys.argv[2], "finish": "ok"})
execute(nb, target, params, Priority.P0, 120)
"""


def test_runner_killed_mid_run_leaves_no_secret(tmp_path: Path, hostile: Target) -> None:
    """SIGKILL of the runner while the record holds the printed secrets: what stays on
    disk is the last scrubbed save (the kernel, told by the test's flag, ends itself)."""
    outputs = tmp_path / "outputs"
    (tmp_path / "holds.py").write_text(HOLDS)
    flag = tmp_path / "flag-kill"
    env = {**os.environ, "NETZOPS_OUTPUTS": str(outputs)}
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(tmp_path), str(flag), *HOSTILE],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    kernel_pid = None
    leaks: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            leaks += _leaks(outputs) if outputs.exists() else []
            record = _in_progress(outputs) if outputs.exists() else None
            if record is not None:
                kernel_pid = int(re.findall(r"kernel pid (\d+)", record.read_text())[0])
                proc.send_signal(signal.SIGKILL)
                break
        assert record is not None, proc.stderr.read().decode() if proc.stderr else ""
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        flag.touch()  # the orphaned kernel's cell ends; it then loses its parent
    leaks += _leaks(outputs)
    assert leaks == []
    assert "********" in record.read_text()
    if kernel_pid is not None:
        _end(kernel_pid)


def _end(pid: int) -> None:
    """Wait (with a deadline) for the kernel this test started to go; kill it if not."""
    status = Path(f"/proc/{pid}/status")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if "\nState:\tZ" in status.read_text():  # exited, not yet reaped
                return
        except FileNotFoundError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)

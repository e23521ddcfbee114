"""A whole `netzops run` handed to the resident server (runner.handover, runner.forked_run):
the run happens in a fork of the server that took on the caller's folder and terminal, the
caller never loads the runner, and what the caller sees (output, exit status, death by a
signal) is what a run in its own process gives. Real processes; no sandbox."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from netzops.runner import resident
from tests.conftest import wait_for

NETZOPS = str(Path(sys.executable).parent / "netzops")
ROOT = Path(__file__).resolve().parents[2]
WAITS = """# %% tags=["parameters"]
target: str = "sandbox"  # target
flag: str = ""  # a file to wait for

# %%
import os, time
print("waiting in", os.getcwd())
while not os.path.exists(flag):
    time.sleep(0.05)
print("flag seen")
"""
FAILS = """# %% tags=["parameters"]
target: str = "sandbox"  # target

# %%
raise RuntimeError("this cell fails on purpose")
"""


@pytest.fixture()
def project(tmp_path: Path) -> dict[str, str]:
    """A project folder of two notebooks; the environment of a run from it."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "waits.py").write_text(WAITS)
    (tmp_path / "notebooks" / "fails.py").write_text(FAILS)
    return {
        **os.environ,
        "NETZOPS_ROOT": str(tmp_path),
        "NETZOPS_TARGETS": str(ROOT / "parameters" / "targets"),
        "NETZOPS_OUTPUTS": str(tmp_path / "outputs"),
    }


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NETZOPS, "run", *args], capture_output=True, text=True, env=env, timeout=120
    )


def _ppid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _runner_of(server: int, caller: int) -> int | None:
    """The child of the server writing to the caller's stdout (the same pipe)."""
    out = os.readlink(f"/proc/{caller}/fd/1")
    for pid in _children(server):
        try:
            if os.readlink(f"/proc/{pid}/fd/1") == out:
                return pid
        except OSError:
            continue
    return None


def test_the_run_happens_in_a_fork_of_the_server(
    server: resident.Status, project: dict[str, str], tmp_path: Path
) -> None:
    assert server.pid
    flag = tmp_path / "go"
    proc = subprocess.Popen(
        [NETZOPS, "run", "waits", "-p", f"flag={flag}"],
        cwd=tmp_path,
        env=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        runner = wait_for(lambda: _runner_of(server.pid or 0, proc.pid), 60, "the forked runner")
        assert os.readlink(f"/proc/{runner}/cwd") == str(tmp_path)
        # the caller is a thin client: the runner's libraries (pyzmq: the kernel's channels,
        # nbconvert's templates' jinja2) are mapped by the forked runner, not by the caller
        assert "zmq" in Path(f"/proc/{runner}/maps").read_text()
        assert "zmq" not in Path(f"/proc/{proc.pid}/maps").read_text()
        flag.touch()
        out, err = proc.communicate(timeout=120)
    finally:
        flag.touch()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out.splitlines()[0] == "completed: waits on sandbox (worst finding: none)"
    record = Path(out.splitlines()[1].removeprefix("record:").strip())
    assert record.is_relative_to(tmp_path / "outputs") and record.exists()
    assert f"waiting in {tmp_path}" in record.read_text()
    assert (tmp_path / "outputs" / "ledger.jsonl").read_text().count("\n") == 1


def test_a_caller_with_other_interpreter_settings_runs_it_itself(
    server: resident.Status, project: dict[str, str], tmp_path: Path
) -> None:
    """PYTHONPATH (a sitecustomize), PYTHONWARNINGS, …: read at interpreter start, which a
    fork of the server cannot take on; the server refuses and the caller runs it."""
    flag = tmp_path / "go"
    proc = subprocess.Popen(
        [NETZOPS, "run", "waits", "-p", f"flag={flag}"],
        env={**project, "PYTHONWARNINGS": "default"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: list((tmp_path / "outputs").rglob("*-waits.ipynb")), 60, "a record")
        assert _runner_of(server.pid or 0, proc.pid) is None
        assert "zmq" in Path(f"/proc/{proc.pid}/maps").read_text()
        flag.touch()
        _, err = proc.communicate(timeout=120)
    finally:
        flag.touch()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err


def test_output_and_exit_status_are_those_of_a_run_in_its_own_process(
    server: resident.Status, project: dict[str, str]
) -> None:
    alone = {**project, resident.ENV: "off"}
    for args in (("fails",), ("fails", "-p", "nope=1"), ("nothere",), ("fails", "--json")):
        handed, own = _run(project, *args), _run(alone, *args)
        assert (handed.returncode, handed.stderr) == (own.returncode, own.stderr), args
        assert len(handed.stdout.splitlines()) == len(own.stdout.splitlines()), args
    failed = _run(project, "fails")
    assert failed.returncode == 3
    assert "RuntimeError: this cell fails on purpose" in failed.stdout
    assert (
        _run(project, "nothere").stderr == "netzops: no notebook 'nothere'; known: fails, waits\n"
    )


@pytest.mark.parametrize(
    ("signum", "status"),
    [(signal.SIGINT, 1), (signal.SIGTERM, -signal.SIGTERM), (signal.SIGKILL, -signal.SIGKILL)],
)
def test_a_signal_to_the_caller_ends_the_run_as_it_would_end_its_own(
    server: resident.Status, project: dict[str, str], tmp_path: Path, signum: int, status: int
) -> None:
    """Ctrl-C is click's "Aborted!" (exit 1); SIGTERM ends caller and run; SIGKILL of the
    caller ends the run through its lifeline. Nothing of the run is left."""
    proc = subprocess.Popen(
        [NETZOPS, "run", "waits", "-p", f"flag={tmp_path / 'never'}"],
        env=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    runner = wait_for(lambda: _runner_of(server.pid or 0, proc.pid), 60, "the forked runner")
    record = wait_for(lambda: list((tmp_path / "outputs").rglob("*-waits.ipynb")), 60, "a record")
    wait_for(lambda: "waiting in" in record[0].read_text(), 60, "the cell running")
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == status
    if signum == signal.SIGINT:
        assert "Aborted!" in err
    wait_for(lambda: not Path(f"/proc/{runner}").exists(), 30, "the runner gone")
    wait_for(lambda: not _children(server.pid or 0), 30, "the run's kernel gone")


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if _ppid(int(entry.name)) == parent:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found

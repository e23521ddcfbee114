"""The resident warm kernel server (runner.resident): a single run forks its kernel from it,
the kernel gets the runner's environment, folder and niceness, lives exactly as long as its
lifeline (the runner's connection), and a server whose code changed is not used. Real
processes and kernels; no sandbox."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from netzops.runner import kernels, resident

DEADLINE_S = 60.0


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not _gone(pid):
        assert time.monotonic() < deadline, f"kernel {pid} still alive"
        time.sleep(0.05)


def _ask(km: kernels.IPCKernelManager, code: str) -> str:
    """The text the kernel prints for `code`."""

    async def run() -> str:
        client = km.client()
        client.start_channels()
        out: list[str] = []
        try:
            await client.wait_for_ready(timeout=DEADLINE_S)
            await client.execute_interactive(
                code,
                timeout=DEADLINE_S,
                output_hook=lambda m: out.append(m["content"].get("text", "")),
            )
        finally:
            client.stop_channels()
        return "".join(out).strip()

    return asyncio.run(run())


def test_a_run_forks_its_kernel_from_the_server(server: resident.Status, tmp_path: Path) -> None:
    assert server.running and server.pid
    assert resident.status().pid == server.pid
    env = kernels.headless_env({**os.environ, "NETZOPS_TEST_MARK": "from-the-runner"})
    km = kernels.start(env, tmp_path, ())
    try:
        assert isinstance(km.provisioner, resident.ResidentProvisioner)
        assert km.provisioner.forked
        pid = km.provisioner.pid
        seen = _ask(
            km,
            "import os; print(os.getppid(), os.environ.get('NETZOPS_TEST_MARK'),"
            " os.environ.get('NETZOPS_HEADLESS'), os.getcwd(), os.nice(0))",
        )
        assert seen.split() == [
            str(server.pid),
            "from-the-runner",
            "1",
            str(tmp_path),
            str(os.nice(0)),
        ]
    finally:
        kernels.kill(km)
    assert pid is not None
    _wait_gone(pid)


def test_a_kernel_dies_with_its_lifeline(server: resident.Status, tmp_path: Path) -> None:
    km = kernels.start(kernels.headless_env(), tmp_path, ())
    process = km.provisioner.process  # type: ignore[union-attr]
    assert isinstance(process, resident.Leased)
    assert _ask(km, "print(6 * 7)") == "42"
    process.release()  # what the runner's exit does too
    _wait_gone(process.pid)
    kernels.kill(km)


def test_without_a_server_a_run_starts_a_fresh_kernel(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("none")))
    assert not resident.status().running
    km = kernels.start(kernels.headless_env(), tmp_path, ())
    try:
        assert not km.provisioner.forked  # type: ignore[union-attr]
        assert _ask(km, "import os; print(os.getppid())") == str(os.getpid())
    finally:
        kernels.kill(km)


def test_switched_off_no_server_is_asked(
    server: resident.Status, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(resident.ENV, "off")
    km = kernels.start(kernels.headless_env(), tmp_path, ())
    try:
        assert not isinstance(km.provisioner, resident.ResidentProvisioner)
    finally:
        kernels.kill(km)


def test_a_changed_module_file_makes_the_server_stale(tmp_path: Path) -> None:
    module = tmp_path / "mod.py"
    module.write_text("x = 1\n")
    snapshot = {str(module): module.stat().st_mtime_ns}
    assert not resident._stale(snapshot)
    os.utime(module, ns=(time.time_ns(), module.stat().st_mtime_ns + 1_000_000))
    assert resident._stale(snapshot)
    module.unlink()
    assert resident._stale({str(module): 0})


def test_the_socket_is_private(server: resident.Status) -> None:
    path = Path(server.socket)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o077 == 0


def _niceness(value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "NETZOPS_NICE"}
    if value is not None:
        env["NETZOPS_NICE"] = value
    code = "from netzops.runner.kernels import lower_priority; print(lower_priority())"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.strip()


def test_headless_runs_lower_their_priority() -> None:
    base = os.nice(0)
    assert _niceness(None) == str(max(base, 10))  # the default, as monitoring agents run
    assert _niceness("15") == str(max(base, 15))
    assert _niceness("0") == str(base)  # never raised: that would need the privilege anyway
    assert _niceness("high") == str(max(base, 10))  # a bad value never stops a run


def test_kernels_status_says_whether_a_server_answers(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path_factory.mktemp("cli"))}
    netzops = str(Path(sys.executable).parent / "netzops")
    done = subprocess.run([netzops, "kernels", "status"], capture_output=True, text=True, env=env)
    assert done.returncode == 1
    assert "not running" in done.stdout and "fresh kernels" in done.stdout

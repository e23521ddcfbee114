"""A Docker daemon restart under the event recorder: every event the restarted daemon still
has is in the journal (same nanosecond times), the recorder survived and reconnected, and the
shutdown's container stops are there as events or as a visible gap with reconstructed dies.

Disruptive for everything on the machine: it restarts dockerd (as the bootstrap started it:
same command line and environment) and waits until the stack is healthy again (with
`sandbox up` as the fallback). Run it, like every sandbox test, inside the flock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from netzops import incidents
from netzops.incidents import journal as jr
from netzops.sandbox import stack
from netzops.targets import Target
from tests.conftest import sh

LABEL = "label=com.docker.compose.project=netzwaechter"
LOG = Path("/var/log/netzops/dockerd.log")


def _wait(what: str, test: Callable[[], object], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not test():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def _dockerd() -> int:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "dockerd":
                    return int(entry.name)
            except OSError:
                continue
    raise AssertionError("no dockerd process on this machine")


def _engine_answers() -> bool:
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


def _all_healthy() -> bool:
    ps = sh("docker", "ps", "--filter", LABEL, "--format", "{{.Names}} {{.Status}}", check=False)
    lines = ps.splitlines()
    return len(lines) >= 4 and all("(healthy)" in line for line in lines)


def restart_dockerd() -> float:
    """SIGTERM dockerd, wait until it is gone, start it again the same way; returns the
    time just before it was started again."""
    pid = _dockerd()
    command = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    environ = dict(
        item.split(b"=", 1)
        for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        if b"=" in item
    )
    os.kill(pid, signal.SIGTERM)
    _wait("dockerd to exit", lambda: not Path(f"/proc/{pid}").exists() or _zombie(pid), 90)
    restarted = time.time()
    LOG.parent.mkdir(parents=True, exist_ok=True)
    with LOG.open("ab") as log:
        subprocess.Popen(
            [c.decode() for c in command],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            env={k.decode(): v.decode() for k, v in environ.items()},
        )
    _wait("dockerd to answer", _engine_answers, 90)
    return restarted


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z"
    except OSError:
        return True


def test_dockerd_restart_loses_nothing_the_daemon_still_had(sandbox: Target) -> None:
    status = incidents.start_recorder(sandbox)
    assert status.running and status.pid and status.journal
    path = Path(status.journal)
    before = max(int(x["time_nano"]) for x in jr.read(path))
    try:
        restarted = restart_dockerd()
        _wait("the stack healthy again", _all_healthy, 150)
    finally:
        if not _all_healthy():
            stack.up(sandbox)  # leave the stack as found
    now = f"{time.time():.3f}"
    out = sh(
        "docker",
        "events",
        "--since",
        f"{restarted:.3f}",
        "--until",
        now,
        "--filter",
        "type=container",
        "--filter",
        LABEL,
        "--format",
        "{{json .}}",
    )
    had = {
        (int(e["timeNano"]), e["id"][:12], e["Action"].partition(":")[0])
        for e in map(json.loads, out.splitlines())
        if e["Action"].partition(":")[0] in jr.ACTIONS
    }
    assert {a for _, _, a in had} >= {"start"}, "the restarted daemon reports the restarts"

    def journaled() -> bool:
        return had <= {jr.key(x) for x in jr.read(path) if x["entry"] == "event"}

    _wait("every event the daemon had, in the journal", journaled, 60)
    after = incidents.recorder_status("sandbox")
    assert after.running and after.pid == status.pid, "the recorder survived the restart"
    lines = [x for x in jr.read(path) if int(x["time_nano"]) > before]
    assert any(x["entry"] in ("reconnect", "gap") for x in lines), "the break is visible"
    stopped = {x["container"] for x in lines if x.get("action") in ("die", "stop", "kill")}
    names = sh("docker", "ps", "--filter", LABEL, "--format", "{{.Names}}").split()
    assert set(names) <= stopped | {x["container"] for x in lines if x["entry"] == "reconstructed"}
    nanos = [int(x["time_nano"]) for x in jr.read(path)]
    assert nanos == sorted(nanos)

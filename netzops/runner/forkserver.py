"""Kernels forked from a warm parent: a jupyter_client provisioner over a fork server.

Starting a kernel process costs the interpreter start, ipykernel's imports and the
notebooks' imports (pandas, docker, …) every time. A `ForkServer` is one process that has
imported all of that once (and no threads, sockets or event loop yet); for each kernel it
forks, and the child sets the kernel's environment and folder, starts a new session and
runs `IPKernelApp` with the manager's connection file. `ForkProvisioner` is jupyter_client's
`LocalProvisioner` with the `Popen` replaced by that fork, so the kernel manager, nbclient
and papermill work as with any kernel (signals go to the child's process group).

Used by `kernels.Pool` when it starts more than one kernel; a single run starts its kernel
the ordinary way (a fork server would cost as much as the kernel it saves).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning.local_provisioner import LocalProvisioner

SERVER = r"""
import json, os, signal, sys
import ipykernel.kernelapp, ipykernel.ipkernel, ipykernel.zmqshell
try:  # the debugger (debugpy) is most of a kernel's start-up: import it once, here
    import ipykernel.debugger
except ImportError:
    pass
for name in sys.argv[1:]:
    try:
        __import__(name)
    except ImportError:
        pass
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the system
protocol = os.fdopen(os.dup(1), "w")
print(json.dumps({"ready": True}), file=protocol, flush=True)
for line in sys.stdin:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        try:  # die with the server (which exits when the runner closes its stdin)
            import ctypes
            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        quiet = os.open(os.devnull, os.O_RDWR)
        os.dup2(quiet, 0)
        os.dup2(quiet, 1)
        protocol.close()
        sys.stdin = open(os.devnull)
        from ipykernel.kernelapp import IPKernelApp
        IPKernelApp.launch_instance(argv=request["argv"])
        os._exit(0)
    print(json.dumps({"pid": pid}), file=protocol, flush=True)
"""


class ForkServer:
    """One warm process that forks kernels (see the module docstring)."""

    def __init__(self, warm: tuple[str, ...]) -> None:
        self._lock = threading.Lock()
        self.process = subprocess.Popen(
            [sys.executable, "-Xfrozen_modules=off", "-c", SERVER, *warm],  # as the kernelspec
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},  # no threads before fork
        )
        self._ready = False

    def _answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the kernel fork server exited")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def spawn(self, argv: list[str], env: dict[str, str], cwd: str) -> int:
        """Fork a kernel with these IPKernelApp arguments; its pid."""
        with self._lock:
            if not self._ready:
                self._answer()
                self._ready = True
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps({"argv": argv, "env": env, "cwd": cwd}) + "\n")
            self.process.stdin.flush()
            return int(self._answer()["pid"])

    def close(self) -> None:
        with self._lock:
            if self.process.stdin is not None:
                self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Forked:
    """What `LocalProvisioner` needs of a `Popen` for a process that is not our child."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                with open(f"/proc/{self.pid}/stat") as fh:
                    if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                        self.returncode = 0
            except (FileNotFoundError, ProcessLookupError, IndexError):
                self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.01)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkProvisioner(LocalProvisioner):
    """`LocalProvisioner` whose kernel is forked by a `ForkServer` (set `server`)."""

    server: ForkServer | None = None

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        assert self.server is not None
        argv = cmd[cmd.index("ipykernel_launcher") + 1 :]
        cwd = str(kwargs.get("cwd") or os.getcwd())
        pid = self.server.spawn(argv, dict(kwargs["env"]), cwd)
        self.process = Forked(pid)  # type: ignore[assignment]  # Popen-like
        self.pid = self.pgid = pid  # the child started its own session
        self.cwd = cwd
        connection: KernelConnectionInfo = self.connection_info
        return connection

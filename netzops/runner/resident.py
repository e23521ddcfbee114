"""A resident warm kernel server per machine: `netzops run` forks its kernel from it.

A fresh kernel costs an interpreter start plus ipykernel's and the notebooks' imports
(1–3 s on two busy cores); a kernel forked from a process that imported all of that once is
ready in a fraction of that. `kernels.Pool` forks from a `forkserver.ForkServer` of its own
when a report runs several notebooks; a single `netzops run` cannot amortise one, so it forks
from this server when one is running, and starts a fresh kernel when none answers.

    netzops kernels start|stop|status      (`netzops sandbox up` starts it)

The server listens on a unix socket in the per-machine state folder (mode 0700, peer uid
checked), named after the interpreter and the netzops checkout it serves, so another clone
or virtualenv never gets kernels with this one's code. Safety:
    - one kernel per request, never reused: the runner discards it after its one notebook;
    - the child clears the server's environment and takes the runner's (secrets are resolved
      in the kernel as before, never sent over the socket), its working folder and niceness;
    - the request's connection stays open as the kernel's lifeline: when the runner closes it
      (kernel discarded) or dies, the kernel's process group is killed;
    - before each fork the server checks that no module file it imported, and no file of the
      netzops package (data: thresholds, SQL), has changed since (a `git pull`, a `pip
      install`); if one has it answers "stale", the runner falls back to a fresh kernel, and
      the server re-executes itself with the new code.
It also runs whole `netzops run` commands handed over by the program (`runner.handover`,
`runner.forked_run`): the child has the runner imported and its templates compiled.
Protocol: one JSON line each way per connection, {"argv", "env", "cwd", "executable",
"nice"} → {"pid"} or {"error"}; {"run", "env", "cwd", "umask", "executable", "nice"} with
stdin, stdout and stderr attached → {"pid"} then {"exit"}, or {"error"};
{"ping": true} → {"pid", "started", "executable", "root"}.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_client.connect import KernelConnectionInfo

from netzops.runner import forked_run
from netzops.runner.forkserver import Forked, ForkProvisioner
from netzops.runner.handover import (
    CONNECT_TIMEOUT_S,
    ENV,
    ROOT,
    connect,
    enabled,
    exchange,
    request_for,
    request_fork,
    send,
    socket_path,
    state_dir,
)

__all__ = ["ENV", "enabled", "lease", "socket_path", "start", "state_dir", "status", "stop"]

WAIT_S = 60.0  # how long `start` waits for a new server's imports
NICE = 10  # the server's own priority while it imports (kernels.NICE; not imported: light)
CHECK_EVERY_S = 30.0  # an idle server checks its module files this often (re-exec if stale)
IDLE_EXIT_S = 24 * 3600.0  # a server nobody asked for a day ends (a removed clone's, say)
MODULE = "netzops.runner.resident"


@dataclass(frozen=True)
class Status:
    running: bool
    pid: int | None
    started: str | None
    socket: str


def status() -> Status:
    """Whether this checkout's server answers, and its pid and start time."""
    path = socket_path()
    try:
        with contextlib.closing(connect(path)) as sock:
            answer = exchange(sock, {"ping": True})
    except (OSError, ValueError):
        return Status(False, None, None, str(path))
    return Status(True, int(answer["pid"]), str(answer["started"]), str(path))


def start(wait: bool = True) -> Status:
    """Start the server detached (own session, no terminal) unless one answers; returns once
    it answers (its imports done) or raises RuntimeError after WAIT_S; at once (not running
    yet) without `wait`. Idempotent: a second server gives way to the first."""
    now = status()
    if now.running:
        return now
    path = socket_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    log = path.with_suffix(".log").open("ab")
    command = [sys.executable, "-Xfrozen_modules=off", "-m", MODULE]
    proc = subprocess.Popen(
        [*command, str(path)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},  # no threads before fork
        cwd="/",
    )
    log.close()
    if not wait:
        return Status(False, proc.pid, None, str(path))
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        now = status()
        if now.running:
            return now
        if proc.poll() is not None:
            now = status()  # another start won the race: its server answers
            if now.running:
                return now
            raise RuntimeError(f"the kernel server ended at once; see {path.with_suffix('.log')}")
        time.sleep(0.05)
    raise RuntimeError(f"the kernel server did not answer within {WAIT_S:g} s")


def stop() -> Status:
    """SIGTERM the server (kernels it forked live on until their runners discard them)."""
    now = status()
    if now.running and now.pid:
        os.kill(now.pid, signal.SIGTERM)
        deadline = time.monotonic() + WAIT_S
        while status().running and time.monotonic() < deadline:
            time.sleep(0.05)
    return status()


class Leased(Forked):
    """A kernel forked by the resident server; closing `lifeline` kills it."""

    def __init__(self, pid: int, lifeline: socket.socket) -> None:
        super().__init__(pid)
        self.lifeline = lifeline

    def release(self) -> None:
        with contextlib.suppress(OSError):
            self.lifeline.close()

    def kill(self) -> None:
        super().kill()
        self.release()


def lease(argv: list[str], env: dict[str, str], cwd: str) -> Leased | None:
    """A kernel forked by this checkout's server with these IPKernelApp arguments, or None
    when no server answers in time or it refuses (stale code, another interpreter)."""
    forked = request_fork({**request_for(argv=argv), "env": env, "cwd": cwd})
    if forked is None:
        return None
    sock, pid = forked
    sock.settimeout(None)
    return Leased(pid, sock)


class ResidentProvisioner(ForkProvisioner):
    """jupyter_client's `LocalProvisioner` whose kernel is forked by the resident server,
    or started the ordinary way when none answers (`forked` says which)."""

    forked: bool = False

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        argv = cmd[cmd.index("ipykernel_launcher") + 1 :]
        cwd = str(kwargs.get("cwd") or os.getcwd())
        leased = lease(argv, dict(kwargs.get("env") or os.environ), cwd)
        if leased is None:  # a fresh kernel, as without a server
            return await super(ForkProvisioner, self).launch_kernel(cmd, **kwargs)
        self.forked = True
        self.process = leased  # type: ignore[assignment]  # Popen-like
        self.pid = self.pgid = leased.pid  # the child started its own session
        self.cwd = cwd
        connection: KernelConnectionInfo = self.connection_info
        return connection

    async def cleanup(self, restart: bool = False) -> None:
        process = self.process
        await super().cleanup(restart)
        if isinstance(process, Leased):
            process.release()


# --- the server ----------------------------------------------------------------------------


def _modules() -> dict[str, int]:
    """mtime_ns of every imported module's file and of every file of the netzops package
    (its data: thresholds, SQL, causes), which is what a stale check compares."""
    found: dict[str, int] = {}
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            with contextlib.suppress(OSError):
                data = os.path.join(folder, name)
                found[data] = os.stat(data).st_mtime_ns
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and path not in found:
            with contextlib.suppress(OSError):
                found[path] = os.stat(path).st_mtime_ns
    return found


def _stale(snapshot: dict[str, int]) -> bool:
    for path, mtime in snapshot.items():
        try:
            if os.stat(path).st_mtime_ns != mtime:
                return True
        except OSError:
            return True
    return False


def _peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", creds)[1])


def _lifeline(conn: socket.socket) -> None:
    """In the kernel: wait until the runner closes the connection, then end the kernel's
    process group (the kernel and whatever it started)."""
    with contextlib.suppress(OSError):
        while conn.recv(4096):
            pass
    os.killpg(os.getpid(), signal.SIGKILL)


def _child(conn: socket.socket, request: dict[str, Any], inherited: list[Any]) -> None:
    """In the forked child: become the kernel the request describes; never returns.
    `inherited`: the server's listener and lock, closed here (a kernel holding the lock
    would keep a restarted server from taking it)."""
    try:
        for thing in inherited:
            thing.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.setsid()
        with contextlib.suppress(OSError):  # lower than the server's needs the privilege
            os.setpriority(os.PRIO_PROCESS, 0, int(request.get("nice", 0)))
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        quiet = os.open(os.devnull, os.O_RDWR)
        os.dup2(quiet, 0)
        os.dup2(quiet, 1)  # stderr stays the server's log
        sys.stdin = open(os.devnull)  # noqa: SIM115  # the kernel's own, for its lifetime
        conn.settimeout(None)
        threading.Thread(target=_lifeline, args=(conn,), daemon=True).start()
        from ipykernel.kernelapp import IPKernelApp

        IPKernelApp.launch_instance(argv=request["argv"])
    finally:
        os._exit(0)


def _answer(conn: socket.socket, reply: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        send(conn, reply)


def _read(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """One request and the file descriptors sent with it (a run's stdin, stdout, stderr)."""
    data, fds, _, _ = socket.recv_fds(conn, 65536, 3)
    while data and not data.endswith(b"\n") and len(data) < 4 << 20:
        part = conn.recv(65536)
        if not part:
            break
        data += part
    try:
        request: dict[str, Any] = json.loads(data)
    except ValueError:
        _close(fds)
        raise
    return request, fds


def _close(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def _handle(
    conn: socket.socket, snapshot: dict[str, int], started: str, inherited: list[Any]
) -> bool:
    """Serve one connection; False when the server must re-execute (stale code)."""
    conn.settimeout(CONNECT_TIMEOUT_S)
    if _peer_uid(conn) != os.getuid():
        _answer(conn, {"error": "another user"})
        return True
    request, fds = _read(conn)
    try:
        return _serve(conn, request, fds, snapshot, started, inherited)
    finally:
        _close(fds)  # the child has its own copies


def _serve(
    conn: socket.socket,
    request: dict[str, Any],
    fds: list[int],
    snapshot: dict[str, int],
    started: str,
    inherited: list[Any],
) -> bool:
    if request.get("ping"):
        me = os.path.realpath(sys.executable)
        _answer(conn, {"pid": os.getpid(), "started": started, "executable": me, "root": ROOT})
        return True
    if request.get("executable") != os.path.realpath(sys.executable):
        _answer(conn, {"error": "another interpreter"})
        return True
    if _stale(snapshot):
        _answer(conn, {"error": "stale"})
        return False
    run = "run" in request
    refused = forked_run.refusal(request) if run else None
    if refused:
        _answer(conn, {"error": refused})
        return True
    pid = os.fork()
    if pid == 0:
        if run:  # a whole `netzops run`: the child answers with its pid and exit status
            forked_run.become_run(conn, request, fds, inherited)
        _child(conn, request, inherited)
    if not run:
        _answer(conn, {"pid": pid})
    return True


def _warm() -> None:
    import ipykernel.ipkernel
    import ipykernel.kernelapp
    import ipykernel.zmqshell

    from netzops.runner.kernels import EXTENSION, WARM

    with contextlib.suppress(ImportError):  # debugpy: much of a kernel's start-up
        import ipykernel.debugger  # noqa: F401
    for name in ("netzops.runner.headless_kernel", EXTENSION, *WARM):
        # a module that does not import (say, mid-edit) is simply not warm: the kernel
        # imports it itself and meets the same error a fresh kernel would
        with contextlib.suppress(Exception):
            __import__(name)
    forked_run.warm()


def serve(path: Path) -> None:
    """The server's main loop (python -m netzops.runner.resident PATH): import, bind, fork a
    kernel per request; re-execute itself when an imported module's file changed."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock = path.with_suffix(".lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        sys.exit("another kernel server holds " + str(path.with_suffix(".lock")))
    with contextlib.suppress(OSError):  # its own imports (and re-imports) are background work
        os.setpriority(os.PRIO_PROCESS, 0, max(os.nice(0), NICE))
    _warm()
    snapshot = _modules()
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the system
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    os.chmod(path, 0o600)
    listener.listen(16)
    listener.settimeout(CHECK_EVERY_S)
    fresh, asked = True, time.monotonic()
    try:
        while fresh:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                if time.monotonic() - asked > IDLE_EXIT_S:
                    return
                fresh = not _stale(snapshot)
                continue
            asked = time.monotonic()
            with conn:
                try:
                    fresh = _handle(conn, snapshot, started, [listener, lock])
                except (OSError, ValueError, KeyError):
                    continue
    finally:
        listener.close()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    lock.close()  # the re-executed server takes the lock again
    os.execv(sys.executable, [sys.executable, "-Xfrozen_modules=off", "-m", MODULE, str(path)])


if __name__ == "__main__":
    serve(Path(sys.argv[1]))

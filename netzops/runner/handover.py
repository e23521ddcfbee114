"""The thin side of the resident server (`runner.resident`): where its socket is, one JSON
line each way, and `hand_over`, which lets the server run a whole `netzops run`.

A `netzops run` process pays about a second of Python imports (papermill, nbclient,
nbconvert, jupytext, netzops) and template compilation before its notebook starts; the
resident server has all of that imported once. `hand_over` sends the command line, the
environment, the folder, umask and niceness, and the terminal itself (stdin, stdout and
stderr as file descriptors, SCM_RIGHTS), and the server forks a child that runs the command
exactly as this process would have, writing straight to this terminal. This process stays
as the run's face: it forwards SIGINT, SIGTERM, SIGHUP and SIGQUIT to the child, and exits
with the child's exit status. The connection is the child's lifeline: when this process
dies, the child is killed (as the run would have died with it).

Only the standard library here: it runs before anything else is imported. When no server
answers, or it refuses (stale code, another interpreter), the caller runs the command
itself as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

ENV = "NETZOPS_KERNEL_SERVER"  # "off": never use a resident server (always a fresh kernel)
CONNECT_TIMEOUT_S = 2.0  # a server that does not answer a fork this fast is not used
ROOT = str(Path(__file__).resolve().parent.parent)  # the netzops package the server serves
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
LOST = 3  # runner.Exit.FAILED: the child ended without telling its exit status


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "netzops" / "kernels"


def socket_path() -> Path:
    """The socket of this interpreter's and checkout's server (short: unix paths ≤ 107)."""
    key = hashlib.sha256(f"{os.path.realpath(sys.executable)}\n{ROOT}".encode()).hexdigest()
    return state_dir() / f"{key[:12]}.sock"


def enabled() -> bool:
    return os.environ.get(ENV, "").lower() not in ("off", "0", "no", "false")


def connect(path: Path, timeout: float = CONNECT_TIMEOUT_S) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        raise
    return sock


def send(sock: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    """One JSON line; `fds` travel with its first byte (SCM_RIGHTS)."""
    data = (json.dumps(message) + "\n").encode()
    if fds:
        sent = socket.send_fds(sock, [data], fds)
        data = data[sent:]
    sock.sendall(data)


def receive(sock: socket.socket) -> dict[str, Any]:
    """One JSON line; ConnectionError when the other side closed before a whole one."""
    reply = b""
    while not reply.endswith(b"\n"):
        part = sock.recv(1)
        if not part:
            raise ConnectionError("the kernel server closed the connection")
        reply += part
    answer: dict[str, Any] = json.loads(reply)
    return answer


def exchange(sock: socket.socket, request: dict[str, Any]) -> dict[str, Any]:
    send(sock, request)
    return receive(sock)


def request_for(**fields: Any) -> dict[str, Any]:
    """A request with what the server checks and the child takes on (interpreter,
    environment, folder, niceness)."""
    return {
        "executable": os.path.realpath(sys.executable),
        "env": dict(os.environ),
        "cwd": os.getcwd(),
        "nice": os.nice(0),
        **fields,
    }


def request_fork(
    request: dict[str, Any], fds: list[int] | None = None
) -> tuple[socket.socket, int] | None:
    """Ask this checkout's server to fork for `request` (`request_for`; `fds` sent with
    it): the open connection and the child's pid, or None when no server answers in time
    or it refuses (switched off, stale code, another interpreter)."""
    if not enabled():
        return None
    try:
        sock = connect(socket_path())
    except OSError:
        return None
    try:
        send(sock, request, fds)
        answer = receive(sock)
    except (OSError, ValueError):
        answer = {}
    if "pid" not in answer:
        sock.close()
        return None
    return sock, int(answer["pid"])


def hand_over(args: list[str]) -> int | None:
    """Run `netzops ARGS` in a child of this checkout's resident server and return its exit
    status; None (nothing has run) when no server answers in time or it refuses."""
    umask = os.umask(0o022)
    os.umask(umask)
    forked = request_fork(request_for(run=args, umask=umask), [0, 1, 2])
    if forked is None:
        return None
    sock, pid = forked
    with contextlib.closing(sock):
        return _follow(sock, pid)


def _follow(sock: socket.socket, pid: int) -> int:
    """Forward signals to the child `pid` until it reports its exit status. A child ended
    by a forwarded signal ends this process by the same signal, as the run would have."""
    forwarded: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        forwarded.append(signum)
        with contextlib.suppress(OSError):
            os.kill(pid, signum)

    for signum in FORWARDED:
        if signal.getsignal(signum) != signal.SIG_IGN:  # ignored here: ignored by the run
            signal.signal(signum, forward)
    sock.settimeout(None)
    try:
        return int(receive(sock)["exit"])
    except (OSError, ValueError, KeyError):  # the child was killed: no status came
        if forwarded:
            signal.signal(forwarded[-1], signal.SIG_DFL)
            os.kill(os.getpid(), forwarded[-1])
        print("netzops: the run ended without an exit status (killed?)", file=sys.stderr)
        return LOST

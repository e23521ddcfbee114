"""In the resident server: a whole `netzops run` in a forked child, the server side of
`handover.hand_over`.

The server imports the runner (papermill, nbclient, nbconvert, jupytext, the CLI) and
compiles the HTML templates once (`warm`); each handed-over command is run by a fork of it
(`become_run`) that takes on the caller's environment, folder, umask, niceness and terminal
(the three file descriptors sent with the request) and runs the command line exactly as the
`netzops` program would, then reports its exit status on the connection. Its own session
keeps it out of the server's fate; the connection is its lifeline (the caller gone, the
child's process group is killed, as the run would have died with its process).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from typing import Any, NoReturn

from netzops.runner.handover import LOST, send

#: What a run imports after its kernel is asked for; imported once by the server.
RUNNER = (
    "papermill",
    "nbclient",
    "nbformat",
    "jupytext",
    "nbconvert",
    "netzops.cli",
    "netzops.runner.execution",
    "netzops.runner.engine",
    "netzops.runner.records",
    "netzops.runner.ledger",
    "netzops.runner.terminal",
    "netzops.runner.summary",
)


def warm() -> None:
    """Import the runner and compile the record's HTML templates (one small conversion)."""
    for name in RUNNER:
        with contextlib.suppress(Exception):  # not warm: the child imports it itself
            __import__(name)
    with contextlib.suppress(Exception):
        from nbformat import v4

        from netzops.runner import records

        cell = v4.new_code_cell("print(1)", outputs=[v4.new_output("stream", text="1\n")])
        records.exporter().from_notebook_node(v4.new_notebook(cells=[cell]))


def refusal(request: dict[str, Any]) -> str | None:
    """Why the server cannot run this command as the caller's own process would, or None.
    Settings read while an interpreter starts (PYTHONPATH, PYTHONWARNINGS, PYTHONHASHSEED,
    sitecustomize on the path, …) cannot be taken on by a fork: such a caller runs it."""
    mine, theirs = _startup_settings(os.environ), _startup_settings(request.get("env", {}))
    differ = sorted(k for k in {*mine, *theirs} if mine.get(k) != theirs.get(k))
    return f"interpreter settings differ: {', '.join(differ)}" if differ else None


def _startup_settings(env: Any) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith("PYTHON")}


def become_run(
    conn: socket.socket, request: dict[str, Any], fds: list[int], inherited: list[Any]
) -> NoReturn:
    """In the forked child: run `netzops REQUEST["run"]` as the caller's process would;
    never returns. `inherited`: the server's listener and lock, closed here."""
    code, done = LOST, threading.Event()
    try:
        for thing in inherited:
            thing.close()
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.setsid()
        with contextlib.suppress(OSError):  # lower than the server's needs the privilege
            os.setpriority(os.PRIO_PROCESS, 0, int(request.get("nice", 0)))
        os.umask(int(request.get("umask", 0o022)))
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()  # TZ as the caller has it
        tempfile.tempdir = None  # TMPDIR as the caller has it (the server's is cached)
        random.seed()  # not the server's sequence, shared by every fork
        os.chdir(request["cwd"])
        _take_terminal(fds)
        conn.settimeout(None)
        send(conn, {"pid": os.getpid()})
        threading.Thread(target=_lifeline, args=(conn, done), daemon=True).start()
        code = _main([str(arg) for arg in request["run"]])
    except BaseException:  # the child must reach os._exit whatever happens
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        done.set()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        with contextlib.suppress(OSError):
            send(conn, {"exit": code})
        os._exit(code)


def _take_terminal(fds: list[int]) -> None:
    """The caller's stdin, stdout and stderr become this process's 0, 1 and 2, and Python's
    streams are opened on them anew (buffering follows the new files: a terminal's stdout
    is line-buffered)."""
    if len(fds) != 3:
        raise ValueError(f"a run needs stdin, stdout and stderr, got {len(fds)} descriptors")
    for number, fd in enumerate(fds):
        os.dup2(fd, number)
        os.close(fd)
    encoding, errors = sys.__stdout__.encoding if sys.__stdout__ else "utf-8", "strict"
    sys.stdin = open(0, encoding=encoding, closefd=False)  # noqa: SIM115
    sys.stdout = open(  # noqa: SIM115
        1, "w", encoding=encoding, errors=errors, buffering=1 if os.isatty(1) else -1, closefd=False
    )
    sys.stderr = open(  # noqa: SIM115
        2, "w", encoding=encoding, errors="backslashreplace", buffering=1, closefd=False
    )


def _main(args: list[str]) -> int:
    """`netzops ARGS` as the program runs it (click's standalone mode): its exit status."""
    from netzops.cli import main

    sys.argv = ["netzops", *args]
    try:
        main(args=args, prog_name="netzops")
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    except Exception:  # as the interpreter ends on an uncaught exception
        traceback.print_exc()
        return 1
    return 0


def _lifeline(conn: socket.socket, done: threading.Event) -> None:
    """Wait until the caller closes the connection; if the run is not done by then, end
    this process group (the run and whatever it started)."""
    with contextlib.suppress(OSError):
        while conn.recv(4096):
            pass
    if not done.is_set():
        os.killpg(os.getpid(), signal.SIGKILL)

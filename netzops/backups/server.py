"""PostgreSQL's own client tools inside the database container (Docker Engine API exec).

pg_dump and pg_restore must have the server's major version; the container has exactly the
server's (the runbook's `docker exec netzwaechter-postgres pg_dump ...`). They run as the
user of the container's main process and reach the server over its local socket, so no
password is passed (the container's local authentication decides). Input and output are
streamed through the exec's socket in blocks, never held in memory.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

import psycopg
from docker import DockerClient
from docker.models.containers import Container

from netzops.checks import checker
from netzops.containers.status import ENGINE_ERRORS, project_containers
from netzops.errors import TargetUnreachable
from netzops.findings import Finding, Priority
from netzops.results import Result
from netzops.targets import Target

BLOCK = 1 << 20  # bytes per read or write
IDLE_S = 600.0  # a tool silent (and not reading) this long is given up on
STDOUT, STDERR = 1, 2
_USERS: dict[str, str] = {}  # container id → uid:gid of its main process
_VERSIONS: dict[str, str] = {}  # "container id:tool" → its --version
DRAIN = ["sh", "-c", '"$@"; rc=$?; cat >/dev/null; exit $rc', "netzops"]


def _unprotected(check: str, title: str, exc: Exception) -> Result:
    """The database or its container did not answer: the database is not protected (P1)."""
    text = str(exc).strip()
    why = f"{title}: {text.splitlines()[0] if text else type(exc).__name__}"[:240]
    return Result.of(check, title, findings=[Finding(check, "postgres", Priority.P1, why)])


#: The backups check decorator (see `netzops.checks`).
check = checker("backups", (TargetUnreachable, psycopg.Error, *ENGINE_ERRORS), _unprotected)


@dataclass(frozen=True)
class Done:
    """How a command in the container ended: its exit code and the end of its stderr."""

    exit_code: int
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def error(self) -> str:
        """The first error line of stderr (pg_restore: "error: ..."), else its last line."""
        lines = [line.strip() for line in self.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if "error:" in line or "ERROR:" in line]
        return (errors or lines or [f"exit code {self.exit_code}"])[0][:300]


class Server:
    """The target's database container and the user its server runs as."""

    def __init__(self, client: DockerClient, target: Target) -> None:
        self.client = client
        self.target = target
        self.container = _database_container(client, target)
        known = _USERS.get(self.container.id)  # one container keeps its server's user
        self.user = known or self.text(["stat", "-c", "%u:%g", "/proc/1"], user="0").strip()
        _USERS[self.container.id] = self.user

    def version(self, tool: str) -> str:
        """`<tool> --version` in the container (asked once per container)."""
        key = f"{self.container.id}:{tool}"
        if key not in _VERSIONS:
            _VERSIONS[key] = self.text([tool, "--version"]).strip()
        return _VERSIONS[key]

    def text(self, cmd: list[str], user: str | None = None) -> str:
        """stdout of a short command (versions, listings); TargetUnreachable when it fails."""
        out = bytearray()
        done = self.run(cmd, sink=out.extend, user=user)
        if not done.ok:
            raise TargetUnreachable(f"{cmd[0]} in {self.container.name} failed: {done.error}")
        return out.decode("utf-8", "replace")

    def run(
        self,
        cmd: list[str],
        source: Iterable[bytes] | None = None,
        sink: Callable[[bytes], Any] | None = None,
        user: str | None = None,
        idle_s: float = IDLE_S,
    ) -> Done:
        """Run `cmd` in the container: the blocks of `source` go to its stdin, its stdout
        to `sink` block by block; returns its exit code and stderr's last 64 KiB."""
        api = self.client.api
        if source is not None:  # read all of stdin even when the tool stops early: the
            cmd = [*DRAIN, *cmd]  # engine keeps the stream open until its input is consumed
        try:
            exec_id = api.exec_create(
                self.container.id, cmd, stdin=source is not None, user=user or self.user
            )["Id"]
            sock = api.exec_start(exec_id, socket=True)
        except ENGINE_ERRORS as exc:
            raise TargetUnreachable(f"Docker Engine: {exc}") from None
        raw: socket.socket = getattr(sock, "_sock", sock)
        raw.settimeout(idle_s)
        err = bytearray()
        try:
            if source is None:
                raw.shutdown(socket.SHUT_WR)
                _demux(raw, sink, err)
            else:
                _feed_and_demux(raw, source, sink, err)
        finally:
            raw.close()
        tail = bytes(err[-65536:]).decode("utf-8", "replace")
        return Done(_exit_code(self.client, exec_id), tail)


def _database_container(client: DockerClient, target: Target) -> Container:
    try:
        found = [
            c
            for c in project_containers(client, target.compose.project, "postgres")
            if c.status == "running"
        ]
    except ENGINE_ERRORS as exc:
        raise TargetUnreachable(f"Docker Engine: {exc}") from None
    if not found:
        raise TargetUnreachable(
            f"no running postgres container in compose project {target.compose.project}"
        )
    return found[0]


def _feed_and_demux(
    raw: socket.socket,
    source: Iterable[bytes],
    sink: Callable[[bytes], Any] | None,
    err: bytearray,
) -> None:
    """Write `source` to stdin while a thread reads the output (so neither side can block
    the other), then half-close stdin and wait for the output to end."""
    failure: list[BaseException] = []

    def read() -> None:
        try:
            _demux(raw, sink, err)
        except BaseException as exc:
            failure.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        for block in source:
            if not reader.is_alive():
                break  # the tool ended (its output closed): the rest is not needed
            raw.sendall(block)
    except OSError:
        pass  # the tool stopped reading (ended or failed): its exit code and stderr say why
    finally:
        with contextlib.suppress(OSError):
            raw.shutdown(socket.SHUT_WR)
    reader.join()
    if failure:
        raise failure[0]


def _demux(raw: socket.socket, sink: Callable[[bytes], Any] | None, err: bytearray) -> None:
    """Read Docker's multiplexed stream (8-byte header: stream, 0, 0, 0, length) to EOF."""
    while True:
        header = _read_exactly(raw, 8)
        if header is None:
            return
        left = int.from_bytes(header[4:8], "big")
        while left:
            block = raw.recv(min(left, BLOCK))
            if not block:
                return
            left -= len(block)
            if header[0] == STDERR:
                err.extend(block)
                del err[:-65536]
            elif sink is not None:
                sink(block)


def _read_exactly(raw: socket.socket, size: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < size:
        block = raw.recv(size - len(buf))
        if not block:
            return None
        buf.extend(block)
    return bytes(buf)


def _exit_code(client: DockerClient, exec_id: str, wait_s: float = 30.0) -> int:
    """The exec's exit code (the engine may need a moment after the stream closed)."""
    deadline = time.monotonic() + wait_s
    while True:
        info = client.api.exec_inspect(exec_id)
        if not info.get("Running") and info.get("ExitCode") is not None:
            return int(info["ExitCode"])
        if time.monotonic() > deadline:
            raise TargetUnreachable(f"exec {exec_id[:12]} did not finish in {wait_s:g} s")
        time.sleep(0.05)


def blocks(fh: BinaryIO, tap: Callable[[bytes], Any] | None = None) -> Iterable[bytes]:
    """The file's content in blocks, each also handed to `tap` (a hash's update)."""
    while block := fh.read(BLOCK):
        if tap is not None:
            tap(block)
        yield block

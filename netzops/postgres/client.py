"""The PostgreSQL client (psycopg 3) and the `probe` idiom every PostgreSQL check uses.

A `Database` is a lazy client: nothing connects until the first query, and a server that
is down, hanging or refusing the credentials becomes a finding in the check that met it.
Read-only checks use the target's monitoring role in a read-only session; admin actions
use the admin role.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, Literal, ParamSpec, TypeVar

import psycopg
from psycopg import sql
from psycopg.abc import Buffer
from psycopg.rows import class_row
from psycopg.types.datetime import DateLoader, TimestampLoader, TimestamptzLoader

from netzops.checks import checker
from netzops.errors import AuthenticationFailed, BadInput, TargetUnreachable
from netzops.findings import Finding, Priority
from netzops.postgres import queries
from netzops.results import Result
from netzops.targets import Target

Role = Literal["monitor", "admin"]
T = TypeVar("T")
P = ParamSpec("P")
#: Identifiers for `{name}` placeholders of a SQL file: ("schema", "table") or ("name",).
Identifiers = Mapping[str, Sequence[str]]


def _before(data: Buffer) -> bool:
    text = bytes(data)
    return text.startswith(b"-") or text.endswith(b" BC")


class _EdgeDate(DateLoader):
    """PostgreSQL dates Python cannot hold ('infinity', '-infinity', BC, after 9999) as
    date.max/date.min, instead of an error that loses every row of the check."""

    def load(self, data: Buffer) -> date:
        try:
            value: date = super().load(data)
        except psycopg.DataError:
            return date.min if _before(data) else date.max
        return value


class _EdgeTimestamp(TimestampLoader):
    """As `_EdgeDate`, for timestamp: datetime.max/min."""

    def load(self, data: Buffer) -> datetime:
        try:
            value: datetime = super().load(data)
        except psycopg.DataError:
            return datetime.min if _before(data) else datetime.max
        return value


class _EdgeTimestamptz(TimestamptzLoader):
    """As `_EdgeDate`, for timestamptz: datetime.max/min in UTC."""

    def load(self, data: Buffer) -> datetime:
        try:
            value: datetime = super().load(data)
        except psycopg.DataError:
            edge = datetime.min if _before(data) else datetime.max
            return edge.replace(tzinfo=UTC)
        return value


_EDGE_LOADERS = (
    ("date", _EdgeDate),
    ("timestamp", _EdgeTimestamp),
    ("timestamptz", _EdgeTimestamptz),
)


class Database:
    """The target's PostgreSQL, reached lazily as `role` with connect and statement timeouts."""

    def __init__(self, target: Target, role: Role = "monitor") -> None:
        self.target = target
        self.role: Role = role if target.postgres.monitor_user or role == "admin" else "admin"
        self._conn: psycopg.Connection[Any] | None = None
        self._version = 0
        # (time.monotonic(), error) of this client's last connection attempt that timed out
        self._timed_out: tuple[float, TargetUnreachable] | None = None

    @property
    def user(self) -> str:
        pg = self.target.postgres
        return pg.monitor_user if self.role == "monitor" and pg.monitor_user else pg.user

    def _password(self) -> str:
        pg = self.target.postgres
        secret = pg.monitor_password_secret if self.role == "monitor" else pg.password_secret
        return self.target.secret(secret or pg.password_secret)

    def connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = self._open()
        return self._conn

    def _open(self) -> psycopg.Connection[Any]:
        pg = self.target.postgres
        self._recently_timed_out(pg.connect_timeout_s)
        options = f"-c statement_timeout={pg.statement_timeout_ms} -c lock_timeout=5000"
        if self.role == "monitor":
            options += " -c default_transaction_read_only=on"
        try:
            conn = psycopg.connect(
                host=pg.host,
                port=pg.port,
                dbname=pg.dbname,
                user=self.user,
                password=self._password(),
                connect_timeout=pg.connect_timeout_s,
                application_name="netzops",
                options=options,
                autocommit=True,
                # text as str even from a SQL_ASCII database (psycopg gives bytes there)
                client_encoding="UTF8",
            )
        except psycopg.OperationalError as exc:
            error = _translate(exc, f"{pg.host}:{pg.port}")
            if isinstance(exc, psycopg.errors.ConnectionTimeout):
                self._timed_out = (time.monotonic(), error)
            raise error from None
        self._timed_out = None
        for name, loader in _EDGE_LOADERS:
            conn.adapters.register_loader(name, loader)
        self._version = conn.info.server_version
        return conn

    def _recently_timed_out(self, window_s: float) -> None:
        """Raise at once, instead of waiting out the connect timeout again, when this
        client's last attempt timed out less than `window_s` (the connect timeout) ago:
        with the server hung, each check of a run (one client) would otherwise wait the
        whole timeout in turn. Another client (the next run), or this one later, tries."""
        if self._timed_out is None:
            return
        at, error = self._timed_out
        ago = time.monotonic() - at
        if ago < window_s:
            raise TargetUnreachable(
                f"{error} ({ago:.1f} s ago; not tried again within {window_s} s)"
            )

    @property
    def server_version_num(self) -> int:
        self.connection()
        return self._version

    @property
    def backend_pid(self) -> int:
        """The server process id of our own session (never to be cancelled or terminated)."""
        return self.connection().info.backend_pid

    def statement(
        self, query: str, identifiers: Identifiers | None = None
    ) -> sql.SQL | sql.Composed:
        """The named SQL file for this server, `{name}` placeholders filled as identifiers."""
        text = _one_line(queries.get(query, self.server_version_num))  # a trusted package file
        if not identifiers:
            return sql.SQL(text)
        return sql.SQL(text).format(**{k: sql.Identifier(*v) for k, v in identifiers.items()})

    @contextmanager
    def _session(self, deadline_s: float | None) -> Iterator[psycopg.Connection[Any]]:
        """The connection, with a client-side deadline; SDK errors become ours."""
        conn = self.connection()
        try:
            with _deadline(conn, deadline_s or self._deadline_s()):
                yield conn
        except psycopg.OperationalError as exc:
            if not _lost(exc):  # the server answered: a refusal of this one statement
                raise
            self.close()
            raise _translate(exc, self.target.postgres.host) from None

    def rows(
        self,
        query: str,
        record: type[T],
        params: Mapping[str, Any] | None = None,
        identifiers: Identifiers | None = None,
        deadline_s: float | None = None,
    ) -> list[T]:
        """Rows of the named SQL file as `record` instances (column aliases = field names)."""
        stmt = self.statement(query, identifiers)
        _check_values(params)
        with self._session(deadline_s) as conn, conn.cursor(row_factory=class_row(record)) as cur:
            cur.execute(stmt, params or None)
            return cur.fetchall()

    def execute(
        self,
        query: str,
        params: Mapping[str, Any] | None = None,
        identifiers: Identifiers | None = None,
        deadline_s: float | None = None,
    ) -> str:
        """Run a statement that returns no rows (VACUUM); its status message."""
        stmt = self.statement(query, identifiers)
        _check_values(params)
        with self._session(deadline_s) as conn, conn.cursor() as cur:
            cur.execute(stmt, params or None)
            return cur.statusmessage or ""

    def render(
        self,
        query: str,
        params: Mapping[str, Any] | None = None,
        identifiers: Identifiers | None = None,
    ) -> str:
        """The exact statement that would run, values inlined (for plans)."""
        stmt = self.statement(query, identifiers)
        _check_values(params)
        return psycopg.ClientCursor(self.connection()).mogrify(stmt, params or None)

    def _deadline_s(self) -> float:
        pg = self.target.postgres
        return pg.statement_timeout_ms / 1000.0 + pg.connect_timeout_s

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _one_line(text: str) -> str:
    """A SQL file's statement on one line, without its full-line `--` comments (before any
    value is filled in, so values stay exactly as given)."""
    lines = (line.strip() for line in text.splitlines())
    return " ".join(line for line in lines if line and not line.startswith("--"))


def _check_values(params: Mapping[str, Any] | None) -> None:
    """Refuse text values PostgreSQL cannot take (NUL, unencodable) before anything is sent."""
    for name, value in (params or {}).items():
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise BadInput(f"{name}: not valid Unicode text") from None
            if "\x00" in value:
                raise BadInput(f"{name}: contains a NUL character")


@contextmanager
def _deadline(conn: psycopg.Connection[Any], seconds: float) -> Iterator[None]:
    """Hang up the socket if the server does not answer in time.

    statement_timeout is enforced by the server: a hanging (e.g. paused) server never
    sends it, and its kernel still acknowledges our packets, so TCP never times out."""
    timer = threading.Timer(seconds, _hang_up, args=(conn.fileno(),))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _hang_up(fileno: int) -> None:
    try:
        with socket.socket(fileno=os.dup(fileno)) as sock:
            sock.shutdown(socket.SHUT_RDWR)  # wakes libpq's wait with an EOF
    except OSError:
        pass


#: SQLSTATE classes that mean the connection or the server is gone (08 connection
#: exception, 57P admin shutdown / crash / cannot connect now, 53 insufficient resources).
_LOST = ("08", "57P", "53")


def _lost(exc: psycopg.OperationalError) -> bool:
    """Whether `exc` means the server cannot be reached (no SQLSTATE: the socket, the
    client-side deadline) rather than a refusal of one statement (e.g. 55000: a view
    whose library is not loaded, 55P03: a lock timeout), which the check reports itself."""
    return exc.sqlstate is None or exc.sqlstate.startswith(_LOST)


def _translate(exc: psycopg.OperationalError, where: str) -> TargetUnreachable:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "password authentication failed" in text or "no password supplied" in text:
        return AuthenticationFailed(f"PostgreSQL at {where} refused the credentials: {text}")
    return TargetUnreachable(f"PostgreSQL at {where} unreachable: {text}")


def connect(target: Target, role: Role = "monitor") -> Database:
    """A lazy client for the target's database (no connection is made yet)."""
    return Database(target, role)


def unavailable(check: str, title: str, exc: TargetUnreachable) -> Result:
    """The result of a check whose database could not be reached: P0, database unavailable."""
    finding = Finding(check, "postgres", Priority.P0, f"database unavailable: {exc}"[:240])
    return Result.of(check, title, findings=[finding], metrics={"postgres.up": 0.0})


def _down(check: str, title: str, exc: Exception) -> Result:
    """Unreachable database → P0 (`unavailable`); a query the server refuses (permissions,
    missing objects) → P2 naming the server's reason."""
    if isinstance(exc, TargetUnreachable):
        return unavailable(check, title, exc)
    why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    finding = Finding(check, "postgres", Priority.P2, f"check failed: {why}"[:240])
    return Result.of(check, title, findings=[finding])


#: The PostgreSQL check decorator (see `netzops.checks`).
check = checker("postgres", (TargetUnreachable, psycopg.DatabaseError), _down)

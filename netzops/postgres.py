"""PostgreSQL checks and guarded actions (psycopg 3).

A `Database` is a lazy client: nothing connects until the first query, and a server that
is down, hanging or refusing the credentials becomes a finding in the check that met it.
Read-only checks use the target's monitoring role in a read-only session; admin actions
use the admin role.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

import psycopg
from psycopg.rows import class_row

from netzops import sqlfiles
from netzops.errors import AuthenticationFailed, TargetUnreachable
from netzops.findings import Finding, Priority
from netzops.results import Result
from netzops.targets import Target

Role = Literal["monitor", "admin"]
T = TypeVar("T")


class Database:
    """The target's PostgreSQL, reached lazily as `role` with connect and statement timeouts."""

    def __init__(self, target: Target, role: Role = "monitor") -> None:
        self.target = target
        self.role: Role = role if target.postgres.monitor_user or role == "admin" else "admin"
        self._conn: psycopg.Connection[Any] | None = None
        self._version = 0

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
        options = f"-c statement_timeout={pg.statement_timeout_ms} -c lock_timeout=5000"
        if self.role == "monitor":
            options += " -c default_transaction_read_only=on"
        try:
            conn = psycopg.connect(
                host=pg.host, port=pg.port, dbname=pg.dbname, user=self.user,
                password=self._password(), connect_timeout=pg.connect_timeout_s,
                application_name="netzops", options=options, autocommit=True,
            )
        except psycopg.OperationalError as exc:
            raise _translate(exc, f"{pg.host}:{pg.port}") from None
        self._version = conn.info.server_version
        return conn

    @property
    def server_version_num(self) -> int:
        self.connection()
        return self._version

    def rows(self, query: str, record: type[T], params: dict[str, Any] | None = None) -> list[T]:
        """Rows of the named SQL file as `record` instances (column aliases = field names)."""
        text = sqlfiles.get(query, self.server_version_num)
        try:
            with self.connection().cursor(row_factory=class_row(record)) as cur:
                cur.execute(text.encode(), params or {})
                return cur.fetchall()
        except psycopg.OperationalError as exc:
            self.close()
            raise _translate(exc, self.target.postgres.host) from None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


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
    return Result.of(check, title, findings=[Finding(check, "postgres", Priority.P0, str(exc)[:240])])


@dataclass(frozen=True)
class Ping:
    server_version_num: int
    server_version: str
    database: str
    role: str
    in_recovery: bool
    started_at: datetime
    latency_ms: float = 0.0


def ping(db: Database) -> Result:
    """pg_isready and `SELECT 1` in one: connect, query, latency."""
    title = "PostgreSQL connectivity"
    start = time.perf_counter()
    try:
        found: Sequence[Ping] = db.rows("ping", Ping)
    except TargetUnreachable as exc:
        return Result.of("postgres_ping", title, findings=[Finding(
            "postgres_ping", "postgres", Priority.P0, f"database unavailable: {exc}"[:240])],
            metrics={"postgres.up": 0.0})
    latency = round((time.perf_counter() - start) * 1000.0, 1)
    row = Ping(**{**found[0].__dict__, "latency_ms": latency})
    return Result.of("postgres_ping", title, [row],
                     metrics={"postgres.up": 1.0, "postgres.ping_ms": latency})

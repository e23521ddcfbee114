"""A database that is down, hanging or refusing the credentials gives a finding within
the timeout, never an exception. The shared sandbox is left alone: a closed port, a
wrong password through the secret's environment variable, a throwaway container we pause,
and a throwaway database without pg_stat_statements."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from netzops import postgres
from netzops.findings import Priority
from netzops.results import Result
from netzops.targets import Postgres, Target
from tests.conftest import psql, sh

Check = Callable[[postgres.Database], Result]
CHECKS: list[Check] = [
    postgres.ping,
    postgres.database_size,
    postgres.table_sizes,
    postgres.connections,
    postgres.active_queries,
    postgres.long_running_queries,
    postgres.blocked_queries,
    postgres.idle_in_transaction,
    postgres.slow_queries,
    postgres.index_usage,
    postgres.unused_indexes,
    postgres.duplicate_indexes,
    postgres.missing_indexes,
    postgres.dead_tuples,
    postgres.cache_hit_rate,
    postgres.transaction_id_danger,
    postgres.checkpoints,
    postgres.users,
]
MARGIN_S = 2.5  # scheduling and process start on top of a timeout


def with_postgres(target: Target, **change: object) -> Target:
    return target.model_copy(update={"postgres": target.postgres.model_copy(update=change)})


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_unavailable(result: Result, within_s: float, started: float, text: str = "") -> None:
    elapsed = time.monotonic() - started
    assert elapsed < within_s, f"{result.check} took {elapsed:.1f} s"
    assert [f.priority for f in result.findings] == [Priority.P0], result.findings
    assert "database unavailable" in result.findings[0].summary
    assert text in result.findings[0].summary
    assert result.metrics.get("postgres.up") == 0.0 and result.rows == []


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_closed_port_is_a_p0_finding(target: Target, check: Check) -> None:
    down = with_postgres(target, port=closed_port(), connect_timeout_s=2)
    started = time.monotonic()
    assert_unavailable(check(postgres.connect(down)), 2 + MARGIN_S, started, "unreachable")


def test_actions_on_a_closed_port_are_findings_too(target: Target) -> None:
    down = postgres.connect(
        with_postgres(target, port=closed_port(), connect_timeout_s=2), role="admin"
    )
    actions: list[Callable[[], Result]] = [
        lambda: postgres.cancel_backend(down),
        lambda: postgres.terminate_backend(down, [1234]),
        lambda: postgres.vacuum(down, "alerts"),
        lambda: postgres.set_user_role(down, "viewer44", "operator"),
    ]
    for run in actions:
        started = time.monotonic()
        assert_unavailable(run(), 2 + MARGIN_S, started)


def test_wrong_password_is_a_p0_finding(target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETZWAECHTER_MONITOR_PASSWORD", "not-the-password-" + uuid.uuid4().hex)
    monkeypatch.setenv("NETZWAECHTER_POSTGRES_PASSWORD", "not-the-password-" + uuid.uuid4().hex)
    timeout = target.postgres.connect_timeout_s + MARGIN_S
    for db in (postgres.connect(target), postgres.connect(target, role="admin")):
        started = time.monotonic()
        assert_unavailable(postgres.ping(db), timeout, started, "refused the credentials")
    started = time.monotonic()
    assert_unavailable(
        postgres.vacuum(postgres.connect(target, role="admin"), "alerts"),
        timeout,
        started,
        "refused the credentials",
    )
    monkeypatch.undo()
    assert postgres.ping(postgres.connect(target)).findings == []  # the real one still works


@pytest.fixture
def throwaway_postgres() -> Iterator[tuple[str, int]]:
    """A PostgreSQL of our own on the sandbox's base image (trust auth); (container, port)."""
    name = f"netzops-test-pg-{uuid.uuid4().hex[:8]}"
    script = (
        "chown postgres /run/postgresql && "
        "setpriv --reuid=postgres --regid=postgres --init-groups "
        "/usr/lib/postgresql/15/bin/initdb -D /tmp/pg -U postgres --auth=trust >/dev/null && "
        "echo 'host all all all trust' >> /tmp/pg/pg_hba.conf && "
        "exec setpriv --reuid=postgres --regid=postgres --init-groups "
        "/usr/lib/postgresql/15/bin/postgres -D /tmp/pg -c listen_addresses='*'"
    )
    sh(
        "docker",
        "run",
        "-d",
        "--name",
        name,
        "-v",
        "/usr:/usr:ro",
        "-v",
        "/etc:/etc:ro",
        "--tmpfs",
        "/run/postgresql",
        "--tmpfs",
        "/tmp:mode=1777",
        "-p",
        "127.0.0.1::5432",
        "netzwaechter/base:local",
        "/bin/sh",
        "-c",
        script,
    )
    try:
        port = int(sh("docker", "port", name, "5432").splitlines()[0].rsplit(":", 1)[1])
        for _ in range(100):
            if "accepting" in sh(
                "docker",
                "exec",
                name,
                "/usr/lib/postgresql/15/bin/pg_isready",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                check=False,
            ):
                break
            time.sleep(0.1)
        yield name, port
    finally:
        sh("docker", "unpause", name, check=False)
        sh("docker", "rm", "-f", name, check=False)


def test_hanging_server_is_a_p0_finding_within_the_timeouts(
    target: Target, throwaway_postgres: tuple[str, int]
) -> None:
    name, port = throwaway_postgres
    own = Target(
        **{
            **target.model_dump(),
            "postgres": Postgres(
                port=port, dbname="postgres", connect_timeout_s=2, statement_timeout_ms=2000
            ),
        }
    )
    db = postgres.connect(own)  # no monitor role there: the admin user, trust auth
    ping = postgres.ping(db)
    assert ping.findings == [] and ping.rows[0]["server_version_num"] >= 150000
    sh("docker", "pause", name)
    started = time.monotonic()  # a connected session: the client-side deadline hangs up
    assert_unavailable(postgres.ping(db), 2 + 2 + MARGIN_S, started)
    started = time.monotonic()  # a new connection: connect_timeout
    assert_unavailable(postgres.connections(postgres.connect(own)), 2 + MARGIN_S, started)
    sh("docker", "unpause", name)
    assert postgres.ping(db).findings == []  # back: the client reconnects


@pytest.fixture
def database_without_extension() -> Iterator[str]:
    name = f"netzops_test_noext_{uuid.uuid4().hex[:8]}"
    psql(f"CREATE DATABASE {name}")
    try:
        yield name
    finally:
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_missing_pg_stat_statements_is_a_p3_hint(
    target: Target, database_without_extension: str
) -> None:
    name = database_without_extension
    assert (
        psql("SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'", dbname=name)
        == "0"
    )
    db = postgres.connect(with_postgres(target, dbname=name))
    try:
        result = postgres.slow_queries(db)
        assert [(f.priority, f.summary.split(" (")[0]) for f in result.findings] == [
            (Priority.P3, "pg_stat_statements not installed")
        ]
        assert result.rows == [] and result.metrics["postgres.statements.available"] == 0
        assert postgres.ping(db).rows[0]["database"] == name  # the rest works there
        with_ext = postgres.slow_queries(postgres.connect(target))
        assert with_ext.metrics["postgres.statements.available"] == 1
    finally:
        db.close()


def test_a_refused_query_is_a_finding_not_an_exception(target: Target) -> None:
    """Permission problems or missing objects end the check, never the report."""
    from netzops.checks import Outcome
    from netzops.postgres.client import check

    @check("demo_check", "Demo")
    def reads_missing_table(db: postgres.Database) -> Outcome:
        db.connection().execute("SELECT * FROM netzops_no_such_table")
        return Outcome()

    result = reads_missing_table(postgres.connect(target))
    assert [f.priority for f in result.findings] == [Priority.P2]
    assert "netzops_no_such_table" in result.findings[0].summary

"""Issue 11, kind C on PostgreSQL: pg_stat_statements is usable when its view answers, however
shared_preload_libraries spells the library (`'$libdir/pg_stat_statements'`, a form some
installers write). Each case runs on a PostgreSQL of its own (the sandbox's base image, trust
auth) and is compared with what psql says."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest

from netzops import postgres
from netzops.findings import Priority
from netzops.postgres.statements import NOT_INSTALLED, NOT_LOADED
from netzops.targets import Postgres, Target
from tests.conftest import sh

BIN = "/usr/lib/postgresql/15/bin"


def _start(preload: str) -> tuple[str, int]:
    name = f"netzops-test-pg-{uuid.uuid4().hex[:8]}"
    setting = f"-c shared_preload_libraries='{preload}'" if preload else ""
    script = (
        "chown postgres /run/postgresql && "
        "setpriv --reuid=postgres --regid=postgres --init-groups "
        f"{BIN}/initdb -D /tmp/pg -U postgres --auth=trust >/dev/null && "
        "echo 'host all all all trust' >> /tmp/pg/pg_hba.conf && "
        "exec setpriv --reuid=postgres --regid=postgres --init-groups "
        f"{BIN}/postgres -D /tmp/pg -c listen_addresses='*' {setting}"
    )
    sh(
        "docker", "run", "-d", "--name", name, "-v", "/usr:/usr:ro", "-v", "/etc:/etc:ro",
        "--tmpfs", "/run/postgresql", "--tmpfs", "/tmp:mode=1777", "-p", "127.0.0.1::5432",
        "netzwaechter/base:local", "/bin/sh", "-c", script,
    )  # fmt: skip
    port = int(sh("docker", "port", name, "5432").splitlines()[0].rsplit(":", 1)[1])
    deadline = time.monotonic() + 60
    while "accepting" not in sh(
        "docker", "exec", name, f"{BIN}/pg_isready", "-h", "127.0.0.1", "-U", "postgres",
        check=False,
    ):  # fmt: skip
        assert time.monotonic() < deadline, f"{name} did not start"
        time.sleep(0.1)
    return name, port


def psql_in(name: str, query: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "exec", name, f"{BIN}/psql", "-U", "postgres", "-h", "127.0.0.1",
         "-v", "ON_ERROR_STOP=1", "-AtXc", query],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip


@pytest.fixture(
    params=[
        ("$libdir/pg_stat_statements", True),
        ("auto_explain, $libdir/pg_stat_statements", True),
        ("", True),
        ("", False),
    ],
    ids=["libdir-form", "libdir-in-a-list", "not-loaded", "not-created"],
)
def server(request: pytest.FixtureRequest, target: Target) -> Iterator[tuple[str, Target, bool]]:
    preload, create = request.param
    name, port = _start(preload)
    try:
        if create:
            assert psql_in(name, "CREATE EXTENSION pg_stat_statements").returncode == 0
        own = Target(**{**target.model_dump(), "postgres": Postgres(port=port, dbname="postgres")})
        yield name, own, create
    finally:
        sh("docker", "rm", "-f", name, check=False)


def test_pg_stat_statements_is_judged_by_whether_its_view_answers(
    server: tuple[str, Target, bool],
) -> None:
    name, own, created = server
    for _ in range(3):
        psql_in(name, "SELECT count(*) FROM pg_class")
    answers = psql_in(name, "SELECT count(*) FROM pg_stat_statements")
    # initdb without a locale: a SQL_ASCII database, whose text psycopg hands out as bytes
    # unless the session asks for UTF8 (kind A: a value the server legitimately returns)
    assert psql_in(name, "SHOW server_encoding").stdout.strip() == "SQL_ASCII"
    db = postgres.connect(own)  # no monitor role there: the admin user, trust auth
    try:
        result = postgres.slow_queries(db, min_calls=1)
        rates = postgres.cache_hit_rate(db)
    finally:
        db.close()
    reads = psql_in(
        name, "SELECT coalesce(sum(heap_blks_hit + heap_blks_read), 0) FROM pg_statio_user_tables"
    )
    if reads.stdout.strip() == "0":  # a fresh server: no user table was ever read
        tables = next(r for r in rates.rows if r["scope"] == "tables")
        assert tables["hit_percent"] is None
        assert any(n.startswith("tables: no block reads") for n in rates.notes)
        assert "postgres.cache_hit_rate.tables" not in rates.metrics
    hints = [f.summary for f in result.findings if f.subject == "pg_stat_statements"]
    if answers.returncode == 0:  # psql reads the view: netzops lists statements
        assert hints == []
        assert result.metrics["postgres.statements.available"] == 1.0
        assert any("pg_class" in row["query"] for row in result.rows)
    else:
        expected = NOT_LOADED if created else NOT_INSTALLED
        assert hints == [expected]
        assert [f.priority for f in result.findings] == [Priority.P3]
        assert result.metrics["postgres.statements.available"] == 0.0
        assert ("must be loaded via" in answers.stderr) == created

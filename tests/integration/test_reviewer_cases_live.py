"""Issue 11 against the real sandbox, new cases tried as a reviewer would:

D  a target naming its compose project `NetzWaechter`: compose labelled the containers
   `netzwaechter`, so the check must find the same containers `docker ps` lists (before the
   fix it found none: every service "not deployed", a whole-stack outage that was not)
F  a container removed between being listed and being sampled: that container is a note,
   not an exception that loses every other container's figures"""

from __future__ import annotations

import uuid

from docker import DockerClient

from netzops import containers
from netzops.containers.status import _sampled
from netzops.targets import Target, parse_target
from tests.conftest import sh


def test_project_named_in_capitals_finds_what_docker_ps_lists(target: Target) -> None:
    data = target.model_dump()
    data["compose"]["project"] = "NetzWaechter"
    capitals = parse_target(data, "test")
    client: DockerClient = containers.connect(capitals)
    result = containers.service_status(client, capitals)
    ours = sorted(r["container"] for r in result.rows)
    listed = sh(
        "docker", "ps", "-a", "--filter", "label=com.docker.compose.project=netzwaechter",
        "--filter", "label=com.docker.compose.oneoff=False", "--format", "{{.Names}}",
    ).split()  # fmt: skip
    assert ours == sorted(listed) and len(ours) >= 4
    assert not [f for f in result.findings if "not deployed" in f.summary]


def test_container_gone_between_listing_and_sampling_is_a_note(target: Target) -> None:
    client: DockerClient = containers.connect(target)
    name = f"zz-netzops-gone-{uuid.uuid4().hex[:8]}"
    sh("docker", "create", "--name", name, "netzwaechter/base:local", "/bin/true")
    try:
        listed = client.containers.get(name)  # as `stats` holds it after listing
    finally:
        sh("docker", "rm", "-f", name)
    assert _sampled(listed) == name
    assert sh("docker", "ps", "-a", "--filter", f"name={name}", "--format", "{{.Names}}") == ""


def test_a_replica_whose_logs_cannot_be_read_loses_only_its_own_lines(target: Target) -> None:
    """F: a container of the project with log driver `none` (docker logs: "configured
    logging driver does not support reading"): `logs.view` still shows every other
    container's lines and names that one, instead of the whole check failing as if the
    engine were down."""
    from netzops import logs

    client: DockerClient = containers.connect(target)
    name = f"zz-netzops-nolog-{uuid.uuid4().hex[:8]}"
    sh(
        "docker", "create", "--name", name, "--log-driver", "none",
        "--label", "com.docker.compose.project=netzwaechter",
        "--label", "com.docker.compose.service=zz-nolog",
        "--label", "com.docker.compose.oneoff=False",
        "netzwaechter/base:local", "/bin/true",
    )  # fmt: skip
    try:
        refused = sh("docker", "logs", name, check=False)
        result = logs.view(client, target, None, tail=5)
    finally:
        sh("docker", "rm", "-f", name)
    assert refused == ""  # the CLI printed nothing: the engine refuses this log
    assert not result.findings, result.findings
    shown = {r["container"] for r in result.rows}
    assert "netzwaechter-postgres" in shown and name not in shown
    assert any(name in n and "cannot be read back" in n for n in result.notes)


def test_postgres_infinite_and_bc_timestamps_are_values_not_a_failed_check(
    target: Target,
) -> None:
    """A: PostgreSQL stores 'infinity', '-infinity' and BC timestamps; psycopg cannot make
    datetimes of them and raised, so one such row lost every user of `postgres.users` (a P2
    "check failed"). They now read as the largest/smallest datetime; every other row is
    there, as psql counts them."""
    from datetime import UTC, datetime

    from netzops import postgres
    from tests.conftest import psql

    names = ("zz_inf_future", "zz_inf_past", "zz_bc")
    stamps = ("infinity", "-infinity", "0044-03-15 12:00:00+00 BC")
    values = ", ".join(
        f"('{n}', '{n}@example.org', 'viewer', true, '{s}', 'x')"
        for n, s in zip(names, stamps, strict=True)
    )
    psql(
        "INSERT INTO users (username, email, role, is_active, created_at, password_hash) "
        f"VALUES {values}"
    )
    try:
        result = postgres.users(postgres.connect(target))
        expected = int(psql("SELECT count(*) FROM users"))
    finally:
        psql("DELETE FROM users WHERE username LIKE 'zz\\_inf\\_%' OR username = 'zz_bc'")
    assert not result.findings, result.findings
    assert len(result.rows) == expected
    created = {r["username"]: r["created_at"] for r in result.rows if r["username"] in names}
    top = datetime.max.replace(tzinfo=UTC).isoformat()  # rows hold ISO text
    bottom = datetime.min.replace(tzinfo=UTC).isoformat()
    assert created == {"zz_inf_future": top, "zz_inf_past": bottom, "zz_bc": bottom}

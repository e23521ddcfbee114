"""The post-mortem on odd input the real sandbox produces: requests whose path or user agent
reads like evidence (/zoom, "failed login"), a statement quoting PostgreSQL's own "ready to
accept connections", invalid UTF-8, NUL bytes, colour codes and a secret written to the
backend's stdout. None of it may invent an event or reach the Markdown, and the window's
first (partial) minute of traffic is counted."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from docker import DockerClient

from netzops import containers, incidents
from netzops.incidents import postmortem
from netzops.incidents import timeline as tl
from netzops.incidents.postmortem import PostMortem
from netzops.secrets import MASK
from netzops.targets import Target
from tests.notebooks.helpers import NETZOPS


def _raw(request: bytes) -> None:
    """One request sent as these bytes (a client that builds its own request line)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", 8443), timeout=5)
    with raw, ctx.wrap_socket(raw, server_hostname="localhost") as tls:
        tls.sendall(request)
        while tls.recv(65536):
            pass


def _container(client: DockerClient, service: str) -> str:
    (found, *_) = client.containers.list(filters={"label": f"com.docker.compose.service={service}"})
    return str(found.name)


def test_odd_input_from_clients_and_servers_invents_nothing_and_leaks_nothing(
    client: DockerClient, target: Target
) -> None:
    secret = max(target.resolve_secrets(), key=len)
    start = datetime.now(UTC) - timedelta(seconds=1)
    sent = 0
    for path in (b"/zoom", b"/api/rooms", b"/out%20of%20memory", b'/a"b', b"/x\xff\xfe"):
        _raw(
            b"GET " + path + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
            b"User-Agent: failed login, slow query, heap limit\r\n\r\n"
        )
        sent += 1
    backend = _container(client, "backend")
    marker = f"pm-odd-{time.time_ns()}"
    odd = (  # the secret where the sample is cut (80 characters): cut, it would not be found
        rf"printf '%s ERROR {marker} bad \377\376 utf8 \000 nul \033[31mred\033[0m "
        + "x" * 20
        + r" %s tail\n' "
        + '"$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" "$S" > /proc/1/fd/1'
    )
    subprocess.run(
        ["docker", "exec", "-e", f"S={secret}", backend, "sh", "-c", odd], check=True, timeout=30
    )
    psql = ["docker", "exec", _container(client, "postgres"), "psql", "-U", "postgres"]
    for sql in (
        # fails on purpose: its ERROR and STATEMENT lines quote the text
        "SELECT 'database system is ready to accept connections'::int",
        # slower than log_min_duration_statement: logged with its tab-indented lines
        "SELECT pg_sleep(0.25),\n 'database system is shut down' AS a,\n ' FATAL:  x' AS b",
    ):
        subprocess.run([*psql, "-d", target.postgres.dbname, "-c", sql], timeout=30)

    deadline = time.monotonic() + 10  # the log driver copies stdout a moment later
    while True:
        pm: PostMortem = incidents.build_postmortem(client, target, "", start, None)
        ours = [e for e in pm.entries if e.source == "logs" and e.service == "backend"]
        if any(marker in e.event for e in ours) or time.monotonic() > deadline:
            break
    (error,) = [e for e in ours if marker in e.event]
    assert "bad \ufffd\ufffd utf8" in error.event and "red" in error.event
    assert not any(c in error.event for c in "\x00\x1b") and MASK in error.event
    assert not [e for e in pm.entries if e.service == "frontend" and e.source == "logs"]
    assert not [e for e in pm.entries if e.source == "postgres" and e.kind in ("up", "down")]
    assert not [e for e in pm.entries if e.source == "postgres" and "FATAL" in e.event]
    assert not [e for e in pm.entries if "out of memory" in e.event or "oom" in e.event]
    assert pm.impact.requests >= sent  # the window opened within a minute: still counted
    assert not [m for m in pm.missing if "logs" in m]  # (a test has its own empty outputs)
    assert pm.markdown is not None
    text = pm.markdown.read_text()
    rows = str(pm.timeline().rows) + str(pm.candidates().rows)
    for shown in (text, rows):
        assert marker in shown and secret[:8] not in shown


def test_a_container_removed_after_it_was_listed_is_named(
    client: DockerClient, target: Target
) -> None:
    project = f"pmghost{time.time_ns()}"
    image = client.containers.get(_container(client, "redis")).image
    box = client.containers.create(
        image,
        ["true"],
        labels={"com.docker.compose.project": project, "com.docker.compose.service": "ghost"},
    )
    ghost = target.model_copy(
        update={
            "compose": target.compose.model_copy(update={"project": project}),
            "services": ["ghost"],
        }
    )
    now = datetime.now(UTC)
    missing: list[str] = []
    try:
        window = (now - timedelta(minutes=1), now)
        streams = postmortem._sources(client, ghost, None, *window, missing, ghost.scrubber())
    finally:
        box.remove(force=True)
    assert [e for e in tl.merge(*streams) if e.source == "logs"] == []  # read after removal
    assert f"logs of {box.name} (removed since it was listed)" in missing


def test_the_engine_down_is_named_and_the_rest_built(target: Target, tmp_path: Path) -> None:
    down = target.model_copy(update={"docker_host": f"unix://{tmp_path / 'docker.sock'}"})
    pm = incidents.build_postmortem(containers.connect(down), down, "", "10m", None)
    (engine,) = [m for m in pm.missing if m.startswith("container logs")]
    assert "engine" in engine and pm.markdown is not None
    assert f"- Missing source: {engine}" in pm.markdown.read_text()


_OTHER = {
    "id": "INC-20261130-120000",
    "target": "production",
    "severity": "P1",
    "status": "Resolved",
    "start": "2026-11-30T12:00:00Z",
    "detected": "2026-11-30T12:00:00Z",
    "resolved": "2026-11-30T12:30:00Z",
    "affected": {},
    "updates": [],
}


@pytest.mark.parametrize(
    ("pairs", "says"),
    [
        (["start=2h", "end=3h"], "is not after start"),
        (["start=1h", "end=1h"], "is not after start"),
        (["start=2999-01-01T00:00:00Z"], "is in the future"),
        (["incident=INC-20991231-000000"], "no incident INC-20991231-000000"),
        (["incident=../../etc/passwd"], "not an incident id"),
        (["incident=INC-20261130-120000"], "is about production, not sandbox"),
    ],
)
def test_bad_input_is_one_line_before_the_kernel_and_keeps_nothing(
    sandbox: Target, tmp_path: Path, pairs: list[str], says: str
) -> None:
    (tmp_path / "incidents").mkdir()
    (tmp_path / "incidents" / "INC-20261130-120000.json").write_text(json.dumps(_OTHER))
    before = sorted(tmp_path.rglob("*"))
    args = [NETZOPS, "run", "postmortem", "--target", "sandbox"]
    for pair in pairs:
        args += ["-p", pair]
    env = {**os.environ, "NETZOPS_OUTPUTS": str(tmp_path)}
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert sorted(tmp_path.rglob("*")) == before  # no record, no ledger entry, no Markdown

"""The foundation's promises, checked with the usual tools against the running sandbox."""

from __future__ import annotations

import json
import time

import httpx

from netzops import containers
from netzops.targets import Target
from tests.conftest import psql, sh, wait_for
from tests.notebooks.helpers import backend_faults

RUNBOOK_NAMES = {"netzwaechter-frontend", "netzwaechter-postgres", "netzwaechter-redis"}


def _docker_ps() -> dict[str, str]:
    out = sh(
        "docker",
        "ps",
        "--filter",
        "label=com.docker.compose.project=netzwaechter",
        "--format",
        "{{.Names}}\t{{.Status}}",
    )
    return dict(line.split("\t", 1) for line in out.splitlines())


def test_four_services_healthy_under_the_runbook_names(target: Target) -> None:
    ps = _docker_ps()
    assert set(ps) >= RUNBOOK_NAMES
    backends = [n for n in ps if n.startswith(("netzwaechter_backend_", "netzwaechter-backend-"))]
    assert backends, ps
    assert all("(healthy)" in status for status in ps.values()), ps
    status = containers.service_status(containers.connect(target), target)
    assert {r["container"] for r in status.rows} == set(ps)
    assert all(r["health"] == "healthy" for r in status.rows)
    assert status.findings == []


def test_status_matches_docker_inspect(target: Target) -> None:
    status = containers.service_status(containers.connect(target), target)
    for row in status.rows:
        state = json.loads(sh("docker", "inspect", "--format", "{{json .State}}", row["container"]))
        assert row["state"] == state["Status"]
        assert row["health"] == state["Health"]["Status"]
        assert row["failing_streak"] == state["Health"]["FailingStreak"]
        assert row["oom_killed"] == state["OOMKilled"]
        restarts = sh("docker", "inspect", "--format", "{{.RestartCount}}", row["container"])
        assert row["restart_count"] == int(restarts)


def test_https_health_answers_with_curl() -> None:
    assert sh("curl", "-ksS", "--max-time", "5", "https://127.0.0.1:8443/health").strip() == "ok"
    body = sh("curl", "-ksS", "--max-time", "5", "https://127.0.0.1:8443/api/users")
    assert any(u["username"] == "admin" for u in json.loads(body))


def test_postgres_holds_seed_and_statement_statistics() -> None:
    assert int(psql("SELECT count(*) FROM measurements")) >= 100_000
    assert int(psql("SELECT count(*) FROM users")) == 50
    assert int(psql("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'alerts'")) > 0
    statements = "SELECT count(*) FROM pg_stat_statements WHERE query ILIKE '%FROM sites%'"
    assert int(psql(statements)) > 0
    assert psql("SHOW log_min_duration_statement") == "200ms"


def test_redis_holds_sessions(target: Target, session_keys: list[str]) -> None:
    keys = sh(
        "docker",
        "exec",
        "-e",
        f"REDISCLI_AUTH={target.secret('redis_password')}",
        "netzwaechter-redis",
        "redis-cli",
        "--scan",
        "--pattern",
        "session:*",
    ).split()
    assert keys and all(k.startswith("session:") for k in keys)


def test_backend_logs_hold_failed_logins_and_slow_queries() -> None:
    """Each replica gets a failed login, a query slowed past its 200 ms bar (the
    slow-query fault: 400 ms of pg_sleep) and a GET /api/users; then its log since then
    shows them."""
    since = f"{time.time() - 1:.3f}"  # docker logs --since: epoch seconds, same host clock
    with backend_faults(slow_query_ms=400) as urls, httpx.Client(timeout=30) as http:
        for url in urls:
            login = {"username": "admin", "password": "wrong"}
            assert http.post(f"{url}/api/login", json=login).status_code == 401
            assert http.get(f"{url}/api/sites").status_code == 200
            assert http.get(f"{url}/api/users").status_code == 200
    names = [n for n in _docker_ps() if "backend" in n]
    assert len(names) == len(urls)
    wanted = (
        "failed login user=",
        "slow query duration_ms=",
        "request method=GET path=/api/users status=200",
    )
    for name in names:

        def logged(name: str = name) -> bool:
            logs = sh("docker", "logs", "--since", since, name)
            return all(line in logs for line in wanted)

        wait_for(logged, 30, f"docker logs {name} to show {wanted}")


def test_frontend_access_log_has_request_and_upstream_times() -> None:
    logs = sh("docker", "logs", "--tail", "200", "netzwaechter-frontend")
    line = next(ln for ln in logs.splitlines() if '"GET /api/' in ln)
    assert " rt=" in line and ' urt="' in line

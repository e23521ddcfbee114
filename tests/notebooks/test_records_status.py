"""The overview and service-status notebooks' records against docker, docker-compose,
psql, redis-cli and curl on the same stack (one run of each, shared by the tests).

test_runner.py already checks service-status's `healthy` metrics and postgres/redis `up`;
here: the overview's health and dependencies, and each service-status row per container."""

from __future__ import annotations

import subprocess
from datetime import datetime

import pytest
import yaml

from netzops.containers import compose
from netzops.targets import Target
from tests.notebooks.helpers import (
    Record,
    containers,
    docker_ps_health,
    inspect,
    psql,
    redis_info,
    run,
)

SERVICES = ("frontend", "backend", "postgres", "redis")


@pytest.fixture(scope="module")
def overview() -> Record:
    return run("overview")


@pytest.fixture(scope="module")
def status() -> Record:
    return run("service-status")


def curl_status(url: str) -> int:
    done = subprocess.run(
        ["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", url],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return int(done.stdout or 0)


def docker_time(stamp: str) -> datetime:
    """Docker's RFC 3339 time with nanoseconds, cut to microseconds."""
    head, _, frac = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(frac + '000000')[:6]}+00:00")


def test_overview_health_and_replicas_match_docker_ps(overview: Record) -> None:
    assert overview.exit == 0 and overview.side["error"] is None
    health = docker_ps_health()
    for service in SERVICES:
        assert overview.metric(f"containers.{service}.healthy") == float(health[service])
        assert overview.metric(f"containers.{service}.replicas") == len(containers(service))


def test_overview_dependencies_match_compose_config(overview: Record, target: Target) -> None:
    done = subprocess.run(
        [*compose.base_command(target), "config"],
        capture_output=True,
        text=True,
        env=target.compose.environment(),
        timeout=60,
        check=True,
    )
    services = yaml.safe_load(done.stdout)["services"]
    rows = {r["service"]: r for r in overview.result("dependencies")["rows"]}
    assert set(rows) == set(services)
    for name, spec in services.items():
        needs = spec.get("depends_on") or {}
        assert rows[name]["depends_on"] == sorted(needs), name
        conditions = sorted({v.get("condition", "service_started") for v in needs.values()})
        assert rows[name]["condition"] == ", ".join(conditions), name


def test_overview_pings_match_psql_and_redis_cli(overview: Record) -> None:
    pg = overview.result("postgres_ping")["rows"][0]
    assert pg["server_version_num"] == int(psql("SHOW server_version_num"))
    started = datetime.fromisoformat(psql("SELECT pg_postmaster_start_time()").replace(" ", "T"))
    assert abs((datetime.fromisoformat(pg["started_at"]) - started).total_seconds()) < 1
    assert pg["role"] == "netzops_monitor"  # read-only checks use the monitoring role
    assert (
        overview.result("redis_ping")["rows"][0]["version"]
        == redis_info("server")["redis_version"].strip()
    )


@pytest.mark.parametrize("name", ["overview", "service-status"])
def test_http_health_rows_match_curl(name: str, overview: Record, status: Record) -> None:
    record = overview if name == "overview" else status
    rows = record.result("http_health")["rows"]
    assert {r["name"] for r in rows} == {"frontend", "backend"}
    for row in rows:  # the backend URL is the replica's published port at the time
        assert row["status"] == curl_status(row["url"]) == 200, row
        assert row["ok"] is True
        assert record.metric(f"http.{row['name']}.up") == 1.0


def test_service_status_rows_match_docker_inspect(status: Record) -> None:
    # exit 1 only for a P0/P1 finding: a healthy sandbox may still carry another test's
    # error burst of the last 5 minutes, which service-status now reports as alerts do
    urgent = [f for f in status.side["findings"] if f["priority"] in ("P0", "P1")]
    assert status.exit == (1 if urgent else 0) and status.side["error"] is None
    assert all(f["check"] == "request_error_rate_recent" for f in urgent), urgent
    rows = {r["container"]: r for r in status.result("service_status")["rows"]}
    assert set(rows) == set(containers())
    for name, row in rows.items():
        assert row["service"] == inspect(
            name, '{{index .Config.Labels "com.docker.compose.service"}}'
        )
        assert row["state"] == inspect(name, "{{.State.Status}}")
        assert row["health"] == inspect(name, "{{if .State.Health}}{{.State.Health.Status}}{{end}}")
        assert row["restart_count"] == int(inspect(name, "{{.RestartCount}}"))
        assert row["image"] == inspect(name, "{{.Config.Image}}")
        assert datetime.fromisoformat(row["started_at"]) == docker_time(
            inspect(name, "{{.State.StartedAt}}")
        ), name
        published = inspect(
            name,
            "{{range $p, $b := .NetworkSettings.Ports}}{{range $b}}"
            "{{.HostIp}}:{{.HostPort}} {{end}}{{end}}",
        ).split()
        assert all(p in row["ports"] for p in published), (row["ports"], published)

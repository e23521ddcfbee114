"""Issue 11, kind F: with the Docker engine unreachable (the target's docker_host names a
socket that does not exist), the HTTP health checks still probe what they can reach and say
which part they could not check, and the whole sweep completes with findings."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from netzops import endpoints, triage
from netzops.findings import Priority
from netzops.targets import Target


@pytest.fixture(scope="module")
def engine_down(target: Target, tmp_path_factory: pytest.TempPathFactory) -> Target:
    missing = tmp_path_factory.mktemp("engine") / "docker.sock"
    assert not Path(missing).exists()
    return target.model_copy(update={"docker_host": f"unix://{missing}"})


def test_service_urls_uses_the_callers_client(target: Target) -> None:
    from netzops import containers

    docker = containers.connect(target)
    try:
        urls = endpoints.service_urls(target, target.http.backend_url, docker)
    finally:
        docker.close()
    assert urls and all(u.startswith("http://127.0.0.1:") for u in urls.values())


def test_health_with_the_engine_down_is_a_finding_not_an_exception(
    target: Target, engine_down: Target
) -> None:
    assert target.http.backend_url.startswith("compose://")
    with endpoints.client(engine_down) as http:
        result = endpoints.health(http, engine_down)
    frontend = httpx.get(
        target.http.frontend_url.rstrip("/") + "/health",
        timeout=5,
        verify=target.http.verify_tls,  # as the target's own client
    )
    assert [r["name"] for r in result.rows] == ["frontend"]
    assert result.rows[0]["ok"] is frontend.is_success  # measured as curl would see it
    backend = [f for f in result.findings if f.subject == "backend"]
    assert [f.priority for f in backend] == [Priority.P2]
    assert "Docker engine, which did not answer" in backend[0].summary
    assert "http.frontend.up" in result.metrics and "http.backend.up" not in result.metrics


def test_the_sweep_completes_with_the_engine_down(engine_down: Target) -> None:
    results = triage.sweep(engine_down)
    by_check = {r.check: r for r in results}
    assert "http_health" in by_check and "service_status" in by_check
    status = by_check["service_status"]
    assert any("Docker engine unreachable" in f.summary for f in status.findings)
    assert by_check["redis_ping"].findings == []  # the other parts are still measured
    assert by_check["postgres_ping"].findings == []
    triage.summary(results)._repr_html_()

"""The monitoring notebook's record against docker stats (memory within 5 % or 2 MiB), df,
and the nginx access log counted with grep on the same hour; its three figures must reach
the HTML record as images."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.notebooks.helpers import (
    Record,
    containers,
    docker_stats_memory,
    hour_bracket,
    inspect,
    psql,
    run,
)

MiB = 1024 * 1024
FIGURES = 3  # resources, response times, errors per minute


@pytest.fixture(scope="module")
def monitoring() -> tuple[Record, dict[str, float], dict[str, float]]:
    before = docker_stats_memory()
    record = run("monitoring")
    return record, before, docker_stats_memory()


def test_memory_per_service_matches_docker_stats(
    monitoring: tuple[Record, dict[str, float], dict[str, float]],
) -> None:
    record, before, after = monitoring
    assert record.exit in (0, 1) and record.side["error"] is None
    for name in containers():
        service = inspect(name, '{{index .Config.Labels "com.docker.compose.service"}}')
        key = service if len(containers(service)) == 1 else name
        value = record.metric(f"containers.{key}.memory_bytes")
        assert any(
            abs(value - seen[name]) <= max(0.05 * seen[name], 2 * MiB) for seen in (before, after)
        ), (name, value, before[name], after[name])


def test_disk_use_matches_df(monitoring: tuple[Record, dict[str, float], dict[str, float]]) -> None:
    record = monitoring[0]
    df = (
        subprocess.run(
            ["df", "--output=used,avail", "-B1", "/"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        .stdout.splitlines()[1]
        .split()
    )
    used, avail = int(df[0]), int(df[1])
    # df's Use% is used / (used + available), without the blocks reserved for root
    assert abs(record.metric("host.disk./.percent") - 100 * used / (used + avail)) <= 1


def test_response_time_samples_are_complete(
    monitoring: tuple[Record, dict[str, float], dict[str, float]],
) -> None:
    record = monitoring[0]
    rows = [r for res in record.results("http_sample") for r in res["rows"]]
    assert [(r["name"], r["requests"], r["errors"]) for r in rows] == [
        ("page", 20, 0),
        ("api", 20, 0),
    ]
    assert 0 < record.metric("http.api.p50_ms") <= record.metric("http.api.p95_ms")


def test_nginx_requests_match_grep_on_the_same_hour(
    monitoring: tuple[Record, dict[str, float], dict[str, float]],
) -> None:
    record = monitoring[0]
    low, high = hour_bracket("frontend", '] "', record.before, record.after)
    assert low <= record.metric("logs.frontend.requests") <= high


def test_three_figures_are_images_in_the_html_record(
    monitoring: tuple[Record, dict[str, float], dict[str, float]],
) -> None:
    record = monitoring[0]
    images = re.findall(r'<img[^>]+src="data:image/(?:png|svg\+xml)', record.html.read_text())
    svgs = re.findall(r"<svg[^>]*>\s*<metadata>", record.html.read_text())  # inline matplotlib
    assert len(images) + len(svgs) == FIGURES, "figures shown as text, not images: " + str(
        re.findall(r"&lt;Figure size [^&]*&gt;", record.html.read_text())
    )


def test_daily_report_side_car_has_every_documented_metric(
    monitoring: tuple[Record, dict[str, float], dict[str, float]],
) -> None:
    """docs/records.md promises these names in the monitoring (daily health) record."""
    record, _, _ = monitoring
    for service in ("frontend", "backend", "postgres", "redis"):
        assert record.metric(f"containers.{service}.healthy") == 1.0
        assert record.metric(f"containers.{service}.memory_bytes") > 0
        assert record.metric(f"containers.{service}.cpu_percent") >= 0
    size = int(psql("SELECT pg_database_size('netzwaechter')"))
    assert abs(record.metric("postgres.database_size_bytes") - size) <= MiB
    assert record.metric("postgres.connections.active") >= 0
    assert record.metric("redis.used_memory_bytes") > 0
    metrics = record.side["metrics"]  # no lookups in the 2 s interval: only the cumulative rate
    assert 0 <= metrics.get("redis.hit_rate", 0) <= 1
    assert "redis.hit_rate" in metrics or "redis.hit_rate_cumulative_percent" in metrics
    assert record.metric("tls.frontend.days_left") > 0
    assert record.metric("logs.backend.errors_last_hour") >= 0


def test_issue16_host_checks_in_the_side_car(
    monitoring: tuple[Record, dict[str, float], dict[str, float]],
) -> None:
    record = monitoring[0]
    assert "host.load.per_cpu_5m" in record.side["metrics"]
    assert record.result("host_load")["rows"][0]["cpus"] == int(
        subprocess.run(["nproc", "--all"], capture_output=True, text=True, check=True).stdout
    )
    root = next(r for r in record.result("host_inodes")["rows"] if r["mount"] == "/")
    df = subprocess.run(["df", "--output=itotal", "/"], capture_output=True, text=True, check=True)
    assert root["inodes"] == int(df.stdout.split()[1])
    assert record.metric("host.inodes./.percent") == root["percent"]

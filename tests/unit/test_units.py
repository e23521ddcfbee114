"""Human units with exact values (netzops.units), and results rendered with them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from netzops import units
from netzops.results import Result

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0 B"),
        (48, "48 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (20795, "20 KiB"),
        (1628272, "1.6 MiB"),
        (21860352, "21 MiB"),
        (156944565, "150 MiB"),
        (270553174016, "252 GiB"),
        (5 * 1024**4, "5.0 TiB"),
    ],
)
def test_size_iec(value: float, text: str) -> None:
    assert units.size(value) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0004, "0.4 ms"),
        (0.0067, "6.7 ms"),
        (0.369, "369 ms"),
        (1.0, "1.0 s"),
        (2.5, "2.5 s"),
        (42.4, "42 s"),
        (60, "1 min"),
        (413.9, "6 min 54 s"),
        (11520, "3 h 12 min"),
        (187200, "2 d 4 h"),
        (86400, "1 d"),
        (-90, "-1 min 30 s"),
    ],
)
def test_duration(seconds: float, text: str) -> None:
    assert units.duration(seconds) == text


def test_millis_percent_days_number() -> None:
    assert units.millis(6.7) == "6.7 ms"
    assert units.millis(1500) == "1.5 s"
    assert [units.percent(p) for p in (14.62, 0.94, 98.78, 100, 0, 23.1, 0.004)] == [
        "14.6 %",
        "0.94 %",
        "98.8 %",
        "100 %",
        "0 %",
        "23.1 %",
        "< 0.01 %",
    ]
    assert [units.days(d) for d in (90.0, 1, 2.46, 12.6)] == [
        "90 days",
        "1 day",
        "2.5 days",
        "13 days",
    ]
    assert [units.number(x) for x in (1074, 8.284, 0.5, 2.0, 1234.6)] == [
        "1,074",
        "8.28",
        "0.5",
        "2",
        "1,235",
    ]


def test_times() -> None:
    assert units.ago(NOW - timedelta(minutes=3), NOW) == "3 minutes ago"
    assert units.ago(NOW - timedelta(days=2, hours=3), NOW) == "2 days ago"
    assert units.timestamp(datetime(2026, 11, 30, 11, 53, 31, tzinfo=UTC), NOW) == "11:53"
    assert units.timestamp(datetime(2026, 11, 29, 23, 5, tzinfo=UTC), NOW) == "Nov 29 23:05"
    assert units.timestamp(datetime(2025, 1, 2, 3, 4, tzinfo=UTC), NOW) == "2025-01-02 03:04"
    assert units.parse_time("2026-11-30T11:53:31.554938+00:00") is not None
    assert units.parse_time("2026-11-30") is None  # a date stays as written
    assert units.parse_time("injected fault") is None


def test_metric_by_name() -> None:
    assert units.metric("containers.backend.memory_bytes", 21860352) == "21 MiB"
    assert units.metric("host.disk./.percent", 23.1) == "23.1 %"
    assert units.metric("http.api.p95_ms", 6.7) == "6.7 ms"
    assert units.metric("tls.frontend.days_left", 90.0) == "90 days"
    assert units.metric("redis.used_memory_bytes", 1628272.0) == "1.6 MiB"
    assert units.metric("logs.backend.requests", 1074) == "1,074"
    assert units.label("memory_bytes") == "memory"
    assert units.label("cpu_percent") == "cpu %"
    assert units.label("days_left") == "days left"


ROWS = [
    {
        "service": "backend",
        "memory_bytes": 21860352,
        "size_bytes": 270553174016,
        "uptime_s": 413.9,
        "started_at": "2026-11-30T11:56:51.295415+00:00",
        "steps": ["Check logs", "Review deployments"],
        "server_version_num": 150018,
        "ok": True,
        "error": None,
    }
]


def test_table_html_human_units_and_alignment() -> None:
    page = units.table_html(ROWS, NOW)
    for text in ("21 MiB", "252 GiB", "6 min 54 s", ">11:56<", "150018", ">yes<"):
        assert text in page, text
    assert "<li>Check logs</li><li>Review deployments</li>" in page
    assert "['" not in page and "21860352" not in page
    assert 'title="2026-11-30T11:56:51.295415+00:00"' in page
    # text left, numbers right: the service cell and the memory cell
    assert ">backend</td>" in page
    service_td = page.split(">backend</td>")[0].rsplit("<td", 1)[1]
    memory_td = page.split(">21 MiB</td>")[0].rsplit("<td", 1)[1]
    assert "text-align:left" in service_td and "text-align:right" in memory_td


def test_table_text_aligned() -> None:
    text = units.table_text(
        [{"service": "backend", "memory_bytes": 21860352}, {"service": "db", "memory_bytes": 48}],
        NOW,
    )
    assert text.splitlines() == [
        "service  memory",
        "backend  21 MiB",
        "db         48 B",
    ]


def test_result_shows_human_units_raw_in_frame() -> None:
    result = Result.of("container_stats", "Container resources", ROWS)
    assert "21 MiB" in result._repr_html_() and "21 MiB" in str(result)
    assert "21860352" not in result._repr_html_()
    assert int(result.to_frame()["memory_bytes"][0]) == 21860352
    assert result.to_json()["rows"][0]["memory_bytes"] == 21860352


def test_finding_summaries_in_human_units() -> None:
    assert units.finding_text("error rate % 14.62 > 5", 14.62) == "error rate 14.6 % > 5 %"
    assert (
        units.finding_text("error rate % 9.35 > 5 (last 5 minutes)", 9.35)
        == "error rate 9.35 % > 5 % (last 5 minutes)"
    )
    assert units.finding_text("p95 ms 250 > 200", 250) == "p95 250 ms > 200 ms"
    assert units.finding_text("client connections 1 < 5", 1) == "client connections 1 < 5"
    assert (
        units.finding_text("9 slow queries, slowest 369 ms", 9) == "9 slow queries, slowest 369 ms"
    )
    assert units.finding_unit("9 slow queries, slowest 369 ms", 369.0) == "ms"
    assert units.finding_unit("9 slow queries, slowest 369 ms", 9) == ""

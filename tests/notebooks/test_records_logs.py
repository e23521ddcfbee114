"""The logs notebook's record against `docker logs … | grep -c` on the same hour.

A fault window (error_rate 0.5 through the backend's fault API, reset in a finally) gives the
hour real ERROR lines and 5xx responses. Lines keep arriving (health checks), so each count
is bracketed: the notebook's one-hour window ends somewhere in the run, hence it holds at
least the lines of [end of run − 1 h, start of run] and at most those of
[start of run − 1 h, end of run]."""

from __future__ import annotations

import pytest

from tests.notebooks.helpers import Record, backend_error_rate_traffic, hour_bracket, run

FAULTED_REQUESTS = 40


@pytest.fixture(scope="module")
def logs() -> tuple[Record, int]:
    failed = backend_error_rate_traffic(FAULTED_REQUESTS)
    return run("logs"), failed


@pytest.mark.parametrize(
    ("metric", "grep"),
    [
        ("logs.backend.errors_last_hour", "ERROR"),
        ("logs.backend.requests", " request method="),
        ("logs.backend.errors_5xx", " status=5"),
        ("logs.backend.failed_logins", "failed login"),
    ],
)
def test_counts_match_grep_on_the_same_hour(
    logs: tuple[Record, int], metric: str, grep: str
) -> None:
    record, _ = logs
    assert record.side["error"] is None
    low, high = hour_bracket("backend", grep, record.before, record.after)
    assert low <= record.metric(metric) <= high, (metric, low, high)


def test_fault_window_shows_as_errors(logs: tuple[Record, int]) -> None:
    record, failed = logs
    assert failed > 0  # error_rate 0.5 answered some requests with 500
    assert record.metric("logs.backend.errors_5xx") >= failed
    # each injected fault logs two ERROR lines: the fault and its status=500 request line
    assert record.metric("logs.backend.errors_last_hour") >= 2 * failed
    kinds = record.result("log_errors")["rows"]
    assert sum(k["count"] for k in kinds) == record.metric("logs.backend.errors_last_hour")
    assert any("injected fault" in k["example"] for k in kinds)
    assert record.findings("log_errors")  # ERROR lines in the hour are a finding


def test_tail_shows_the_newest_lines_in_time_order(logs: tuple[Record, int]) -> None:
    record, _ = logs
    shown = record.result("logs")
    assert shown["rows_total"] <= 100  # tail=100 per container, one replica
    times = [r["time"] for r in shown["rows"]]
    assert times == sorted(times)
    assert {r["service"] for r in shown["rows"]} == {"backend"}

"""Issue 11, new cases of the seven kinds tried as a reviewer would (each failed before its
fix unless said otherwise):

A  a health-check log entry whose Output is null; a side-car finding with a key a newer
   netzops added; a log file with invalid UTF-8, NUL bytes, CRLF and odd time stamps (this
   one already worked)
B  an engine whose clock is ahead of this machine's (a start in the future)
D  a target naming its compose project in capitals (compose lower-cases it)
E  times with nanoseconds and `-0000`/`-00:00` offsets (these already worked)

Live counterparts (the real sandbox): tests/integration/test_reviewer_cases_live.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from netzops.cli import main
from netzops.containers.status import container_state
from netzops.errors import BadInput
from netzops.findings import Finding, Priority
from netzops.runner.summary import load_record
from netzops.targets import Target, parse_target
from netzops.times import parse_time

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class _Recorded:
    """The three attributes of docker-py's Container that container_state reads, holding a
    document recorded from (or shaped as) `GET /containers/{id}/json`."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.name = "netzwaechter-redis"
        self.labels = {"com.docker.compose.service": "redis"}
        self.attrs = {"State": state, "RestartCount": 0, "Config": {"Image": "base"}}


def _running(**extra: Any) -> dict[str, Any]:
    return {"Status": "running", "StartedAt": "2026-11-30T11:00:00.123456789Z", **extra}


def test_health_log_entry_with_null_output_is_empty_text() -> None:
    health = {"Status": "healthy", "FailingStreak": 0, "Log": [{"ExitCode": 0, "Output": None}]}
    row = container_state(_Recorded(_running(Health=health)), NOW)
    assert row.health == "healthy" and row.last_health_output == ""


def test_container_without_health_check_is_serving() -> None:
    row = container_state(_Recorded(_running()), NOW)
    assert row.health == "none" and row.serving and row.uptime_s == 3599.9


def test_start_in_the_future_is_no_negative_uptime() -> None:
    ahead = (NOW + timedelta(minutes=5)).isoformat()  # the engine's clock runs 5 min ahead
    row = container_state(_Recorded(_running(StartedAt=ahead)), NOW)
    assert row.started_at == NOW + timedelta(minutes=5)
    assert row.uptime_s is None


def _target(project: str) -> Target:
    from netzops.targets import load_target

    data = load_target("sandbox").model_dump()
    data["compose"]["project"] = project
    return parse_target(data, "test")


@pytest.mark.parametrize("written", ["NetzWaechter", "NETZWAECHTER", "netz.waechter"])
def test_compose_project_is_named_as_compose_names_it(written: str) -> None:
    assert _target(written).compose.project == "netzwaechter"


@pytest.mark.parametrize("written", ["", "!!", "_x"])
def test_a_name_compose_cannot_use_is_refused_in_one_line(written: str) -> None:
    with pytest.raises(BadInput, match=r"compose\.project"):
        _target(written)


def test_finding_from_a_newer_record_keeps_what_this_version_knows(tmp_path: Path) -> None:
    newer = Finding("cache_memory", "redis", Priority.P2, "memory 85 %", 85.0, 80.0).to_dict()
    newer |= {"procedure": "evict", "runbook_anchor": "#redis"}  # keys from a newer netzops
    assert Finding.from_dict(newer).priority == Priority.P2
    side = tmp_path / "090000-cache.json"
    side.write_text(json.dumps({"status": "completed", "findings": [newer], "metrics": {}}))
    record = load_record("cache", "completed", "P2", side)
    assert [f.summary for f in record.findings] == ["memory 85 %"]


def test_a_finding_that_cannot_be_read_is_a_finding_about_the_record(tmp_path: Path) -> None:
    """A side-car edited by hand or cut short: the report still renders, and says so."""
    findings = [
        {"check": "redis_memory", "subject": "redis", "summary": "no priority"},
        {"priority": "P1", "check": "http_health"},  # no subject, no summary
        {"priority": "P7", "check": "x", "subject": "y", "summary": "z"},
        "junk",
    ]
    side = tmp_path / "090000-alerts.json"
    side.write_text(json.dumps({"status": "completed", "findings": findings, "metrics": {}}))
    got = load_record("alerts", "completed", "P1", side).findings
    assert [(f.check, f.subject, f.priority) for f in got] == [
        ("record", "alerts", Priority.P2),
        ("http_health", "", Priority.P1),
        ("record", "alerts", Priority.P2),
        ("record", "alerts", Priority.P2),
    ]
    assert "without a priority" in got[0].summary and "P7" in got[2].summary
    assert "junk" in got[3].summary


LOG = (
    b"2026-11-30T10:00:00.123456789Z ERROR db \xff\xfe broken \x00 nul\r\n"
    b"2026-11-30T10:00:02-0000 WARN slow query duration: inf ms statement: SELECT 1\n"
    b"\x00\x00\x00\n"
    b"not a time line \xc3\x28 ERROR\n"
)


def test_log_scan_of_bytes_that_are_not_text_is_strict_json(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_bytes(LOG)
    done = CliRunner().invoke(main, ["logs", "scan", str(tmp_path), "--json"])
    assert done.exit_code == 0, done.output

    def refuse(token: str) -> None:
        raise AssertionError(f"not strict JSON: {token}")

    report = json.loads(done.output, parse_constant=refuse)
    assert report["lines"] == 4 and report["errors"] == 2
    assert report["error_lines_per_minute"] == {"2026-11-30T10:00": 1}
    assert report["slow_query_max_ms"] is None  # an infinite duration is no figure


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-27T10:00:00.123456789Z", datetime(2026, 11, 27, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2026-11-27T10:00:00-0000", datetime(2026, 11, 27, 10, tzinfo=UTC)),
        ("2026-11-27T10:00:00-00:00", datetime(2026, 11, 27, 10, tzinfo=UTC)),
        ("2026-11-27t10:00:00z", datetime(2026, 11, 27, 10, tzinfo=UTC)),
        ("2026-11-27T15:30:00+0530", datetime(2026, 11, 27, 10, tzinfo=UTC)),
    ],
)
def test_times_as_engines_and_operators_write_them(text: str, expected: datetime) -> None:
    assert parse_time(text, NOW) == expected


def test_postgres_16_reserved_connections_count_against_normal_roles() -> None:
    """C: PostgreSQL 16 added `reserved_connections` (for pg_use_reserved_connections) beside
    the superuser reserve; the 16+ file subtracts both, the 12–15 file asks for no setting
    those versions lack (before: one file for all, 16+ over-counted what roles may open)."""
    from netzops.postgres import queries

    newest, oldest = (
        queries.get("connection_capacity", 170000),
        queries.get("connection_capacity", 120000),
    )
    assert "current_setting('reserved_connections')" in newest
    assert "current_setting('reserved_connections')" not in oldest
    assert queries.get("connection_capacity", 160000) == newest
    assert queries.get("connection_capacity", 150000) == oldest


@pytest.mark.parametrize(
    ("notebook", "assignment"),
    [
        ("logs", "tail=-5"),
        ("monitoring", "samples=-1"),
        ("cache", "stats_interval_s=-0.5"),
        ("performance", "top_queries=-3"),
        ("restart-scale", "replicas=-1"),
    ],
)
def test_negative_counts_and_durations_are_exit_2_before_a_kernel(
    notebook: str, assignment: str
) -> None:
    """E: a negative count or duration used to pass the check and fail inside the kernel
    (`logs.read`: "tail must be ≥ 0", exit 3 with a partial record); refused before."""
    done = CliRunner().invoke(main, ["run", notebook, "-p", assignment])
    assert done.exit_code == 2, done.output
    assert "must be 0 or more" in done.output
    assert len(done.output.strip().splitlines()) == 1


def test_zero_stays_a_valid_count() -> None:
    from netzops.runner import notebooks
    from netzops.runner.parameters import merge

    merged = merge(notebooks.load("restart-scale").parameters, {"replicas": "0"})
    assert merged["replicas"] == 0  # scale to zero is a real request

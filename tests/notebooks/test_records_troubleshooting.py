"""The troubleshooting notebook: `symptom=ssl-certificate` while nginx serves an expired
certificate (restored to 90 days in a finally) matches that scenario with a P0 finding whose
days left openssl confirms; `auto`, run with a fresh 90-day certificate, names all seven
scenarios of the runbook's guide and finds no SSL issue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from netzops.sandbox import stack
from netzops.triage.troubleshoot import SCENARIOS
from tests.notebooks.helpers import Record, expired_certificate, run, served_certificate_end

DAY = 86400.0


@pytest.fixture(scope="module")
def ssl() -> tuple[Record, list[float]]:
    """The run, and notAfter as openssl read it just before and just after the run (others
    may change the shared sandbox's certificate meanwhile)."""
    with expired_certificate():
        before = served_certificate_end()
        record = run("troubleshooting", "symptom=ssl-certificate")
        return record, [before, served_certificate_end()]


@pytest.fixture(scope="module")
def auto() -> tuple[Record, list[float]]:
    """The run with a certificate issued now for 90 days (set_certificate returns once nginx
    serves it), and notAfter as openssl read it just before and just after the run."""
    engine = stack.engine()
    try:
        stack.set_certificate(90, engine)
    finally:
        engine.close()
    before = served_certificate_end()
    record = run("troubleshooting")
    return record, [before, served_certificate_end()]


def verdict(record: Record) -> list[dict[str, Any]]:
    return list(record.result("troubleshooting")["rows"])


def test_ssl_scenario_matches_the_expired_certificate(ssl: tuple[Record, list[float]]) -> None:
    record, _ = ssl
    assert record.side["error"] is None
    rows = verdict(record)
    assert [(r["scenario"], r["matches"]) for r in rows] == [("ssl-certificate", True)]
    assert any("expired" in e for e in rows[0]["evidence"])
    tls = record.findings("tls", "P0")
    assert [f["subject"] for f in tls] == ["frontend"] and record.side["worst"] == "P0"


def test_days_left_match_openssl(ssl: tuple[Record, list[float]]) -> None:
    record, ends = ssl
    row = record.result("tls")["rows"][0]
    end = datetime.fromisoformat(row["not_after"]).timestamp()
    assert end in ends, (row["not_after"], ends)  # the certificate openssl saw
    expected = (end - record.before) / DAY  # days left at the run's start
    assert abs(record.metric("tls.frontend.days_left") - expected) <= 0.02  # ≈ 30 min


def test_auto_names_all_seven_scenarios(auto: tuple[Record, list[float]]) -> None:
    record, _ = auto
    assert record.side["error"] is None
    rows = verdict(record)
    assert len(SCENARIOS) == 7
    assert sorted(r["scenario"] for r in rows) == sorted(SCENARIOS)
    assert [r["matches"] for r in rows] == sorted((r["matches"] for r in rows), reverse=True)
    for row in rows:
        assert row["resolution"] and bool(row["evidence"]) == row["matches"], row


def test_auto_with_a_valid_certificate_finds_no_ssl_issue(
    auto: tuple[Record, list[float]],
) -> None:
    record, ends = auto
    row = next(r for r in verdict(record) if r["scenario"] == "ssl-certificate")
    assert row["matches"] is False
    days_left = record.metric("tls.frontend.days_left")
    assert 89 < days_left <= 90  # issued for 90 days just before the run
    tls = record.result("tls")["rows"][0]
    end = datetime.fromisoformat(tls["not_after"]).timestamp()
    assert end in ends, (tls["not_after"], ends)  # the certificate openssl saw
    assert abs(days_left - (end - record.before) / DAY) <= 0.02  # ≈ 30 min

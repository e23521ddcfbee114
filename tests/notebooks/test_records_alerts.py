"""The alerts and escalation notebooks during an incident made on purpose: the backend
answers half of a burst of requests with 500 (fault API, reset in a finally) and nginx
serves an expired certificate (restored to 90 days in a finally). Both notebooks sweep the
same checks; their records must name the backend's error rate (P1, the rate grep gives)
with the runbook's "High Error Rate Alert" procedure, and the expired certificate (P0)
paged to L1 and L2."""

from __future__ import annotations

import time

import pytest

from tests.notebooks.helpers import (
    Record,
    backend_error_rate_traffic,
    expired_certificate,
    hour_bracket,
    log_count,
    run,
    served_certificate_end,
)


@pytest.fixture(scope="module")
def incident() -> dict[str, Record]:
    now = time.time()
    recent = log_count("backend", " request method=", now - 3600, now + 1)
    # a third as many faulted requests as the hour holds, half of them 500: ≈ 12 % errors,
    # well above 5 %, however busy the hour was (a cap would let a busy hour dilute it)
    assert backend_error_rate_traffic(max(60, recent // 3)) > 0
    with expired_certificate():
        assert served_certificate_end() < time.time()
        return {"alerts": run("alerts"), "escalation": run("escalation")}


def error_rate_finding(record: Record) -> dict[str, object]:
    found = [f for f in record.findings("request_error_rate") if f["subject"] == "backend"]
    assert len(found) == 1, record.side["findings"]
    return found[0]


def response_row(record: Record, priority: str, summary: object) -> dict[str, object]:
    rows = record.result("alert_responses")["rows"]
    return next(r for r in rows if r["priority"] == priority and r["summary"] == summary)


def test_backend_error_rate_is_p1_at_the_rate_grep_gives(incident: dict[str, Record]) -> None:
    record = incident["alerts"]
    assert record.side["error"] is None
    finding = error_rate_finding(record)
    assert finding["priority"] == "P1" and finding["threshold"] == 5
    failed = hour_bracket("backend", " status=5", record.before, record.after)
    seen = hour_bracket("backend", " request method=", record.before, record.after)
    rate = float(finding["value"])  # type: ignore[arg-type]
    assert 100 * failed[0] / seen[1] - 0.01 <= rate <= 100 * failed[1] / seen[0] + 0.01


def test_error_rate_gets_the_high_error_rate_procedure(incident: dict[str, Record]) -> None:
    record = incident["alerts"]
    row = response_row(record, "P1", error_rate_finding(record)["summary"])
    assert row["procedure"] == "High Error Rate Alert", row
    assert row["steps"]


def test_expired_certificate_is_p0_with_its_procedure(incident: dict[str, Record]) -> None:
    record = incident["alerts"]
    tls = record.findings("tls", "P0")
    assert [f["subject"] for f in tls] == ["frontend"]
    assert record.side["worst"] == "P0" and record.exit == 1  # --fail-on P1
    row = response_row(record, "P0", tls[0]["summary"])
    assert row["procedure"] == "SSL Certificate Issues"
    assert record.side["findings"][0]["priority"] == "P0"  # most urgent first


def test_escalation_pages_l1_and_l2_for_the_p0(incident: dict[str, Record]) -> None:
    record = incident["escalation"]
    assert record.side["error"] is None
    rows = record.result("escalation")["rows"]
    p0 = [r for r in rows if r["priority"] == "P0"]
    assert any(r["subject"] == "frontend" for r in p0)
    for row in p0:
        assert {"L1", "L2"} <= set(row["levels"]), row
        assert ("L3" in row["levels"]) == (len(p0) > 1)  # several P0s reach the manager
        assert row["when"].startswith("page now")
        assert any(c.startswith("Senior Engineer") for c in row["contacts"])


def test_escalation_pages_l1_for_the_error_rate(incident: dict[str, Record]) -> None:
    record = incident["escalation"]
    summary = error_rate_finding(record)["summary"]
    row = next(r for r in record.result("escalation")["rows"] if r["summary"] == summary)
    assert row["levels"] == ["L1"] and row["when"].startswith("page now")

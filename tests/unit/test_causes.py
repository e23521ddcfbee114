"""The cause rules (data/causes.yaml) as pure functions of findings and metrics: each rule's
procedure and scenario exist, consequences never become causes of their own, the engine
comes before the containers, the database before the backend's errors, and a refused
credential names netzops's secret and its source instead of a restart."""

from __future__ import annotations

import re
from typing import Any

import pytest

from netzops import load_target, triage
from netzops.findings import Finding, Priority
from netzops.results import Result
from netzops.triage.causes import rules
from netzops.triage.response import procedures
from netzops.triage.troubleshoot import SCENARIOS

P = Priority
SANDBOX = load_target("sandbox")


def rows(*found: Finding, metrics: dict[str, float] | None = None) -> list[dict[str, Any]]:
    result = Result.of("x", "x", findings=list(found), metrics=metrics or {})
    return list(triage.causes([result], SANDBOX).rows)


def test_every_rule_names_a_known_procedure_and_scenario() -> None:
    for name, rule in rules().items():
        assert rule.procedure in procedures(), name
        assert rule.scenario is None or rule.scenario in SCENARIOS, name
    for key, proc in procedures().items():
        assert proc.scenario is None or proc.scenario in SCENARIOS, key


def test_engine_unreachable_explains_every_container_finding() -> None:
    found = rows(
        Finding("service_status", "docker", P.P0, "Docker engine unreachable: ConnectionError"),
        Finding("log_errors", "docker", P.P0, "Docker engine unreachable: ConnectionError"),
        Finding("network", "docker", P.P0, "Docker engine unreachable: ConnectionError"),
    )
    assert [r["rule"] for r in found] == ["engine_unreachable"]
    assert len(found[0]["consequences"]) == 2
    assert found[0]["procedure"] == "Docker Engine Unreachable"


def test_database_down_explains_the_backend() -> None:
    found = rows(
        Finding("http_health", "backend", P.P0, "health check failed: HTTP 500"),
        Finding("http_sample", "api", P.P0, "no answer in 20 requests: HTTP 502"),
        Finding("postgres_ping", "postgres", P.P0, "database unavailable: connection refused"),
        Finding("service_status", "postgres", P.P0, "service down: exited, exit code 0"),
        Finding("request_error_rate", "backend", P.P1, "error rate % 40 > 5"),
    )
    assert [r["rule"] for r in found] == ["postgres_down"]
    assert found[0]["priority"] == "P0" and found[0]["escalate"] == ["L1", "L2"]
    assert found[0]["procedure"] == "Database Unavailable"


def test_refused_credentials_name_the_secret_not_a_restart() -> None:
    found = rows(
        Finding("redis_ping", "redis", P.P1, "Redis refused the credentials: WRONGPASS"),
        Finding("redis_memory", "redis", P.P1, "Redis refused the credentials: WRONGPASS"),
        metrics={"containers.redis.healthy": 1.0},
    )
    assert [r["rule"] for r in found] == ["redis_secret"]
    top = found[0]
    ref = SANDBOX.secrets["redis_password"]
    assert "`redis_password`" in str(top["cause"]) and str(ref.file) in str(top["cause"])
    assert top["escalate"] == ["L1"] and top["priority"] == "P2"
    text = " ".join([str(top["next_step"]), *top["steps"]])
    assert not re.search(r"(?i)restart|flush|clear", text)
    assert any("health check" in e for e in top["evidence"])


def test_detached_container_is_a_network_cause() -> None:
    found = rows(
        Finding("service_status", "backend", P.P1, "unhealthy: failing streak 3"),
        Finding("http_health", "backend", P.P0, "health check failed: ConnectError"),
        Finding(
            "network",
            "backend",
            P.P1,
            "backend_1 is detached from the project network x (attached to: no network)",
            "x",
        ),
    )
    assert [r["rule"] for r in found] == ["network_detached"]
    assert "docker network connect x" in str(found[0]["next_step"])


@pytest.mark.parametrize("priority", [P.P0, P.P1, P.P2])
def test_a_cause_keeps_its_evidence_priority(priority: Priority) -> None:
    found = rows(Finding("tls", "frontend", priority, "certificate days left -1: expired"))
    assert found[0]["priority"] == priority.name


def test_findings_no_rule_takes_are_causes_with_their_checks_procedure() -> None:
    found = rows(Finding("host_disk", "/", P.P1, "disk % 95 > 90"))
    assert found[0]["rule"] == "check:host_disk" and found[0]["procedure"] == "Disk Space Alert"


def test_nothing_found_says_so() -> None:
    result = triage.causes([Result.of("x", "x")], SANDBOX)
    assert result.rows == [] and result.notes[0].startswith("No cause")

"""The diagnosis of each sandbox fault (`netzops sandbox fault NAME on|off`), one at a time:
`troubleshooting auto` (the whole sweep, its causes ranked) puts the fault's cause first,
with the procedure and the escalation level chosen for that cause, and the scenario it
belongs to first among the scenarios. What docker, redis-cli and openssl say confirms the
fault was really there. Every fault is switched off in a finally, and `off` returns only
when every service is healthy again.

The sandbox is shared: causes already there before the fault (another test's error burst
in the last hour, a busy CPU) are the baseline; the fault's cause must come first among the
causes that are new, and first of all when nothing as urgent was there before.

Run under the sandbox lock: `flock /tmp/netzops-sandbox.lock .venv/bin/pytest -q
tests/integration/test_faults.py`."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from netzops import load_target, triage
from netzops.findings import Priority
from netzops.runner import notebooks
from netzops.runner.execution import execute, prepare
from netzops.sandbox import faults
from tests.notebooks.helpers import Record

BUDGET_S = 20.0  # the hard budget for a whole-stack triage while a service hangs


@dataclass(frozen=True)
class Expected:
    rule: str
    procedure: str
    escalate: list[str]
    scenario: str
    priority: str


EXPECTED = {
    "postgres-stopped": Expected(
        "postgres_down", "Database Unavailable", ["L1", "L2"], "database-connection", "P0"
    ),
    "postgres-paused": Expected(
        "postgres_paused", "Service Hangs (no answer)", ["L1", "L2"], "database-connection", "P0"
    ),
    "redis-stopped": Expected(
        "service_down", "Service Down Alert", ["L1", "L2"], "service-wont-start", "P0"
    ),
    "redis-secret": Expected(
        "redis_secret", "netzops's Own Credentials Refused", ["L1"], "redis-connection", "P2"
    ),
    "backend-crash-loop": Expected(
        "crash_loop", "Crash Loop", ["L1", "L2"], "service-wont-start", "P0"
    ),
    "nginx-stopped": Expected(
        "service_down", "Service Down Alert", ["L1", "L2"], "service-wont-start", "P0"
    ),
    "cert-expired": Expected(
        "tls_expired", "SSL Certificate Issues", ["L1", "L2"], "ssl-certificate", "P0"
    ),
    "engine-unreachable": Expected(
        "engine_unreachable", "Docker Engine Unreachable", ["L1", "L2"], "service-wont-start", "P0"
    ),
    "backend-detached": Expected(
        "network_detached",
        "Container Cut Off From Its Network",
        ["L1"],
        "service-wont-start",
        "P1",
    ),
    "high-error-rate": Expected(
        "high_error_rate", "High Error Rate Alert", ["L1"], "slow-performance", "P1"
    ),
    "slow-queries": Expected("slow_queries", "Slow Performance", ["L1"], "slow-performance", "P2"),
}
SUBJECT = {"redis-stopped": "redis", "nginx-stopped": "frontend", "backend-crash-loop": "backend"}


def run(name: str, target_name: str) -> Record:
    """Run notebook `name` headless against the target `target_name`, as `netzops run`."""
    target = load_target(target_name)
    notebook = notebooks.load(name)
    params = prepare(notebook, target, [], {})
    before = time.time()
    done = execute(notebook, target, params, Priority.P1, 300)
    side = json.loads(done.sidecar.read_text())
    return Record(int(done.exit), side, done.html, done.notebook, before, time.time())


def docker(*args: str) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=30)
    return done.stdout.strip()


def state(container: str) -> str:
    return docker("inspect", "-f", "{{.State.Status}}", container)


def backend_containers() -> list[str]:
    return docker(
        "ps", "-aq", "--filter", "label=com.docker.compose.project=netzwaechter",
        "--filter", "label=com.docker.compose.service=backend",
    ).split()  # fmt: skip


def confirm(name: str) -> None:
    """What docker, redis-cli and openssl say while the fault is on."""
    if name == "postgres-stopped":
        assert state("netzwaechter-postgres") == "exited"
    elif name == "postgres-paused":
        assert state("netzwaechter-postgres") == "paused"
    elif name == "redis-stopped":
        assert state("netzwaechter-redis") == "exited"
    elif name == "nginx-stopped":
        assert state("netzwaechter-frontend") == "exited"
    elif name == "backend-crash-loop":
        counts = [
            int(docker("inspect", "-f", "{{.RestartCount}}", c)) for c in backend_containers()
        ]
        assert counts and min(counts) >= 3, counts
    elif name == "backend-detached":
        for c in backend_containers():
            assert "netzwaechter-network" not in docker(
                "inspect", "-f", "{{json .NetworkSettings.Networks}}", c
            )
    elif name == "cert-expired":
        end = subprocess.run(
            "openssl s_client -connect 127.0.0.1:8443 -servername localhost </dev/null "
            "2>/dev/null | openssl x509 -noout -checkend 0",
            shell=True,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert end.returncode == 1, end.stdout  # "Certificate will expire"
    elif name == "redis-secret":
        sandbox = load_target("sandbox")
        ping = subprocess.run(
            ["docker", "exec", "-e", "REDISCLI_AUTH", "netzwaechter-redis", "redis-cli", "ping"],
            capture_output=True,
            text=True,
            timeout=30,
            env={"REDISCLI_AUTH": sandbox.secret("redis_password"), "PATH": "/usr/bin:/bin"},
        )
        assert ping.stdout.strip() == "PONG"  # Redis is fine with the deployed secret


@pytest.fixture(scope="module")
def before() -> triage.Diagnosis:
    """The diagnosis of the shared sandbox before any fault."""
    return triage.diagnose(load_target("sandbox"), "auto")


@pytest.fixture(scope="module")
def baseline(before: triage.Diagnosis) -> list[dict[str, Any]]:
    """The causes in the shared sandbox before any fault."""
    return list(before.causes.rows)


@pytest.fixture
def fault(request: pytest.FixtureRequest) -> Iterator[str]:
    name = request.param
    try:
        yield faults.fault(name, True)
    finally:
        faults.fault(name, False)


# Causes read from the logs of the last minutes or hour, not from now: another test's error
# burst, its calls to the heavy /api/report (the sandbox's natural "slow query" lines) or
# its generated traffic (about 7 % failed logins, all from the gateway's address) may have
# left the same cause on the same subject in the baseline.
HISTORY = {"high_error_rate", "slow_queries", "password_guessing"}
#: the machine's own load: on a shared test machine it comes and goes with other work (a
#: benchmark beside the suite made host CPU the first new cause of the slow-queries fault)
AMBIENT = {"check:host_cpu", "check:host_load"}


def first_new(
    rows: list[dict[str, Any]], before: list[dict[str, Any]], want: str
) -> dict[str, Any]:
    """The first cause not already there before the fault: neither its rule and subject,
    nor (unless it is the cause looked for) its rule about anything else (background
    noise of the shared sandbox, such as another test's errors of the last minutes). Error
    rates are history: the previous fault's failed requests stay in the 5-minute window and
    may cross the threshold only now, so they count only when they are the cause looked for;
    a history cause looked for counts even when the baseline had it (the fault's own evidence
    is then checked apart, see `fresh_evidence`)."""
    new = new_causes(rows, before, want)
    assert new, rows
    return new[0]


def new_causes(
    rows: list[dict[str, Any]], before: list[dict[str, Any]], want: str
) -> list[dict[str, Any]]:
    """The causes `first_new` chooses from, in their order."""
    old = {(b["rule"], b["subject"]) for b in before if b["rule"] not in HISTORY & {want}}
    old_rules = ({b["rule"] for b in before} | HISTORY | AMBIENT) - {want}
    return [r for r in rows if (r["rule"], r["subject"]) not in old and r["rule"] not in old_rules]


def first_scenario(found: triage.Diagnosis, before: triage.Diagnosis, want: Expected) -> str:
    """The first matching scenario as `troubleshooting auto` ranks them, among those with a
    new cause (see `new_causes`) that did not match before the fault (`want`'s own may)."""
    fresh = {r["scenario"] for r in new_causes(found.causes.rows, before.causes.rows, want.rule)}
    was = {s["scenario"] for s in before.scenarios.rows if s["matches"]} - {want.scenario}
    shown = [
        s["scenario"] for s in found.scenarios.rows if s["matches"] and s["scenario"] in fresh - was
    ]
    assert shown, found.scenarios.rows
    return str(shown[0])


def fresh_evidence(name: str, since: float) -> None:
    """For a history cause, what the backend logged since `since` (epoch seconds) shows the
    fault itself: slow queries at least as slow as its delay."""
    if name != "slow-queries":
        return
    text = "\n".join(
        subprocess.run(
            ["docker", "logs", "--since", f"{since:.3f}", c],
            capture_output=True, text=True, timeout=30,
        ).stdout
        for c in backend_containers()
    )  # fmt: skip
    slow = [float(ms) for ms in re.findall(r"slow query duration_ms=([0-9.]+)", text)]
    assert slow and max(slow) >= faults.SLOW_QUERY_MS, slow


@pytest.mark.parametrize("fault", list(EXPECTED), indirect=True)
def test_fault_names_its_cause_first(
    fault: str, request: pytest.FixtureRequest, baseline: Any, before: triage.Diagnosis
) -> None:
    name = request.node.callspec.params["fault"]
    want = EXPECTED[name]
    confirm(name)
    since = time.time()
    start = time.monotonic()
    found = triage.diagnose(load_target(fault), "auto")
    elapsed = time.monotonic() - start
    fresh_evidence(name, since)
    rows = found.causes.rows
    top = first_new(rows, baseline, want.rule)
    rule = "crash_loop" if top["rule"] == "crash_loop_restarts" else top["rule"]  # either sign
    assert (rule, top["procedure"], top["priority"]) == (
        want.rule,
        want.procedure,
        want.priority,
    ), rows
    assert top["escalate"][: len(want.escalate)] == want.escalate
    assert top["steps"] and top["next_step"] and top["evidence"]
    if name in SUBJECT:
        assert SUBJECT[name] in top["cause"], top
    if not any(b["priority"] <= want.priority for b in baseline):
        now = [r for r in rows if r["rule"] not in HISTORY - {want.rule}]
        assert now[0] is top
        if rows[0] is top:
            assert found.headline.startswith(f"Most likely cause [{want.priority}]")
    assert top["scenario"] == want.scenario, top
    assert first_scenario(found, before, want) == want.scenario, found.scenarios.rows
    for s in found.scenarios.rows:
        assert bool(s["evidence"]) == s["matches"]  # no evidence: ruled out
    assert elapsed < BUDGET_S, elapsed


@pytest.mark.parametrize("fault", ["postgres-paused"], indirect=True)
def test_alerts_with_postgres_paused_finish_within_budget(fault: str) -> None:
    record = run("alerts", fault)
    wall = record.after - record.before
    slowest = sorted(record.result("sweep")["rows"], key=lambda r: -(r["seconds"] or 0))[:5]
    print(f"alerts with postgres paused: {wall:.1f} s; slowest checks: {slowest}")
    assert wall < BUDGET_S, wall
    assert record.side["error"] is None
    p0 = [f for f in record.side["findings"] if f["priority"] == "P0"]
    assert any(f["subject"] == "postgres" for f in p0), p0
    top = record.result("causes")["rows"][0]
    assert top["rule"] in ("postgres_paused", "postgres_hangs"), top


@pytest.mark.parametrize("fault", ["postgres-paused"], indirect=True)
def test_service_status_with_postgres_paused_finishes_within_budget(fault: str) -> None:
    record = run("service-status", fault)
    wall = record.after - record.before
    print(f"service-status with postgres paused: {wall:.1f} s")
    assert wall < BUDGET_S, wall
    assert record.side["error"] is None and state("netzwaechter-postgres") == "paused"
    high = [f for f in record.side["findings"] if f["priority"] in ("P0", "P1")]
    assert any(f["subject"] == "postgres" for f in high), record.side["findings"]


@pytest.mark.parametrize("fault", ["postgres-paused"], indirect=True)
def test_cut_short_names_the_probes_past_the_deadline(fault: str) -> None:
    """postgres_ping waits out its 5 s connect timeout, past a 1.5 s deadline; its lane
    (postgres_connections) never starts; redis_ping answers."""
    checks = ["postgres_ping", "postgres_connections", "redis_ping"]
    start = time.monotonic()
    results = triage.sweep(load_target(fault), checks, deadline_s=1.5)
    elapsed = time.monotonic() - start
    assert 1.5 <= elapsed < 3.0, elapsed
    assert triage.cut_short_checks(results) == checks[:2]
    assert triage.summary(results).notes == [
        "Cut short (no answer within the deadline): postgres_ping, postgres_connections"
    ]
    found = [(f.subject, f.priority, f.summary) for r in results[:2] for f in r.findings]
    assert found == [
        ("postgres", Priority.P1, f"no answer within 1.5 s: {c} was cut short") for c in checks[:2]
    ]
    assert results[2].metrics["redis.up"] == 1.0 and not results[2].findings


@pytest.mark.parametrize("fault", ["redis-secret"], indirect=True)
def test_wrong_secret_names_its_source_and_sends_nobody_to_restart_redis(fault: str) -> None:
    target = load_target(fault)
    found = triage.diagnose(target, "auto").causes.rows
    top = next(r for r in found if r["rule"] == "redis_secret")
    ref = target.secrets["redis_password"]  # the copy's: a file holding a wrong value
    assert f"`redis_password` (from file {ref.file}" in top["cause"], top["cause"]
    assert any("refused the credentials" in e for e in top["evidence"]), top["evidence"]
    assert top["escalate"] == ["L1"]
    for row in found:  # nothing about Redis says restart it or clear it
        if "redis" in (row["cause"] + " ".join(row["evidence"])).lower():
            text = " ".join([row["next_step"], *row["steps"]]).lower()
            assert not re.search(r"restart|flush|clear", text), row
    record = run("alerts", fault)
    responses = record.result("alert_responses")["rows"]
    redis_rows = [r for r in responses if r["subject"] == "redis"]
    assert redis_rows and all(r["procedure"] == top["procedure"] for r in redis_rows)
    assert not any("restart" in " ".join(r["steps"]).lower() for r in redis_rows)

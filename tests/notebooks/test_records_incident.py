"""Issue 9, end to end on the real sandbox: PostgreSQL stopped for about 30 s during traffic,
an incident opened and resolved around it with the incident notebook, then the post-mortem
notebook. Its timeline, impact window and TTD/TTR are compared with what `docker events`
reported live and with what the clients saw."""

from __future__ import annotations

import gzip
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from netzops import containers, incidents
from netzops.incidents import journal as jr
from netzops.incidents.postmortem import EPISODE_GAP, PostMortem
from netzops.logs import parse as lp
from netzops.sandbox import stack, traffic
from netzops.targets import Target
from tests.conftest import sh
from tests.notebooks.helpers import POSTGRES, Record, docker_ps_health, run

OUTAGE_S = 30.0


@dataclass
class Probe:
    """GET /api/users through the frontend every 0.1 s: (time answered, status)."""

    url: str
    seen: list[tuple[float, int]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(verify=False, timeout=5) as http:
            while not self.stop.is_set():
                try:
                    status = http.get(self.url).status_code
                except httpx.HTTPError:
                    status = 0
                self.seen.append((time.time(), status))
                time.sleep(0.1)

    def failures(self) -> list[float]:
        return [t for t, s in self.seen if s >= 500 or s == 0]


def _wait(what: str, test: object, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not test():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _no_recent_5xx() -> bool:
    """nginx answered no 5xx in the last EPISODE_GAP (+5 s): an earlier test's errors would
    otherwise join the outage's episode."""
    since = f"{int(EPISODE_GAP.total_seconds()) + 5}s"
    out = sh("docker", "logs", "--since", since, "netzwaechter-frontend")
    return not any((lp.access_status(line.encode()) or 0) >= 500 for line in out.splitlines())


def _running(name: str) -> bool:
    return sh("docker", "inspect", "-f", "{{.State.Running}}", name).strip() == "true"


def _healthy(name: str) -> bool:
    return sh("docker", "inspect", "-f", "{{.State.Health.Status}}", name).strip() == "healthy"


@dataclass
class Outage:
    kill_live: int  # timeNano of `docker stop`'s kill of postgres, from `docker events`
    stop_live: tuple[int, str]  # (timeNano, exit code) of postgres die, from `docker events`
    start_live: tuple[int, str]
    probe: Probe
    opened: Record
    monitoring: Record
    resolved: Record
    postmortem: Record
    pm: PostMortem
    journal: Path


@pytest.fixture(scope="module")
def outage(sandbox: Target) -> Iterator[Outage]:
    incidents.start_recorder(sandbox)
    journal = Path(str(incidents.recorder_status("sandbox").journal))
    since = f"{time.time():.3f}"
    live = subprocess.Popen(
        [
            "docker",
            "events",
            "--since",
            since,
            "--filter",
            f"container={POSTGRES}",
            "--filter",
            "event=kill",
            "--filter",
            "event=die",
            "--filter",
            "event=start",
            "--format",
            "{{json .}}",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    probe = Probe(sandbox.http.frontend_url.rstrip("/") + "/api/users")

    def load_until_stopped() -> None:  # mixed traffic in 2-second slices until told to stop
        while not probe.stop.is_set():
            traffic.generate(sandbox.http.frontend_url, 2, 10_000, False)

    load = threading.Thread(target=load_until_stopped)
    prober = threading.Thread(target=probe.run)
    load.start()
    prober.start()
    try:
        time.sleep(5)  # normal traffic first
        _wait("an episode of its own", _no_recent_5xx, 240)
        # a fast shutdown (SIGINT): `docker stop`'s SIGTERM is PostgreSQL's smart shutdown,
        # which refuses new connections but serves pooled ones for up to 10 s (then SIGKILL),
        # so some endpoints fail seconds before the probe's; fast ends every session at once
        sh("docker", "kill", "--signal", "SIGINT", POSTGRES)
        stopped = time.monotonic()
        _wait("postgres stopped", lambda: not _running(POSTGRES), 30)
        _wait("a failing request", lambda: probe.failures(), 30)
        opened = run(
            "incident", "commander=test-oncall", "summary=API answers 5xx", "next_update_minutes=10"
        )
        incident = opened.side["results"][0]["title"].rsplit(" ", 1)[-1]
        time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - stopped)))
        sh("docker", "start", POSTGRES)
        _wait("postgres healthy", lambda: _healthy(POSTGRES), 120)
        _wait("backend healthy", lambda: all(docker_ps_health().values()), 120)
        _wait("requests answered again", lambda: probe.seen[-1][1] == 200, 60)
        monitoring = run(
            "incident",
            f"incident={incident}",
            "status=Monitoring",
            "summary=database started again, watching",
            "procedure=complete_outage",
        )
        time.sleep(3)
    finally:
        probe.stop.set()
        prober.join()
        load.join()
        live.terminate()
        if sh("docker", "inspect", "-f", "{{.State.Running}}", POSTGRES).strip() != "true":
            sh("docker", "start", POSTGRES)  # leave the stack as found, whatever failed
            _wait("postgres healthy", lambda: _healthy(POSTGRES), 120)
    resolved = run(
        "incident",
        f"incident={incident}",
        "status=Resolved",
        "summary=PostgreSQL was stopped; started again",
    )
    events = [json.loads(line) for line in (live.communicate()[0] or "").splitlines() if line]
    die = next(
        (e["timeNano"], e["Actor"]["Attributes"]["exitCode"])
        for e in events
        if e["Action"] == "die"
    )
    start = next((e["timeNano"], e["Action"]) for e in events if e["Action"] == "start")
    kill = next(e["timeNano"] for e in events if e["Action"] == "kill")
    postmortem = run("postmortem", f"incident={incident}")
    client = containers.connect(sandbox)
    pm = incidents.build_postmortem(client, sandbox, incident)
    stack.maintain_database(client)
    yield Outage(kill, die, start, probe, opened, monitoring, resolved, postmortem, pm, journal)


def _instant(value: object) -> float:
    return jr.parse_time(str(value).replace("+00:00", "Z")).timestamp()


def test_timeline_holds_postgres_die_and_start_as_docker_reported_them(outage: Outage) -> None:
    rows = outage.postmortem.all_rows("timeline")
    pg = [r for r in rows if r["source"] == "journal" and r["service"] == "postgres"]
    # the window opens 10 min before the incident: earlier outages may be in it too
    dies = [r for r in pg if r["event"].startswith("die")]
    die = min(dies, key=lambda r: abs(_instant(r["time"]) - outage.stop_live[0] / 1e9))
    start = next(
        r
        for r in pg
        if r["event"].startswith("start") and _instant(r["time"]) > _instant(die["time"])
    )
    assert _instant(die["time"]) < _instant(start["time"])
    assert abs(_instant(die["time"]) - outage.stop_live[0] / 1e9) <= 1.0
    assert abs(_instant(start["time"]) - outage.start_live[0] / 1e9) <= 1.0
    assert f"(exit {outage.stop_live[1]})" in die["event"]
    times = [_instant(r["time"]) for r in rows]
    assert times == sorted(times), "the timeline is in time order"


def test_backend_errors_and_5xx_overlap_the_outage(outage: Outage) -> None:
    down, up = outage.stop_live[0] / 1e9, outage.start_live[0] / 1e9
    rows = outage.postmortem.all_rows("timeline")
    backend = [r for r in rows if r["source"] == "logs" and r["service"] == "backend"]
    assert any(down - 1 <= _instant(r["time"]) <= up + 5 for r in backend), backend[:5]
    nginx = [r for r in rows if r["source"] == "nginx"]
    assert nginx and all(" 5xx" in r["event"] for r in nginx)
    assert any(down - 60 <= _instant(r["time"]) <= up + 5 for r in nginx)
    pg_log = [r["event"] for r in rows if r["source"] == "postgres"]
    assert any(e.startswith("shutdown") for e in pg_log) and any(
        e.startswith("ready") for e in pg_log
    )


def test_impact_window_matches_what_clients_saw(outage: Outage) -> None:
    failures = outage.probe.failures()
    impact = outage.pm.impact
    assert impact.first and impact.last and failures
    assert abs(impact.first.timestamp() - failures[0]) <= 5.0
    assert abs(impact.last.timestamp() - failures[-1]) <= 5.0
    assert impact.failed >= len(failures) and len(impact.clients) >= 1
    assert outage.postmortem.metric("impact.failed_requests") == impact.failed


def test_ttd_and_ttr_come_from_the_incident_updates(outage: Outage) -> None:
    record = outage.pm.record
    assert record is not None and record["status"] == "Resolved"
    assert [u["status"] for u in record["updates"]] == ["Investigating", "Monitoring", "Resolved"]
    start = outage.pm.impact.first
    assert start is not None
    metrics = outage.postmortem.side["metrics"]
    detected, resolved = _instant(record["detected"]), _instant(record["resolved"])
    assert metrics["incident.ttd_s"] == pytest.approx(detected - start.timestamp(), abs=0.01)
    assert metrics["incident.ttr_s"] == pytest.approx(resolved - start.timestamp(), abs=0.01)
    assert metrics["incident.tta_s"] == pytest.approx(0.0, abs=0.01)  # opened with a commander
    mitigated = _instant(record["updates"][1]["at"])
    assert metrics["incident.ttm_s"] == pytest.approx(mitigated - start.timestamp(), abs=0.01)


def test_opening_run_fills_the_template_and_finds_the_outage(outage: Outage) -> None:
    opened = outage.opened
    text = "\n".join(r["line"] for r in opened.result("communication")["rows"])
    for label in (
        "INCIDENT NOTIFICATION",
        "Severity: P",
        "Status: Investigating",
        "Start Time: 20",
        "Impact: ",
        "Incident Commander: test-oncall",
    ):
        assert label in text
    record = outage.pm.record
    assert record is not None and record["severity"] in ("P0", "P1")
    assert record["severity_from"] == "sweep"
    assert "postgres" in record["affected"]["services"]
    assert record["affected"]["users"]["errors_5xx"] > 0
    assert any(f["priority"] == "P0" for f in opened.side["findings"])
    clock = opened.result("phase_clock")["rows"]
    assert [r["phase"] for r in clock][:2] == ["Detection", "Triage"] and clock[1][
        "state"
    ] == "current"


def test_an_update_shows_an_emergency_procedure_as_a_dry_run(outage: Outage) -> None:
    plan = outage.monitoring.result("complete_outage")
    (entry,) = [a for a in outage.monitoring.side["actions"] if a["action"] == "complete_outage"]
    assert entry["dry_run"] is True and any(" up -d" in r["step"] for r in plan["rows"])


def test_every_update_is_a_ledger_entry(outage: Outage) -> None:
    from netzops.paths import outputs_dir

    lines = [json.loads(x) for x in (outputs_dir() / "ledger.jsonl").read_text().splitlines()]
    record = outage.pm.record
    assert record is not None
    updates = [
        a
        for line in lines
        for a in line.get("actions") or []
        if a.get("action") == "incident_update" and a.get("subject") == record["id"]
    ]
    assert [u["outcome"].split(":")[0] for u in updates] == [
        "Investigating",
        "Monitoring",
        "Resolved",
    ]


def test_markdown_and_html_exist_and_hold_no_secret(outage: Outage, sandbox: Target) -> None:
    assert outage.pm.markdown is not None
    markdown = outage.pm.markdown.read_text()
    for heading in ("## Timeline", "## Root cause", "## Improvements", "## Action items"):
        assert heading in markdown
    assert "postgres" in markdown and "die" in markdown
    html = outage.postmortem.html.read_text()
    assert "<img" in html or "image/png" in html, "the swimlane plot is in the HTML"
    secrets = [s for s in sandbox.resolve_secrets() if len(s) >= 4]
    assert secrets
    for text in (
        markdown,
        html,
        outage.opened.html.read_text(),
        Path(str(outage.pm.markdown).replace(".postmortem.md", ".json")).read_text(),
    ):
        assert not any(s in text for s in secrets)


def test_the_journal_recorded_the_outage(outage: Outage) -> None:
    lines = list(jr.read(outage.journal))
    nanos = [int(x["time_nano"]) for x in lines]
    assert nanos == sorted(nanos)
    got = {(int(x["time_nano"]), x["action"]) for x in lines if x.get("container") == POSTGRES}
    assert (outage.stop_live[0], "die") in got and (outage.start_live[0], "start") in got


def test_root_cause_candidates_begin_with_the_postgres_stop(outage: Outage) -> None:
    rows = outage.pm.candidates().rows
    into = [r for r in rows if r["into_impact"] == "yes"]
    assert rows[: len(into)] == into, "the failures that ran into the impact come first"
    (pg,) = [r for r in into if r["service"] == "postgres"]
    # postgres's first failure is `docker stop`'s kill (journal) or its shutdown (server log)
    assert abs(_instant(pg["time"]) - outage.kill_live / 1e9) <= 1.0, pg
    assert pg["event"].startswith(("kill", "die", "shutdown")), pg
    assert "backend: " in pg["preceded"] and "user-facing errors from" in pg["preceded"]
    times = [_instant(r["time"]) for r in into]
    assert times == sorted(times)
    assert outage.pm.impact.first and times[-1] <= outage.pm.impact.first.timestamp() + 2


def test_swimlane_data_shows_the_outage_on_one_time_axis(outage: Outage, sandbox: Target) -> None:
    pm = outage.pm
    data = pm.swimlane_data()
    assert list(data.lanes) == sandbox.services
    failed = {e.service for e in pm.entries if e.source == "journal" and e.kind == "down"}
    assert "postgres" in failed and all(data.lanes[s] for s in failed & set(data.lanes))
    down = [p for p in data.lanes["postgres"] if p[2] == "down"]
    since, until, _ = min(down, key=lambda p: abs(p[0].timestamp() - outage.kill_live / 1e9))
    assert abs(since.timestamp() - outage.kill_live / 1e9) <= 1.0
    assert abs(until.timestamp() - outage.start_live[0] / 1e9) <= 1.0
    periods = [p for lane in data.lanes.values() for p in lane]
    assert all(data.start <= a <= b <= data.end for a, b, _ in periods)
    assert data.minutes and all(data.start <= m <= data.end for m, _, _ in data.minutes)
    down_s = outage.kill_live / 1e9
    assert any(rate > 0 and m.timestamp() <= down_s + 60 for m, rate, _ in data.minutes)
    assert data.impact == (pm.impact.first, pm.impact.last)
    axes = pm.plot().figure.axes  # lanes, 5xx %, p95 (twin): one x axis over the window
    assert len(axes) == 3
    for ax in axes:
        days = (data.start.timestamp() / 86400, data.end.timestamp() / 86400)  # mpl date numbers
        assert ax.get_xlim() == pytest.approx(days, abs=1e-9)


def test_postmortem_of_a_window_without_incident_names_missing_sources(
    sandbox: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # no recorder known here
    monkeypatch.setenv("NETZOPS_OUTPUTS", str(tmp_path / "outputs"))  # no journal, no ledger
    ghost = sandbox.model_copy(update={"services": [*sandbox.services, "ghost"]})
    now = datetime.now(UTC).timestamp()
    pm = incidents.build_postmortem(containers.connect(sandbox), ghost, "", now - 120, now)
    outputs = (tmp_path / "outputs").resolve()
    journal, ledger = outputs / "events" / "sandbox.jsonl", outputs / "ledger.jsonl"
    assert pm.missing == [
        f"event journal ({journal} does not exist: start `netzops events start`)",
        f"ledger ({ledger} does not exist)",
        "logs of ghost (no container)",
    ]
    assert pm.timeline().notes == [f"missing source: {m}" for m in pm.missing]
    assert pm.record is None and pm.markdown and pm.markdown.exists()
    markdown = pm.markdown.read_text()
    assert all(f"- Missing source: {m}" in markdown for m in pm.missing)
    assert all(r["measure"] and r["value"] == "—" for r in pm.times().rows)


def test_postmortem_names_a_cut_journal_segment_and_lines_that_are_no_entry(
    sandbox: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """logrotate's compression cut short and a cut JSON line in the live journal: the
    post-mortem is built from the rest and names both, as missing sources."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("NETZOPS_OUTPUTS", str(tmp_path / "outputs"))
    journal = (tmp_path / "outputs" / "events" / "sandbox.jsonl").resolve()
    journal.parent.mkdir(parents=True)
    now = time.time_ns()
    die, start = now - 90 * 10**9, now - 60 * 10**9
    event = {"service": "postgres", "container": "netzwaechter-postgres", "id": "ab" * 6}
    lines = [
        json.dumps(jr._line(die, "event", action="die", exit_code=137, **event)) + "\n",
        json.dumps(jr._line(start, "event", action="start", exit_code=None, **event)) + "\n",
    ]
    journal.write_text(lines[1] + lines[1][:70] + "\n")
    packed = gzip.compress(lines[0].encode() * 4000)
    cut = journal.with_name("sandbox.jsonl.1.gz")
    cut.write_bytes(packed[: len(packed) // 2])
    pm = incidents.build_postmortem(
        containers.connect(sandbox), sandbox, "", now / 1e9 - 120, now / 1e9
    )
    assert [m for m in pm.missing if "journal" in m] == [
        f"event journal segment {cut}: EOFError: Compressed file ended before the "
        "end-of-stream marker was reached; read up to there",
        "event journal: 1 line(s) in the window are no entry, left out",
    ]
    events = [e.event for e in pm.entries if e.source == "journal"]
    assert events[-1] == "start netzwaechter-postgres"
    assert events[:-1] and set(events[:-1]) == {"die (exit 137) netzwaechter-postgres"}

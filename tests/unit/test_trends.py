"""Trends from a written history (ledger + side-cars in a temporary outputs folder), the
Prometheus textfile parsed by the official client, and schedules checked by systemd."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from netzops import units
from netzops.errors import BadInput
from netzops.findings import Finding, Priority, thresholds
from netzops.runner import ledger, schedules, summary, textfile, trends
from netzops.targets import load_target

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
BANDS = thresholds()


def _write_run(root: Path, run_id: str, started: datetime, metrics: dict[str, float]) -> Path:
    folder = root / "sandbox" / started.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    side = folder / f"{started.strftime('%H%M%S')}-monitoring.json"
    side.write_text(
        json.dumps(
            {
                "run_id": run_id,
                "notebook": "monitoring",
                "started": started.isoformat(),
                "duration_s": 12.5,
                "status": "completed",
                "metrics": metrics,
                "findings": [],
                "worst": None,
            }
        )
    )
    ledger.append(
        root / "ledger.jsonl",
        {
            "run_id": run_id,
            "notebook": "monitoring",
            "target": "sandbox",
            "started": started.isoformat(),
            "status": "completed",
            "worst": None,
            "files": {str(side.relative_to(root)): ledger.file_hash(side)},
        },
    )
    return side


def test_no_history_is_said_plainly(tmp_path: Path) -> None:
    frame = trends.history("sandbox", tmp_path, now=NOW)
    assert frame.empty and list(frame.columns) == trends.COLUMNS
    metrics = {"host.disk./.percent": 23.1, "logs.backend.error_rate_percent": 0.5}
    found, notes = trends.findings(frame, metrics, BANDS, NOW)
    assert found == []
    assert "disk /: only this run — too little history" in notes[0]
    heads = trends.headline(metrics, BANDS, ["backend"], frame, NOW)
    disk = next(h for h in heads if h.figure.key == "disk")
    assert disk.text == "23.1 %" and disk.trend.note == "no history yet"
    assert next(h for h in heads if h.figure.key == "api_p95").text == "not measured"


def test_change_vs_previous_and_median(tmp_path: Path) -> None:
    for day, percent in enumerate((20.0, 21.0, 22.0)):
        _write_run(
            tmp_path, f"r{day}", NOW - timedelta(days=3 - day), {"host.disk./.percent": percent}
        )
    _write_run(tmp_path, "old", NOW - timedelta(days=40), {"host.disk./.percent": 1.0})
    frame = trends.history("sandbox", tmp_path, now=NOW)
    assert sorted(frame["run_id"]) == ["r0", "r1", "r2"]  # 40 days ago is out of the window
    heads = trends.headline({"host.disk./.percent": 23.5}, BANDS, [], frame, NOW)
    disk = next(h for h in heads if h.figure.key == "disk")
    assert disk.trend.previous == 22.0 and disk.trend.median7 == 21.0
    assert disk.trend.change(23.5, disk.metric) == [
        f"+1.5 pp vs previous ({units.timestamp(NOW - timedelta(days=1))})",  # Nov 29 06:00
        "+2.5 pp vs 7-day median",
    ]


def test_disk_full_forecast_by_linear_fit(tmp_path: Path) -> None:
    # 2 percentage points a day: at 60 % the disk is full in 20 days → P2 (< 30 days)
    for day, percent in enumerate((54.0, 56.0, 58.0)):
        _write_run(
            tmp_path, f"r{day}", NOW - timedelta(days=3 - day), {"host.disk./.percent": percent}
        )
    frame = trends.history("sandbox", tmp_path, now=NOW)
    found, _ = trends.findings(frame, {"host.disk./.percent": 60.0}, BANDS, NOW)
    assert len(found) == 1
    disk = found[0]
    assert (disk.check, disk.subject, disk.priority) == ("host_disk_forecast", "/", Priority.P2)
    assert disk.value == pytest.approx(20.0)
    assert disk.summary.startswith("disk / full in 20 days")
    # 10 points a day from 80 %: 2 days → P1
    assert trends.disk_forecast(
        [(NOW - timedelta(days=1), 80.0), (NOW, 90.0)], 90.0
    ) == pytest.approx(1.0)
    assert trends.disk_forecast([(NOW - timedelta(days=1), 50.0), (NOW, 40.0)], 40.0) is None


def test_slow_queries_error_rate_and_certificate(tmp_path: Path) -> None:
    for day in range(3):
        _write_run(
            tmp_path,
            f"r{day}",
            NOW - timedelta(days=3 - day),
            {"postgres.statements.slowest_mean_ms": 100.0, "logs.backend.error_rate_percent": 0.5},
        )
    frame = trends.history("sandbox", tmp_path, now=NOW)
    metrics = {
        "postgres.statements.slowest_mean_ms": 250.0,
        "logs.backend.error_rate_percent": 3.0,
        "tls.frontend.days_left": 5.0,
    }
    found = {f.check: f for f in trends.findings(frame, metrics, BANDS, NOW)[0]}
    assert found["slow_queries_rising"].summary == (
        "slow query mean 250 ms is 2.5× its 7-day median 100 ms"
    )
    assert found["request_error_rate_rising"].summary == (
        "error rate rising: 3 % now, previous run 0.5 %, 7-day median 0.5 %"
    )
    assert found["tls"].priority is Priority.P1
    assert found["tls"].summary == "certificate expires in 5 days (on 2026-12-05)"
    # no finding when nothing got worse
    calm = {"postgres.statements.slowest_mean_ms": 110.0, "logs.backend.error_rate_percent": 0.4}
    assert trends.findings(frame, calm, BANDS, NOW)[0] == []


def test_summary_page_with_and_without_history(tmp_path: Path) -> None:
    target = load_target("sandbox")
    first = _write_run(tmp_path, "a1", NOW - timedelta(days=1), {"host.disk./.percent": 20.0})
    rec = summary.load_record("monitoring", "completed", None, first)
    page = summary.page(
        "daily report", "", target, NOW - timedelta(days=1), [rec], first.parent, tmp_path
    )
    assert "No history yet" in page
    second = _write_run(tmp_path, "a2", NOW, {"host.disk./.percent": 21.25})
    rec = summary.load_record("monitoring", "completed", None, second)
    page = summary.page("daily report", "", target, NOW, [rec], second.parent, tmp_path)
    assert "No history yet" not in page and "Compared with 1 earlier runs" in page
    assert "+1.2 pp vs previous" in page and "<polyline" in page


def test_finding_text_and_value_in_units() -> None:
    f = Finding("request_error_rate", "backend", Priority.P1, "error rate % 14.62 > 5", 14.62, 5.0)
    assert summary.finding_text(f) == "error rate 14.6 % > 5 %"
    assert summary.value_text(f) == "14.6 % (limit 5 %)"
    slow = Finding("slow_queries", "backend", Priority.P3, "9 slow queries, slowest 369 ms", 9)
    assert summary.value_text(slow) == "9"


def test_prometheus_textfile_parses(tmp_path: Path) -> None:
    path = tmp_path / "netzops.prom"
    metrics = {
        "containers.backend.memory_bytes": 21860352,
        "containers.backend.cpu_percent": 4.5,
        "http.api.p95_ms": 36.1,
        "host.disk./var/lib/docker.percent": 23.1,
        "logs.backend.5m.error_rate_percent": 2.0,
        "logs.backend.error_rate_percent": 14.6,
        "tls.frontend.days_left": 90.0,
        "redis.used_memory_bytes": 1628272.0,
        "docker.images.size_bytes": 48,
        "sweep.tls.seconds": 0.36,
    }
    findings = [Finding("host_disk", "/", Priority.P1, "disk use % 23.1 > 2", 23.1, 2.0)]
    textfile.write(path, metrics, findings, "sandbox", "daily", NOW)
    families = {f.name: f for f in text_string_to_metric_families(path.read_text())}
    values = {
        (
            s.name,
            tuple(sorted((k, v) for k, v in s.labels.items() if k not in ("target", "report"))),
        ): s.value
        for f in families.values()
        for s in f.samples
    }
    assert values[("netzops_containers_memory_bytes", (("service", "backend"),))] == 21860352
    assert values[("netzops_containers_cpu_ratio", (("service", "backend"),))] == pytest.approx(
        0.045
    )
    assert values[("netzops_http_p95_seconds", (("endpoint", "api"),))] == pytest.approx(0.0361)
    assert values[
        ("netzops_host_disk_used_ratio", (("mount", "/var/lib/docker"),))
    ] == pytest.approx(0.231)
    assert (
        values[("netzops_logs_error_rate_ratio", (("service", "backend"), ("window", "5m")))]
        == 0.02
    )
    assert values[
        ("netzops_logs_error_rate_ratio", (("service", "backend"), ("window", "run")))
    ] == pytest.approx(0.146)
    assert values[("netzops_tls_remaining_seconds", (("endpoint", "frontend"),))] == 90 * 86400
    assert values[("netzops_docker_size_bytes", (("kind", "images"),))] == 48
    assert values[("netzops_sweep_seconds", (("check", "tls"),))] == pytest.approx(0.36)
    assert values[("netzops_report_findings", (("priority", "P1"),))] == 1
    assert values[("netzops_report_last_run_timestamp_seconds", ())] == NOW.timestamp()
    for family in families.values():  # Prometheus names: lower snake case, base units
        assert family.type == "gauge" and not family.name.endswith(("_percent", "_ms"))
    sample = next(iter(families["netzops_containers_memory_bytes"].samples))
    assert sample.labels["target"] == "sandbox" and sample.labels["report"] == "daily"


SCHEDULES = """
schedules:
  nightly:
    report: daily
    target: sandbox
    at: "02:15"
    email: {to: [ops@example.org], from: netzops@example.org, smtp: {host: localhost}}
  weekly:
    report: weekly
    target: sandbox
    every: week
    weekday: Sun
    at: "07:30"
  hourly:
    report: daily
    target: sandbox
    every: hour
    at: ":05"
"""


def test_schedules_units_accepted_by_systemd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text(SCHEDULES)
    monkeypatch.setenv(schedules.ENV, str(path))
    found = schedules.load_all()
    assert (
        found["nightly"].on_calendar == "*-*-* 02:15:00" and found["nightly"].cron == "15 2 * * *"
    )
    assert (
        found["weekly"].on_calendar == "Sun *-*-* 07:30:00" and found["weekly"].cron == "30 7 * * 7"
    )
    assert found["hourly"].on_calendar == "*-*-* *:05:00" and found["hourly"].cron == "5 * * * *"
    for s in found.values():
        units = schedules.write_units(s, tmp_path / "units", "/etc/netzops/secrets.env")
        assert schedules.verify(units) == "", s.name
        said = subprocess.run(
            ["systemd-analyze", "calendar", s.on_calendar],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "Next elapse" in said
    service = (tmp_path / "units" / "netzops-report-nightly.service").read_text()
    assert " report daily --target sandbox --notify nightly" in service
    line = schedules.cron_line(found["nightly"])
    assert line.startswith("15 2 * * * root cd ") and "--notify nightly" in line
    assert shutil.which("systemd-analyze")


def test_bad_schedules_refused_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "schedules.yaml"
    monkeypatch.setenv(schedules.ENV, str(path))
    path.write_text("schedules:\n  x:\n    report: daily\n    target: sandbox\n    at: 7:30\n")
    with pytest.raises(
        BadInput, match=re.escape('write the time in quotes, e.g. at: "07:30" (YAML read 450)')
    ):
        schedules.load_all()
    path.write_text("schedules:\n  x:\n    report: daily\n    target: sandbox\n    notify_at: P7\n")
    with pytest.raises(BadInput, match="unknown priority 'P7'"):
        schedules.load_all()
    path.write_text(SCHEDULES)
    with pytest.raises(BadInput, match="no schedule 'nope'"):
        schedules.load("nope")


def test_runs_as_html_page(tmp_path: Path) -> None:
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)  # the page's "now"
    _write_run(tmp_path, "r1", started, {"host.disk./.percent": 20.0})
    out = tmp_path / "pages" / "runs.html"
    out.parent.mkdir()
    done = subprocess.run(
        [
            str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "netzops"),
            "runs",
            "--html",
            str(out),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "NETZOPS_OUTPUTS": str(tmp_path)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    assert "<td>monitoring</td>" in page or ">monitoring<" in page
    assert "<code>r1</code>" in page and "hours ago" in page
    assert started.isoformat() in page  # the full time in the tooltip


def _netzops(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "netzops"
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, env={**os.environ, **env}, check=False
    )


def test_schedule_cli_install_list_remove(tmp_path: Path) -> None:
    (tmp_path / "schedules.yaml").write_text(SCHEDULES)
    env = {schedules.ENV: str(tmp_path / "schedules.yaml")}
    units = tmp_path / "units"
    done = _netzops("schedule", "install", "--all", "--unit-dir", str(units), env=env)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in units.iterdir()) == [
        f"netzops-report-{n}.{kind}"
        for n in ("hourly", "nightly", "weekly")
        for kind in ("service", "timer")
    ]
    listed = _netzops("schedule", "list", "--json", "--unit-dir", str(units), env=env)
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {r["name"]: r["installed"] for r in rows} == {
        "nightly": True,
        "weekly": True,
        "hourly": True,
    }
    assert next(r for r in rows if r["name"] == "nightly")["tells"] == ["email"]
    cron = _netzops(
        "schedule", "install", "nightly", "--cron", "--cron-dir", str(tmp_path), env=env
    )
    assert (
        cron.returncode == 0
        and (tmp_path / "netzops-nightly").read_text().count("\n15 2 * * * root ") == 1
    )
    gone = _netzops(
        "schedule",
        "remove",
        "--all",
        "--unit-dir",
        str(units),
        "--cron-dir",
        str(tmp_path),
        env=env,
    )
    assert gone.returncode == 0 and not list(units.iterdir())
    assert not (tmp_path / "netzops-nightly").exists()


def test_report_with_unknown_schedule_refused_before_running(tmp_path: Path) -> None:
    (tmp_path / "schedules.yaml").write_text(SCHEDULES)
    env = {schedules.ENV: str(tmp_path / "schedules.yaml"), "NETZOPS_OUTPUTS": str(tmp_path / "o")}
    done = _netzops("report", "daily", "--notify", "nope", env=env)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("netzops: no schedule 'nope'")
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_record_banner_puts_worst_finding_first() -> None:
    page = '<html><head></head><body class="jp-Notebook"><h1>Monitoring</h1></body></html>'
    findings = [
        Finding("log_errors", "backend", Priority.P3, "314 ERROR lines in the last hour", 314),
        Finding("request_error_rate", "backend", Priority.P1, "error rate % 14.62 > 5", 14.62, 5),
    ]
    shown = summary.with_banner(page, findings)
    top = shown.split('<body class="jp-Notebook">', 1)[1]
    assert top.startswith('<div class="netzops-banner"')
    assert top.index(">P1<") < top.index(">P3<") < top.index("<h1>")
    assert "error rate 14.6 % &gt; 5 %" in top
    assert "No findings in this record" in summary.with_banner(page, [])


def test_odd_ledger_entries_are_no_history(tmp_path: Path) -> None:
    _write_run(tmp_path, "good", NOW - timedelta(hours=1), {"host.disk./.percent": 20.0})
    for odd in (
        {"run_id": "s1", "target": "sandbox", "status": "completed", "started": "yesterday"},
        {
            "run_id": "s2",
            "target": "sandbox",
            "status": "completed",
            "started": "2026-11-30T05:00:00",
        },
        {"run_id": "s3", "target": "sandbox", "status": "completed"},
        {"run_id": "s4", "target": "sandbox", "status": "in progress", "interactive": True},
    ):
        ledger.append(tmp_path / "ledger.jsonl", odd)
    frame = trends.history("sandbox", tmp_path, now=NOW)
    assert sorted(set(frame["run_id"])) == ["good"]


def test_failed_run_named_first(tmp_path: Path) -> None:
    side = _write_run(tmp_path, "f1", NOW, {"host.disk./.percent": 20.0})
    rec = summary.load_record("logs", "failed", None, side)
    page = summary.page(
        "daily report", "", load_target("sandbox"), NOW, [rec], side.parent, tmp_path
    )
    body = page.split("<body>", 1)[1]
    assert body.index("Run failed:") < body.index('id="findings"')


def test_a_fact_a_record_judged_is_not_listed_again_as_a_trend(tmp_path: Path) -> None:
    """The certificate trend is the live `tls` fact: listed once, with the record's verdict;
    a rising error rate is a fact of its own next to the live rate."""
    live = Finding("tls", "frontend", Priority.P1, "certificate days left 5 < 7", 5.0, 7.0)
    side = {"run_id": "m1", "findings": [live.to_dict()], "metrics": {}}
    rec = summary.RecordView("monitoring", "completed", "P1", tmp_path / "m.html", side)
    metrics = {"tls.frontend.days_left": 5.0, "logs.backend.error_rate_percent": 3.0}
    _write_run(tmp_path, "r0", NOW - timedelta(days=1), {"logs.backend.error_rate_percent": 0.5})
    frame = trends.history("sandbox", tmp_path, now=NOW)
    more, _ = trends.findings(frame, metrics, BANDS, NOW)
    assert {(f.check, f.priority) for f in more} == {
        ("tls", Priority.P1),
        ("request_error_rate_rising", Priority.P2),
    }
    listed = summary.items([rec], tmp_path, more)
    assert [(i.finding.check, i.record) for i in listed] == [
        ("tls", "monitoring"),
        ("request_error_rate_rising", "trends"),
    ]

"""The daily report as people get it (issue 14), against the real sandbox:

- two `netzops report daily` runs with the disk filled in between (a real file on the
  root file system): the first summary says there is no history yet, the second shows the
  disk's change against the previous run (compared with `df`) and a trend plot;
- the second run is a scheduled one (`--notify`): a real SMTP server (aiosmtpd, STARTTLS
  and AUTH) receives a mail that parses, names the P1 finding and holds no secret, and a
  local HTTP receiver gets the Slack/Mattermost-style webhook;
- `--prometheus` writes a file the official client's parser reads;
- headless Chromium (Playwright driving Debian's /usr/bin/chromium) renders the summary
  page and the monitoring and alerts records: the worst finding is in the first screen,
  units are human, no Python reprs; the screenshots go to docs/screenshots/;
- in the rendered summary, every findings row names the response procedure the triage code
  gives its finding and links the record's cell that shows it (the id is in the record's
  HTML), and every key figure shows its side-car's raw value in human units against the
  runbook's limit, agreeing with docker, df, openssl and redis-cli; in the records, "no
  findings" appears only above a result (and a banner) that has none.

Without another report run: `netzops report --notify` for records whose worst finding is
below, at or above the schedule's `notify_at` sends nothing below it and one mail (real
SMTP server) and one webhook post (local receiver) at or above it.

The test target is the sandbox with disk limits lowered to 1 %/2 % so the disk finding is
a certain P1 whatever else the sandbox shows.
"""

from __future__ import annotations

import email
import json
import os
import re
import secrets
import shutil
import socket
import ssl
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from playwright.sync_api import Page, ViewportSize, sync_playwright
from prometheus_client.parser import text_string_to_metric_families

from netzops import triage, units
from netzops.findings import Finding, Priority
from netzops.results import MIME_TYPE
from netzops.runner import reports, schedule_cli
from netzops.runner.execution import Exit, RunResult
from netzops.targets import load_target
from tests.conftest import ROOT, redis_cli, sh
from tests.notebooks.helpers import cli, printed_path

DOCS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
FIRST_SCREEN: ViewportSize = {"width": 1280, "height": 800}
SMTP_USER = "netzops"
REPR = re.compile(r"\['|\{'|\bNone\b|\bTrue\b|\bFalse\b|datetime\.")


# --- a real SMTP server with STARTTLS and AUTH, and a webhook receiver ---------------------


@dataclass
class Mailbox:
    messages: list[bytes] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.original_content or envelope.content)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[tuple[Mailbox, int, Path, str]]:
    cert, key = tmp_path / "smtp.crt", tmp_path / "smtp.key"
    sh(
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
        "-keyout", str(key), "-out", str(cert),
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    password = secrets.token_urlsafe(16)
    box = Mailbox()

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == SMTP_USER
            and data.password.decode() == password
        )
        if ok:
            box.logins.append(data.login.decode())
        return AuthResult(success=ok)

    port = _free_port()
    controller = Controller(
        box,
        hostname="localhost",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield box, port, cert, password
    finally:
        controller.stop()


@dataclass
class Hooks:
    posts: list[tuple[str, bytes]] = field(default_factory=list)


@pytest.fixture
def webhook() -> Iterator[tuple[Hooks, str]]:
    hooks = Hooks()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            hooks.posts.append((self.path, body))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    token = secrets.token_hex(16)
    try:
        yield hooks, f"http://127.0.0.1:{server.server_address[1]}/hooks/{token}"
    finally:
        server.shutdown()
        server.server_close()


def _schedules(port: int, cert: Path, notify_at: str) -> dict[str, Any]:
    """schedules.yaml with `test-daily`: mail to the local SMTP server and the webhook,
    secrets by reference to the environment."""
    return {
        "schedules": {
            "test-daily": {
                "report": "daily",
                "target": "sandbox",
                "notify_at": notify_at,
                "email": {
                    "to": ["oncall@example.org"],
                    "from": "netzops@example.org",
                    "smtp": {
                        "host": "localhost",
                        "port": port,
                        "starttls": True,
                        "user": SMTP_USER,
                        "password": {"env": "NETZOPS_TEST_SMTP_PASSWORD"},
                        "cafile": str(cert),
                    },
                },
                "webhook": {"url": {"env": "NETZOPS_TEST_WEBHOOK_URL"}},
            }
        }
    }


@pytest.fixture
def setup(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    smtp: tuple[Mailbox, int, Path, str],
    webhook: tuple[Hooks, str],
) -> dict[str, Any]:
    """Own outputs (no other run's history), a sandbox target with disk limits 1 %/2 % and a
    schedule telling the local SMTP server and webhook receiver; secrets in the env only."""
    box, port, cert, password = smtp
    hooks, url = webhook
    outputs, targets = tmp_path / "outputs", tmp_path / "targets"
    targets.mkdir()
    data = yaml.safe_load((ROOT / "parameters" / "targets" / "sandbox.yaml").read_text())
    data["thresholds"] = {"disk_percent": {"warn": 1, "critical": 2}}
    (targets / "sandbox.yaml").write_text(yaml.safe_dump(data))
    (tmp_path / "schedules.yaml").write_text(yaml.safe_dump(_schedules(port, cert, "P1")))
    monkeypatch.setenv("NETZOPS_OUTPUTS", str(outputs))
    monkeypatch.setenv("NETZOPS_TARGETS", str(targets))
    monkeypatch.setenv("NETZOPS_SCHEDULES", str(tmp_path / "schedules.yaml"))
    monkeypatch.setenv("NETZOPS_TEST_SMTP_PASSWORD", password)
    monkeypatch.setenv("NETZOPS_TEST_WEBHOOK_URL", url)
    stack_secrets = load_target("sandbox").resolve_secrets()
    return {
        "box": box,
        "hooks": hooks,
        "url": url,
        "secrets": [password, url, url.rsplit("/", 1)[1], *stack_secrets],
        "prom": tmp_path / "netzops.prom",
    }


# --- helpers --------------------------------------------------------------------------------


def _record(summary: Path, notebook: str) -> Path:
    """The HTML record of `notebook` that the summary page links to."""
    links = re.findall(r'href="([^"#]+-' + notebook + r'(?:-\d+)?\.html)"', summary.read_text())
    assert links, f"the summary links no {notebook} record"
    return (summary.parent / str(links[0])).resolve()


def _disk_percent(summary: Path) -> float:
    """The disk figure of a report as its side-cars hold it (the alerts sweep, last, wins)."""
    metrics = json.loads(_record(summary, "alerts").with_suffix(".json").read_text())["metrics"]
    disks = [v for k, v in metrics.items() if re.fullmatch(r"host\.disk\..+\.percent", k)]
    assert disks, "no host.disk metric in the alerts record"
    return float(max(disks))


def _df_percent() -> int:
    """`df`'s Use% of / (rounded up, as df does)."""
    return int(sh("df", "--output=pcent", "/").splitlines()[1].strip().rstrip("%"))


def _fill(path: Path, size: int) -> None:
    with path.open("wb") as fh:
        os.posix_fallocate(fh.fileno(), 0, size)


def _first_screen(page: Page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["y"] + box["height"] <= FIRST_SCREEN["height"]


def _reprs(text: str) -> list[str]:
    return REPR.findall(text)


# --- the test -------------------------------------------------------------------------------


def test_two_scheduled_reports_trend_mail_webhook_prometheus_screenshots(
    setup: dict[str, Any],
) -> None:
    first = cli("report", "daily", "--target", "sandbox")
    assert first.returncode == 1, first.stderr[-2000:]  # P1 findings (disk > 2 %)
    page1 = printed_path(first.stdout, "summary")
    assert "No history yet" in page1.read_text()

    filler = Path("/var/tmp") / f"netzops-test-disk-{uuid.uuid4().hex}"
    try:
        _fill(filler, 4 * 1024**3)  # 4 GiB on / (about 1.6 points of 252 GiB)
        second = cli(
            "report", "daily", "--target", "sandbox",
            "--notify", "test-daily", "--prometheus", str(setup["prom"]),
        )  # fmt: skip
        df_during = _df_percent()
    finally:
        filler.unlink(missing_ok=True)
    assert second.returncode == 1 and "summary:" in second.stdout, second.stderr[-2000:]
    page2 = printed_path(second.stdout, "summary")
    assert "notify: email to oncall@example.org" in second.stdout
    assert "notify: webhook HTTP 200" in second.stdout
    before, after = _disk_percent(page1), _disk_percent(page2)
    assert after - before >= 1.0, (before, after)
    assert abs(after - df_during) <= 1.5  # df rounds Use% up

    text2 = page2.read_text()
    assert "No history yet" not in text2 and "Compared with 4 earlier runs" in text2
    _check_mail(setup, after)
    _check_webhook(setup)
    _check_prometheus(setup["prom"], after)
    _check_pages(page2, after - before, df_during)


def _check_mail(setup: dict[str, Any], disk: float) -> None:
    box: Mailbox = setup["box"]
    assert box.logins == [SMTP_USER] and len(box.messages) == 1
    raw = box.messages[0]
    for secret in setup["secrets"]:
        assert secret.encode() not in raw, "a secret reached the mail"
    mail = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(mail, EmailMessage)
    assert mail["Subject"].startswith("[netzops] P1 daily report on sandbox: ")
    body = mail.get_body(preferencelist=("html",))
    assert body is not None
    html = body.get_content()
    assert "disk use" in html and f"{disk:g} %" in html  # the P1 finding, in human units
    plain = mail.get_body(preferencelist=("plain",))
    assert plain is not None and "P1 /: disk use" in plain.get_content()
    names = sorted(re.sub(r"^\d{6}-", "", str(p.get_filename())) for p in mail.iter_attachments())
    assert names == [
        "alerts.html",
        "logs.html",
        "monitoring.html",
        "service-status.html",
    ]


def _check_webhook(setup: dict[str, Any]) -> None:
    hooks: Hooks = setup["hooks"]
    assert len(hooks.posts) == 1
    path, body = hooks.posts[0]
    assert setup["url"].endswith(path)
    for secret in setup["secrets"]:
        assert secret.encode() not in body, "a secret reached the webhook body"
    payload = json.loads(body)
    assert payload["text"].startswith("*[netzops] P1 daily report on sandbox")
    assert "• P1 /: disk use" in payload["text"]


def _check_prometheus(path: Path, disk: float) -> None:
    families = {f.name: f for f in text_string_to_metric_families(path.read_text())}
    ratio = {s.labels["mount"]: s.value for s in families["netzops_host_disk_used_ratio"].samples}
    assert ratio["/"] == pytest.approx(disk / 100)
    findings = {s.labels["priority"]: s.value for s in families["netzops_report_findings"].samples}
    assert findings["P1"] >= 1


def _check_pages(summary: Path, change: float, df_percent: int) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    monitoring, alerts = _record(summary, "monitoring"), _record(summary, "alerts")
    assert shutil.which(CHROMIUM) or Path(CHROMIUM).exists()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport=FIRST_SCREEN)
            page.goto(summary.as_uri())
            page.screenshot(path=str(DOCS / "report-summary.png"))
            _check_summary(page, change)
            _check_findings_table(page, summary)
            _check_key_figures(page, summary, df_percent)
            page.locator(".strip").screenshot(path=str(DOCS / "report-key-figures.png"))
            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone.goto(summary.as_uri())
            phone.screenshot(path=str(DOCS / "report-summary-phone.png"))
            assert _first_screen(phone, ".verdict")
            for record, name in ((monitoring, "monitoring"), (alerts, "alerts")):
                page.goto(record.as_uri())
                page.screenshot(path=str(DOCS / f"record-{name}.png"))
                worst = json.loads(record.with_suffix(".json").read_text())["worst"]
                _check_record(page, name, worst)
                _check_no_findings_lines(page, name, record)
        finally:
            browser.close()


def _check_summary(page: Page, change: float) -> None:
    verdict = page.locator(".verdict").first.inner_text()
    assert verdict.startswith("P1 · "), verdict
    assert _first_screen(page, ".verdict")
    first_row = page.locator("table.findings tbody tr").first
    assert first_row.locator(".badge").inner_text() == "P1"
    disk = page.locator('.card[data-figure="disk"]')
    value = disk.locator(".value").inner_text()
    assert re.fullmatch(r"\d+(\.\d)? %", value), value
    changed = disk.locator(".change").inner_text()
    shown = re.search(r"\+([\d.]+) pp vs previous", changed)
    assert shown and abs(float(shown.group(1)) - change) <= 0.051, (changed, change)
    assert disk.locator("svg polyline").count() == 1  # the trend plot
    memory = page.locator('.card[data-figure="redis_memory"] .value').inner_text()
    assert re.fullmatch(r"[\d.]+ (B|KiB|MiB|GiB)", memory), memory
    text = page.locator("body").inner_text()
    assert not _reprs(text), _reprs(text)


def _check_record(page: Page, name: str, worst: str) -> None:
    assert _first_screen(page, ".netzops-banner"), f"{name}: findings not in the first screen"
    assert page.locator(".netzops-banner .badge").first.inner_text() == worst
    text = page.locator("body").inner_text()
    assert not _reprs(text), (name, _reprs(text)[:5])
    cells = page.evaluate(
        """() => [...document.querySelectorAll('table.netzops-table td')].map(td => ({
            text: td.innerText.trim(), align: getComputedStyle(td).textAlign}))"""
    )
    assert cells, f"{name}: no result tables"
    raw = [c["text"] for c in cells if re.fullmatch(r"\d{7,}", c["text"])]
    assert not raw, f"{name}: raw numbers {raw[:5]}"
    for cell in cells:
        if re.fullmatch(r"-?[\d,.]+ (B|KiB|MiB|GiB|TiB|ms|s|%|days?)", cell["text"]):
            assert cell["align"] == "right", cell
        elif re.fullmatch(r"[A-Za-z][\w .-]*[A-Za-z]", cell["text"]):
            assert cell["align"] == "left", cell
    heads = page.evaluate(
        "() => [...document.querySelectorAll('table.netzops-table th')].map(t => t.innerText)"
    )
    assert not [h for h in heads if h.endswith(("_bytes", "_ms", "_percent"))]
    if name == "monitoring":
        assert re.search(r"\b\d+(\.\d)? (MiB|GiB)\b", text), "no IEC sizes"


# --- the findings table, the key figures and "no findings", against the records ------------


FINDING_ROWS = """() => [...document.querySelectorAll('table.findings tbody tr')].map(tr => {
    const td = tr.querySelectorAll(':scope > td');
    const details = td[4].querySelector('details');
    const link = td[5].querySelector('a');
    return {check: tr.dataset.check, priority: td[0].innerText.trim(),
        subject: td[1].innerText.trim(), within: td[4].childNodes[0].textContent.trim(),
        procedure: details ? details.querySelector('summary').textContent.trim() : null,
        steps: details ? [...details.querySelectorAll('li')].map(li => li.textContent) : [],
        record: link.textContent.trim(), href: link.getAttribute('href')};
})"""


def _check_findings_table(page: Page, summary: Path) -> None:
    """Each findings row: the response procedure is the one the triage code gives its finding
    (`triage.responses`: the runbook's procedure name and steps, respond within), and its
    link opens the record's cell that shows the finding (the id is in the record's HTML, the
    cell's result in the record's notebook lists the finding, its side-car holds it)."""
    rows = page.evaluate(FINDING_ROWS)
    assert rows and all(row["check"] for row in rows), rows[:3]
    linked = 0
    for row in rows:
        finding = Finding(row["check"], row["subject"], Priority[row["priority"]], "")
        expected = triage.responses([finding]).rows[0]
        assert row["within"] == expected["respond_within"], row
        assert (row["procedure"] or "—") == expected["procedure"], row
        assert row["steps"] == expected["steps"], row
        if row["record"] == "trends":  # a trend finding: the page's own trends section
            assert row["href"] == "#trends" and page.locator("h2#trends").count() == 1, row
            continue
        file, _, anchor = row["href"].partition("#")
        assert anchor.startswith("cell-id="), f"no link to the cell: {row}"
        record = (summary.parent / file).resolve()
        assert record.name.endswith(f"-{row['record']}.html") or re.search(
            rf"-{re.escape(row['record'])}-\d+\.html$", record.name
        ), row
        assert f'id="{anchor}"' in record.read_text(), f"{record.name} has no {anchor}"
        side = json.loads(record.with_suffix(".json").read_text())
        key = (row["check"], row["subject"], row["priority"])
        assert key in {(f["check"], f["subject"], f["priority"]) for f in side["findings"]}, row
        notebook = json.loads(record.with_suffix(".ipynb").read_text())
        cell = next(c for c in notebook["cells"] if f"cell-id={c.get('id')}" == anchor)
        shown = {
            (f["check"], f["subject"])
            for o in cell.get("outputs", [])
            for f in o.get("data", {}).get(MIME_TYPE, {}).get("findings", [])
        }
        assert key[:2] in shown, f"{anchor} of {record.name} does not show {key}"
        linked += 1
    assert linked, "no finding links a record's cell"


CARDS = """() => Object.fromEntries([...document.querySelectorAll('.card[data-figure]')].map(
    c => [c.dataset.figure, {label: c.querySelector('.label').innerText.trim(),
        value: c.querySelector('.value').innerText.trim(),
        limit: (c.querySelector('.limit') || {innerText: ''}).innerText.trim(),
        status: [...c.classList].find(k => k !== 'card')}]))"""

SCALE = {"B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3, "ms": 1.0, "s": 1000.0}


def _raw(text: str) -> tuple[float, float]:
    """ "1.7 MiB" → (1782579.2, 52428.8): the number a person reads, in the side-car's unit
    (bytes, ms, %, days), and half its last shown digit (the rounding it may hide)."""
    match = re.fullmatch(r"(-?[\d,]+(?:\.(\d+))?) ?(B|KiB|MiB|GiB|ms|s|%|days?|)", text)
    assert match, f"not a number in human units: {text!r}"
    number, decimals, unit = match.groups()
    scale = SCALE.get(unit, 1.0)
    return float(number.replace(",", "")) * scale, 0.5 * 10 ** -len(decimals or "") * scale


def _shows(card: dict[str, str], raw: float, human: str) -> None:
    """The card shows `raw` in human units: the units module's text, which reads back as
    `raw` within its rounding."""
    assert card["value"] == human, (card, raw)
    shown, half = _raw(card["value"].removesuffix(" old"))
    assert abs(shown - raw) <= half * 1.001, (card, raw)


def _metrics_of_report(summary: Path) -> dict[str, float]:
    """The report's metrics as the page merges them: its records' side-cars in the report's
    order, a later record's value winning (the alerts sweep runs last)."""
    merged: dict[str, float] = {}
    for step in yaml.safe_load((ROOT / "parameters/reports/daily.yaml").read_text())["runs"]:
        side = json.loads(_record(summary, step["notebook"]).with_suffix(".json").read_text())
        merged.update(side["metrics"])
    return merged


def _redis_info(section: str) -> dict[str, str]:
    lines = redis_cli("INFO", section).splitlines()
    return dict(line.strip().split(":", 1) for line in lines if ":" in line)


def _openssl_days_left() -> float:
    pem = sh(
        "openssl", "s_client", "-connect", "127.0.0.1:8443", "-servername", "localhost", input=""
    )  # fmt: skip
    end = sh("openssl", "x509", "-noout", "-enddate", input=pem).strip().split("=", 1)[1]
    when = datetime.strptime(end, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=UTC)
    return (when - datetime.now(UTC)).total_seconds() / 86400


def _check_key_figures(page: Page, summary: Path, df_percent: int) -> None:
    """Every headline figure the issue lists shows the side-car's raw value in human units,
    against the runbook's limit (the test target's disk limit is 1 %), and agrees with what
    docker, df, openssl and redis-cli say."""
    cards: dict[str, dict[str, str]] = page.evaluate(CARDS)
    metrics = _metrics_of_report(summary)
    services = list(load_target("sandbox").services)
    assert list(cards) == [f"health.{s}" for s in services] + [
        "api_p95", "error_rate", "disk", "db_connections", "redis_hit_rate", "redis_memory",
        "tls_days_left", "backup_age",
    ]  # fmt: skip

    for service in services:  # docker's health of every container of the service
        healthy = metrics[f"containers.{service}.healthy"] >= 1
        assert cards[f"health.{service}"]["value"] == ("healthy" if healthy else "unhealthy")
        states = sh(
            "docker", "ps", "--filter", "label=com.docker.compose.project=netzwaechter",
            "--filter", f"label=com.docker.compose.service={service}", "--format", "{{.Status}}",
        ).splitlines()  # fmt: skip
        assert states and all("(healthy)" in s for s in states) == healthy, (service, states)

    p95 = metrics["http.api.p95_ms"]
    _shows(cards["api_p95"], p95, units.millis(p95))
    assert cards["api_p95"]["limit"] == "limit < 200 ms"
    assert cards["api_p95"]["status"] == ("ok" if p95 <= 200 else "warn" if p95 <= 1000 else "bad")

    rates = {
        k.split(".")[1]: v
        for k, v in metrics.items()
        if re.fullmatch(r"logs\.[^.]+\.error_rate_percent", k)
    }
    worst = max(rates.values())
    _shows(cards["error_rate"], worst, units.percent(worst))
    assert cards["error_rate"]["label"].split(" · ")[1] in {
        s for s, v in rates.items() if v == worst
    }
    assert cards["error_rate"]["limit"] == "limit < 1 %"
    assert cards["error_rate"]["status"] == (
        "ok" if worst <= 1 else "warn" if worst <= 5 else "bad"
    )

    disks = {
        k[len("host.disk.") : -len(".percent")]: v
        for k, v in metrics.items()
        if re.fullmatch(r"host\.disk\..+\.percent", k)
    }
    fullest = max(disks.values())
    _shows(cards["disk"], fullest, units.percent(fullest))
    assert cards["disk"]["label"].split(" · ")[1] in {m for m, v in disks.items() if v == fullest}
    assert abs(_raw(cards["disk"]["value"])[0] - df_percent) <= 1.5  # df rounds Use% up
    assert cards["disk"]["limit"] == "limit < 1 %" and cards["disk"]["status"] == "bad"

    connections = metrics["postgres.connections.total"]
    _shows(cards["db_connections"], connections, units.number(connections))
    assert cards["db_connections"]["limit"] == "limit 5–20"
    assert cards["db_connections"]["status"] == ("ok" if 5 <= connections <= 20 else "warn")

    # the hit rate leaves netzops's own lookups out (netzops.cache), so redis-cli's raw
    # keyspace counters are no yardstick for it; the side-car's value is
    hit = max(v for k, v in metrics.items() if re.fullmatch(r"redis\.hit_rate\w*_percent", k))
    _shows(cards["redis_hit_rate"], hit, units.percent(hit))
    assert cards["redis_hit_rate"]["limit"] == "limit ≥ 80 %"

    memory = metrics["redis.used_memory_bytes"]
    _shows(cards["redis_memory"], memory, units.size(memory))
    now_bytes = int(_redis_info("memory")["used_memory"])
    assert memory / 2 <= now_bytes <= memory * 2, (memory, now_bytes)  # same order, same unit

    days = min(v for k, v in metrics.items() if re.fullmatch(r"tls\..+\.days_left", k))
    _shows(cards["tls_days_left"], days, units.days(days))
    assert abs(days - _openssl_days_left()) <= 1, days
    assert cards["tls_days_left"]["limit"] == "limit ≥ 30 days"

    age = metrics.get("backup.rpo_seconds")  # this test's outputs hold no backup
    if age is None:
        assert (cards["backup_age"]["value"], cards["backup_age"]["status"]) == (
            "not measured",
            "none",
        )
    else:
        assert cards["backup_age"]["value"] == units.duration(age) + " old"


def _check_no_findings_lines(page: Page, name: str, record: Path) -> None:
    """ "no findings" only where there are none: the record's banner says it only when its
    side-car holds no finding, and a result's output block (matched to the record's notebook
    by cell id and output order) only when that result lists no finding and none of its rows
    carries a priority or a count of findings (a sweep's summary, causes, responses)."""
    side = json.loads(record.with_suffix(".json").read_text())
    banner = page.locator(".netzops-banner").first.inner_text()
    assert ("no findings" in banner.lower()) == (not side["findings"]), (name, banner[:300])
    notebook = json.loads(record.with_suffix(".ipynb").read_text())
    checked = 0
    for cell in notebook["cells"]:
        outputs = cell.get("outputs") or []
        if not any(MIME_TYPE in o.get("data", {}) for o in outputs):
            continue
        blocks = page.evaluate(
            """id => [...document.getElementById(id).querySelectorAll('.jp-OutputArea-output')]
                .map(o => o.innerText)""",
            f"cell-id={cell['id']}",
        )
        assert len(blocks) == len(outputs), (name, cell["id"], len(blocks), len(outputs))
        for output, block in zip(outputs, blocks, strict=True):
            result = output.get("data", {}).get(MIME_TYPE)
            if result is None:
                continue
            checked += 1
            rows = result.get("rows") or []
            counted = sum(
                r["findings"]
                for r in rows
                if isinstance(r.get("findings"), int | float)
                and not isinstance(r["findings"], bool)
            )
            graded = [r for r in rows if str(r.get("priority")) in {"P0", "P1", "P2", "P3"}]
            if "no findings" in block.lower():
                assert not result["findings"] and not counted and not graded, (
                    name,
                    result["check"],
                    block[:300],
                )
            for f in result["findings"]:
                assert f["priority"] in block and f["subject"] in block, (name, f, block[:300])
    assert checked, f"{name}: no result outputs"


# --- notify_at: below the level nothing is sent, at the level both channels are ------------

# a finding of each priority, as a record's side-car holds it
FOUND = {
    "P1": {
        "check": "nginx_error_rate", "priority": "P1", "subject": "frontend",
        "summary": "error rate % 10.6 > 5", "value": 10.6, "threshold": 5.0,
    },
    "P2": {
        "check": "failed_logins", "priority": "P2", "subject": "172.18.0.1",
        "summary": "141 failed logins from 172.18.0.1", "value": 141, "threshold": 10,
    },
    "P3": {
        "check": "redis_memory", "priority": "P3", "subject": "redis",
        "summary": "maxmemory is 0 (unbounded)", "value": 0, "threshold": None,
    },
}  # fmt: skip


def _alerts_record(outputs: Path, worst: str) -> RunResult:
    """An alerts record whose worst finding is `worst` (and a P3 beside it), written where
    `netzops report` writes its records; no ledger, so no trend adds a finding."""
    started = datetime.now(UTC)
    folder = outputs / "sandbox" / started.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / f"{started.strftime('%H%M%S')}-alerts"
    run_id = uuid.uuid4().hex
    found = [FOUND[worst]] + ([FOUND["P3"]] if worst != "P3" else [])
    side = {
        "run_id": run_id, "notebook": "alerts", "target": "sandbox", "status": "completed",
        "started": started.isoformat(), "duration_s": 1.0, "worst": worst,
        "findings": found, "metrics": {},
    }  # fmt: skip
    base.with_suffix(".json").write_text(json.dumps(side))
    base.with_suffix(".html").write_text("<!doctype html><html><body>alerts</body></html>")
    return RunResult(
        run_id, "alerts", "completed", Exit.FINDINGS, base.with_suffix(".ipynb"),
        base.with_suffix(".html"), base.with_suffix(".json"), worst,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("worst", "notify_at", "told"),
    [("P3", "P1", False), ("P2", "P1", False), ("P1", "P1", True), ("P3", "P3", True)],
)
def test_notify_only_at_or_above_notify_at(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    smtp: tuple[Mailbox, int, Path, str],
    webhook: tuple[Hooks, str],
    worst: str,
    notify_at: str,
    told: bool,
) -> None:
    """What `netzops report daily --notify test-daily` does after its runs, for a report
    whose worst finding is `worst`: the real SMTP server and webhook receiver get nothing
    below `notify_at`, and one mail and one post at it, listing only the due findings."""
    box, port, cert, password = smtp
    hooks, url = webhook
    (tmp_path / "schedules.yaml").write_text(yaml.safe_dump(_schedules(port, cert, notify_at)))
    monkeypatch.setenv("NETZOPS_OUTPUTS", str(tmp_path / "outputs"))
    monkeypatch.setenv("NETZOPS_SCHEDULES", str(tmp_path / "schedules.yaml"))
    monkeypatch.setenv("NETZOPS_TEST_SMTP_PASSWORD", password)
    monkeypatch.setenv("NETZOPS_TEST_WEBHOOK_URL", url)
    runs = [_alerts_record(tmp_path / "outputs", worst)]
    started = datetime.fromisoformat(json.loads(runs[0].sidecar.read_text())["started"])
    page = reports.write_summary(
        reports.load_report("daily"), load_target("sandbox"), started, runs
    )

    done = schedule_cli.after_report("daily", "sandbox", runs, page, "test-daily", None)

    if not told:
        assert done == [f"notify: nothing to tell: no finding at or above {notify_at}"]
        assert (box.logins, box.messages, hooks.posts) == ([], [], [])
        return
    assert done == ["notify: email to oncall@example.org", "notify: webhook HTTP 200"]
    assert box.logins == [SMTP_USER] and len(box.messages) == 1 and len(hooks.posts) == 1
    raw, (_, body) = box.messages[0], hooks.posts[0]
    for secret in (password, url, url.rsplit("/", 1)[1]):
        assert secret.encode() not in raw and secret.encode() not in body
    mail = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(mail, EmailMessage)
    assert mail["Subject"].startswith(f"[netzops] {worst} daily report on sandbox: ")
    plain = mail.get_body(preferencelist=("plain",))
    assert plain is not None
    text, chat = plain.get_content(), json.loads(body)["text"]
    for level, f in FOUND.items():  # the due findings, and only those
        line = f"{level} {f['subject']}: "
        due = level in {worst, "P3"} and Priority[level] <= Priority[notify_at]
        assert (line in text, f"• {line}" in chat) == (due, due), (level, text, chat)

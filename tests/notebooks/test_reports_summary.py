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
  units are human, no Python reprs; the screenshots go to docs/screenshots/.

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
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from playwright.sync_api import Page, sync_playwright
from prometheus_client.parser import text_string_to_metric_families

from netzops.targets import load_target
from tests.conftest import ROOT, sh
from tests.notebooks.helpers import cli, printed_path

DOCS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
FIRST_SCREEN = {"width": 1280, "height": 800}
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
    schedule = {
        "schedules": {
            "test-daily": {
                "report": "daily",
                "target": "sandbox",
                "notify_at": "P1",
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
    (tmp_path / "schedules.yaml").write_text(yaml.safe_dump(schedule))
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
    return (summary.parent / links[0]).resolve()


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
    _check_pages(page2, after - before)


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


def _check_pages(summary: Path, change: float) -> None:
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
    # "no findings" only where a result has none: never above a table naming priorities
    blocks = page.evaluate(
        """() => [...document.querySelectorAll('.jp-OutputArea-output')].map(o => o.innerText)"""
    )
    for block in blocks:
        if "no findings" in block:
            assert not re.search(r"^\s*P[0-3]\s*$", block, re.M) or "verdict" in block, block[:300]

"""Telling people about a scheduled report: an e-mail (the summary page as its HTML body,
the records' HTML attached) over SMTP with STARTTLS and AUTH, and/or a JSON webhook whose
`text` Slack and Mattermost incoming webhooks both show.

Only when a finding is at least as urgent as the schedule's `notify_at`. Secrets (the SMTP
password, the webhook URL) are resolved by reference in memory and every text sent is
scrubbed with the scrubber `notify` is given (the target's, `Target.scrubber()`) joined with
the channel's own secrets, so no secret reaches a mail or a chat.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from netzops.errors import NetzopsError
from netzops.findings import Finding, Priority
from netzops.paths import project_root
from netzops.runner.schedules import Email, Schedule, Webhook
from netzops.runner.summary import finding_text
from netzops.secrets import Scrubber

Scrub = Callable[[str], str]


class NotifyFailed(NetzopsError):
    """The mail server or the webhook refused or did not answer."""


@dataclass(frozen=True)
class Message:
    """What a report says to people: subject line, the findings, the pages."""

    subject: str
    findings: list[Finding]
    summary_html: str
    summary_path: Path
    records: list[Path]  # the records' HTML files


def due(findings: Sequence[Finding], at: Priority) -> list[Finding]:
    """The findings at least as urgent as `at`, worst first."""
    return sorted((f for f in findings if f.priority <= at), key=lambda f: f.priority)


def subject(report: str, target: str, findings: Sequence[Finding]) -> str:
    """ "[netzops] P1 daily report on sandbox: backend — error rate 14.6 % > 5 % (+2 more)"."""
    if not findings:
        return f"[netzops] {report} report on {target}: no findings"
    top = findings[0]
    more = f" (+{len(findings) - 1} more)" if len(findings) > 1 else ""
    what = f"{top.subject} — {finding_text(top)}{more}"
    return f"[netzops] {top.priority.name} {report} report on {target}: {what}"


def text_lines(message: Message, limit: int = 10) -> list[str]:
    lines = [
        f"{f.priority.name} {f.subject}: {finding_text(f)} ({f.priority.response})"
        for f in message.findings[:limit]
    ]
    if len(message.findings) > limit:
        lines.append(f"… and {len(message.findings) - limit} more")
    lines.append(f"Summary page: {message.summary_path}")
    return lines


def email_message(config: Email, message: Message, scrub: Scrub) -> EmailMessage:
    """The mail: plain-text findings, the summary page as the HTML alternative, each
    record's HTML attached; every text scrubbed with `scrub`."""
    mail = EmailMessage()
    mail["Subject"] = scrub(message.subject)
    mail["From"] = config.sender
    mail["To"] = ", ".join(config.to)
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain="netzops")
    mail.set_content(scrub("\n".join(text_lines(message))) + "\n")
    mail.add_alternative(scrub(message.summary_html), subtype="html")
    if config.attach_records:
        for record in message.records:
            if record.exists():
                mail.add_attachment(
                    scrub(record.read_text()),
                    subtype="html",
                    filename=record.name,
                )
    return mail


def send_email(config: Email, mail: EmailMessage, scrub: Scrub) -> None:
    """Send over SMTP: STARTTLS when configured (before AUTH), AUTH when a user is set.
    Raises NotifyFailed naming the server, never the password."""
    smtp = config.smtp
    where = f"{smtp.host}:{smtp.port}"
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s) as client:
            client.ehlo()
            if smtp.starttls:
                client.starttls(context=ssl.create_default_context(cafile=smtp.cafile))
                client.ehlo()
            if smtp.user:
                if smtp.password is None:
                    raise NotifyFailed(f"SMTP {where}: user {smtp.user} has no password reference")
                client.login(smtp.user, smtp.password.resolve(project_root()))
            client.send_message(mail)
    except (OSError, smtplib.SMTPException) as exc:
        raise NotifyFailed(f"SMTP {where}: {scrub(str(exc))[:200]}") from None


def webhook_payload(message: Message, scrub: Scrub) -> dict[str, str]:
    """The JSON body: Slack and Mattermost incoming webhooks both read `text` (markdown)."""
    lines = [f"*{scrub(message.subject)}*"] + [f"• {scrub(line)}" for line in text_lines(message)]
    return {"text": "\n".join(lines), "username": "netzops"}


def post_webhook(config: Webhook, message: Message, scrub: Scrub) -> int:
    """POST the payload; returns the HTTP status; NotifyFailed on an error or non-2xx
    (the URL, which holds the token, is never in the error)."""
    import httpx

    url = config.url.resolve(project_root())
    try:
        response = httpx.post(
            url,
            json=webhook_payload(message, scrub),
            timeout=config.timeout_s,
            verify=config.verify_tls,
        )
    except httpx.HTTPError as exc:
        raise NotifyFailed(f"webhook: {type(exc).__name__}: {scrub(str(exc))[:200]}") from None
    if not response.is_success:
        raise NotifyFailed(f"webhook answered HTTP {response.status_code}")
    return response.status_code


def channel_secrets(schedule: Schedule) -> list[str]:
    """The values of the schedule's own secrets that resolve (SMTP password, webhook URL)."""
    refs = [schedule.email.smtp.password if schedule.email else None]
    refs.append(schedule.webhook.url if schedule.webhook else None)
    values = []
    for ref in refs:
        if ref is not None:
            try:
                values.append(ref.resolve(project_root()))
            except NetzopsError:
                continue
    return values


def notify(schedule: Schedule, message: Message, scrub: Scrub) -> list[str]:
    """Send what the schedule asks for when findings are due; returns what was sent
    ("email to a@b", "webhook HTTP 200") or why nothing was. A channel that fails does
    not stop the other; the failures are raised together at the end. Every text sent and
    every error is scrubbed with `scrub` (the target's secrets) and the schedule's own."""
    if not message.findings:
        return [f"nothing to tell: no finding at or above {schedule.notify_at}"]
    channel = Scrubber(channel_secrets(schedule))

    def clean(text: str) -> str:
        return channel(scrub(text))

    sent, failed = [], []
    if schedule.email is not None:
        try:
            send_email(schedule.email, email_message(schedule.email, message, clean), clean)
            sent.append(f"email to {', '.join(schedule.email.to)}")
        except NotifyFailed as exc:
            failed.append(str(exc))
    if schedule.webhook is not None:
        try:
            sent.append(f"webhook HTTP {post_webhook(schedule.webhook, message, clean)}")
        except NotifyFailed as exc:
            failed.append(str(exc))
    if failed:
        raise NotifyFailed("; ".join(failed) + (f" (sent: {', '.join(sent)})" if sent else ""))
    return sent

"""Alert handling: the runbook's response procedure for each finding, and whom to page
(Emergency Contacts → escalation path L1–L4)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from netzops.findings import Finding, Priority
from netzops.paths import parameters_dir, read_mapping
from netzops.results import Result

SECURITY_CHECKS = {"failed_logins", "security"}  # findings that go to the security team (L4)


class Procedure(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    checks: list[str]
    steps: list[str]
    scenario: str | None = None  # the troubleshooting scenario it belongs to


class Level(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: str
    contact: str
    handles: list[str]


class Contacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    on_call: dict[str, str]
    levels: dict[str, Level]
    external: dict[str, dict[str, str]] = {}


@cache
def procedures() -> dict[str, Procedure]:
    text = resources.files("netzops").joinpath("data/procedures.yaml").read_text()
    return {key: Procedure(**value) for key, value in yaml.safe_load(text).items()}


def procedure_for(finding: Finding) -> Procedure | None:
    return next((p for p in procedures().values() if finding.check in p.checks), None)


def load_contacts(path: Path | str | None = None) -> Contacts:
    """`path`; without one (None or ""), parameters/contacts.yaml when present, else the
    shipped example (roles, no people)."""
    folder = parameters_dir()
    chosen = (
        Path(path)
        if path
        else next(
            p for p in (folder / "contacts.yaml", folder / "contacts.example.yaml") if p.exists()
        )
    )
    return Contacts(**read_mapping(chosen, "contacts file"))


@dataclass(frozen=True)
class Response:
    priority: str
    subject: str
    summary: str
    respond_within: str
    procedure: str
    steps: list[str]
    cause: str = ""  # the cause this finding is evidence or a consequence of


def responses(findings: list[Finding], causes: Result | None = None) -> Result:
    """Each finding (most urgent first) with its response procedure: the procedure of the
    cause it belongs to (evidence or consequence) when `causes` (triage.causes) is given,
    else the one of its check."""
    rows = []
    for f in sorted(findings, key=lambda f: f.priority):
        text = f"[{f.priority.name}] {f.check} {f.subject}: {f.summary}"
        mine = next(
            (
                c
                for c in (causes.rows if causes else [])
                if text in c["evidence"] + c["consequences"]
            ),
            None,
        )
        proc = procedure_for(f)
        title, steps = (proc.title, proc.steps) if proc else ("—", [])
        if mine is not None:
            title, steps = mine["procedure"], list(mine["steps"])
        rows.append(
            Response(
                f.priority.name,
                f.subject,
                f.summary,
                f.priority.response,
                title,
                steps,
                f"#{mine['rank']} {mine['cause']}" if mine else "",
            )
        )
    return Result.of("alert_responses", "Alert response procedures", rows, findings)


@dataclass(frozen=True)
class Page:
    priority: str
    subject: str
    summary: str
    levels: list[str]
    contacts: list[str]
    when: str


def levels(priority: Priority, p0_count: int, security: bool = False) -> list[str]:
    """Escalation levels (runbook: Emergency Contacts): P0 pages L1 and L2 (L3 too when
    there are several P0s), security matters of P1 or more reach L4; P1 pages L1; P2/P3 are
    tickets for L1."""
    chosen = ["L1"]
    if priority is Priority.P0:
        chosen += ["L2"] + (["L3"] if p0_count > 1 else [])
    if security and priority <= Priority.P1:
        chosen.append("L4")
    return chosen


def levels_for(finding: Finding, p0_count: int) -> list[str]:
    """Escalation levels for a finding (see `levels`)."""
    return levels(finding.priority, p0_count, finding.check in SECURITY_CHECKS)


def escalation(found: list[Finding] | Result, contacts: Contacts) -> Result:
    """Whom to page, and how soon: per cause when given the result of `triage.causes` (the
    levels its rule chose), else per finding (levels from its priority)."""
    if isinstance(found, Result):
        rows = [
            _page(
                Priority[c["priority"]], c["cause"], c["next_step"], list(c["escalate"]), contacts
            )
            for c in found.rows
        ]
    else:
        p0_count = sum(f.priority is Priority.P0 for f in found)
        rows = [
            _page(f.priority, f.subject, f.summary, levels_for(f, p0_count), contacts)
            for f in sorted(found, key=lambda f: f.priority)
        ]
    on_call = contacts.on_call
    notes = [f"On call: {on_call.get('schedule', '')} {on_call.get('channel', '')}"]
    by_cause = isinstance(found, Result)
    paged = Result.of(
        "escalation_by_cause" if by_cause else "escalation",
        "Escalation — by cause" if by_cause else "Escalation",
        rows,
        notes=notes,
    )
    paged.verdict = f"{len(rows)} to escalate (findings listed above)" if rows else None
    return paged


def _page(
    priority: Priority, subject: str, summary: str, chosen: list[str], contacts: Contacts
) -> Page:
    how = "page now" if priority <= Priority.P1 else "ticket"
    return Page(
        priority.name,
        subject,
        summary,
        chosen,
        [
            f"{contacts.levels[lv].role}: {contacts.levels[lv].contact}"
            for lv in chosen
            if lv in contacts.levels
        ],
        f"{how}, {priority.response}",
    )


def findings_from(results: list[Result]) -> list[Finding]:
    """All findings of several results."""
    return [f for r in results for f in r.findings]

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


def load_contacts(path: Path | None = None) -> Contacts:
    """parameters/contacts.yaml when present, else the shipped example (roles, no people)."""
    folder = parameters_dir()
    chosen = path or next(
        p for p in (folder / "contacts.yaml", folder / "contacts.example.yaml") if p.exists()
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


def responses(findings: list[Finding]) -> Result:
    """Each finding (most urgent first) with the runbook's response procedure."""
    rows = []
    for f in sorted(findings, key=lambda f: f.priority):
        proc = procedure_for(f)
        rows.append(
            Response(
                f.priority.name,
                f.subject,
                f.summary,
                f.priority.response,
                proc.title if proc else "—",
                proc.steps if proc else [],
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


def levels_for(finding: Finding, p0_count: int) -> list[str]:
    """Escalation levels for a finding: P0 pages L1 and L2 (L3 too when several P0s),
    security findings reach L4; P1 pages L1; P2/P3 are tickets for L1."""
    levels = ["L1"]
    if finding.priority is Priority.P0:
        levels += ["L2"] + (["L3"] if p0_count > 1 else [])
    if finding.check in SECURITY_CHECKS and finding.priority <= Priority.P1:
        levels.append("L4")
    return levels


def escalation(findings: list[Finding], contacts: Contacts) -> Result:
    """Whom to page for each finding, and how soon."""
    p0_count = sum(f.priority is Priority.P0 for f in findings)
    rows = []
    for f in sorted(findings, key=lambda f: f.priority):
        levels = levels_for(f, p0_count)
        how = "page now" if f.priority <= Priority.P1 else "ticket"
        rows.append(
            Page(
                f.priority.name,
                f.subject,
                f.summary,
                levels,
                [
                    f"{contacts.levels[lv].role}: {contacts.levels[lv].contact}"
                    for lv in levels
                    if lv in contacts.levels
                ],
                f"{how}, {f.priority.response}",
            )
        )
    on_call = contacts.on_call
    notes = [f"On call: {on_call.get('schedule', '')} {on_call.get('channel', '')}"]
    return Result.of("escalation", "Escalation", rows, notes=notes)


def findings_from(results: list[Result]) -> list[Finding]:
    """All findings of several results."""
    return [f for r in results for f in r.findings]

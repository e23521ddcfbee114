"""Causes over symptoms: the rules of `data/causes.yaml` turn the evidence of one sweep
(its findings and metrics) into causes, ranked most likely first, each with its evidence,
the findings it explains (consequences, never causes of their own), the one next step, the
response procedure and the escalation levels.

    results = triage.sweep(target)
    found = triage.causes(results, target)     # Result "causes": rows of Cause, top first
    found.notes[0]                              # "Most likely cause: … Next step: …"

Findings no rule takes (P2 or more urgent) become causes of their own with the procedure of
their check (procedures.yaml), after the rules' causes of the same priority.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from netzops.findings import Finding, Priority
from netzops.results import Result
from netzops.secrets import SecretRef
from netzops.targets import Target
from netzops.triage.response import levels, procedures

_MISSING = object()


class Pattern(BaseModel):
    """Which findings a rule means; `{subject}` in check/subject is the bound subject."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    check: str = "*"
    subject: str = "*"
    summary: str = ""
    at_least: Literal["P0", "P1", "P2", "P3"] = "P3"
    min_value: float | None = None

    def matches(self, finding: Finding, context: dict[str, str]) -> bool:
        if not _glob(finding.check, self.check.format(**context)):
            return False
        if not _glob(finding.subject, self.subject.format(**context)):
            return False
        if finding.priority > Priority[self.at_least]:
            return False
        if self.summary and not re.search(self.summary, finding.summary):
            return False
        if self.min_value is not None:
            return isinstance(finding.value, int | float) and finding.value >= self.min_value
        return True


class Support(Pattern):
    """Evidence that strengthens a cause when present: a metric's value or a finding."""

    metric: str | None = None
    equals: float | None = None
    says: str = ""


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    procedure: str
    next_step: str
    when: list[Pattern] = Field(min_length=1)
    explains: list[Pattern] = []
    support: list[Support] = []
    facts: list[Support] = []
    priority: Literal["P0", "P1", "P2", "P3"] | None = None
    escalate: list[str] | None = None
    scenario: str | None = None
    secret: Literal["redis", "postgres"] | None = None


def _glob(value: str, pattern: str) -> bool:
    return any(fnmatchcase(value, p) for p in pattern.split("|"))


@cache
def rules() -> dict[str, Rule]:
    """The rule set shipped in data/causes.yaml, in its order (most fundamental first)."""
    text = resources.files("netzops").joinpath("data/causes.yaml").read_text()
    return {name: Rule(**body) for name, body in yaml.safe_load(text).items()}


@dataclass(frozen=True)
class Cause:
    rank: int
    priority: str
    cause: str
    subject: str  # what the cause is about (a service, a check's subject)
    next_step: str
    evidence: list[str]
    consequences: list[str]
    procedure: str
    steps: list[str]
    escalate: list[str]
    respond_within: str
    scenario: str
    rule: str


def describe(finding: Finding) -> str:
    return f"[{finding.priority.name}] {finding.check} {finding.subject}: {finding.summary}"


def secret_source(target: Target, name: str | None) -> str:
    """Where the secret `name` is read from, e.g. "file ~/.local/…/redis_password" or
    "env NETZWAECHTER_REDIS_PASSWORD"; never its value."""
    ref: SecretRef | None = target.secrets.get(name) if name else None
    if ref is None:
        return f"not configured in target {target.name}"
    if ref.env and os.environ.get(ref.env):
        return f"from env {ref.env}" + (f", which wins over file {ref.file}" if ref.file else "")
    where = f"from file {ref.file}" if ref.file else ""
    unset = f"env {ref.env} not set" if ref.env else ""
    return ", ".join(part for part in (where, unset) if part)


def _secret_name(target: Target, which: str | None) -> str | None:
    if which == "redis":
        return target.redis.password_secret
    if which == "postgres":
        return target.postgres.monitor_password_secret or target.postgres.password_secret
    return None


def _context(target: Target, rule: Rule, finding: Finding) -> dict[str, str]:
    secret = _secret_name(target, rule.secret)
    return {
        "subject": finding.subject,
        "value": "" if finding.value is None else f"{finding.value}",
        "summary": finding.summary,
        "docker_host": target.docker_host
        or os.environ.get("DOCKER_HOST")
        or "unix:///var/run/docker.sock",
        "project": target.compose.project,
        "secret": secret or "",
        "source": secret_source(target, secret),
    }


def _supported(
    support: Support, findings: list[Finding], metrics: dict[str, float], ctx: dict[str, str]
) -> str | None:
    """The evidence `support` adds, or None when it does not hold."""
    if support.metric is not None:
        value = metrics.get(support.metric.format(**ctx), _MISSING)
        if value is _MISSING or (support.equals is not None and value != support.equals):
            return None
        return f"{support.says or support.metric} ({support.metric.format(**ctx)} = {value})"
    hit = next((f for f in findings if support.matches(f, ctx)), None)
    return describe(hit) if hit else None


@dataclass
class _Found:
    rule: str
    subject: str
    priority: Priority
    title: str
    next_step: str
    evidence: list[str]
    consequences: list[str]
    procedure: str
    escalate: list[str] | None
    scenario: str
    order: int


def _fire(
    name: str,
    rule: Rule,
    first: Finding,
    findings: list[Finding],
    taken: set[int],
    metrics: dict[str, float],
    ctx: dict[str, str],
) -> _Found | None:
    others: list[Finding] = []
    for pattern in rule.when[1:]:
        hit = next((f for f in findings if f is not first and pattern.matches(f, ctx)), None)
        if hit is None:
            return None
        others.append(hit)
    facts = [_supported(fact, findings, metrics, ctx) for fact in rule.facts]
    if any(f is None for f in facts):
        return None
    evidence_findings = [first, *others]
    support = [_supported(s, findings, metrics, ctx) for s in rule.support]
    explained = [
        f
        for i, f in enumerate(findings)
        if i not in taken
        and all(f is not e for e in evidence_findings)
        and any(p.matches(f, ctx) for p in rule.explains)
    ]
    for f in evidence_findings + explained:
        taken.add(next(i for i, g in enumerate(findings) if g is f))
    top = min(f.priority for f in evidence_findings)  # P0 is 0: never `or` a Priority
    return _Found(
        name,
        first.subject,
        Priority[rule.priority] if rule.priority else top,
        rule.title.format(**ctx),
        " ".join(rule.next_step.format(**ctx).split()),
        [describe(f) for f in evidence_findings] + [s for s in [*facts, *support] if s],
        [describe(f) for f in explained],
        rule.procedure,
        rule.escalate,
        rule.scenario or "",
        list(rules()).index(name),
    )


def _by_rules(
    findings: list[Finding], metrics: dict[str, float], target: Target, taken: set[int]
) -> list[_Found]:
    found: list[_Found] = []
    for name, rule in rules().items():
        for i, finding in enumerate(findings):
            if i in taken or not rule.when[0].matches(finding, _context(target, rule, finding)):
                continue
            fired = _fire(
                name, rule, finding, findings, taken, metrics, _context(target, rule, finding)
            )
            if fired:
                found.append(fired)
    return found


def _leftovers(findings: list[Finding], taken: set[int]) -> list[_Found]:
    """Findings (P2 or more urgent) no rule took: each a cause of its own."""
    found: list[_Found] = []
    for i, f in enumerate(findings):
        if i in taken or f.priority > Priority.P2:
            continue
        key = next((k for k, p in procedures().items() if f.check in p.checks), "")
        proc = procedures().get(key)
        found.append(
            _Found(
                f"check:{f.check}",
                f.subject,
                f.priority,
                f"{f.subject}: {f.summary}",
                proc.steps[0] if proc and proc.steps else "Look at the check's rows below.",
                [describe(f)],
                [],
                key,
                None,
                proc.scenario or "" if proc else "",
                len(rules()),
            )
        )
    return found


def find(results: list[Result], target: Target) -> list[Cause]:
    """The causes behind the findings of `results`, most likely first."""
    findings = sorted((f for r in results for f in r.findings), key=lambda f: f.priority)
    metrics = {k: v for r in results for k, v in r.metrics.items()}
    taken: set[int] = set()
    found = _by_rules(findings, metrics, target, taken) + _leftovers(findings, taken)
    found.sort(key=lambda c: (c.priority, c.order))
    p0 = sum(c.priority is Priority.P0 for c in found)
    causes = []
    for rank, c in enumerate(found, 1):
        proc = procedures().get(c.procedure)
        causes.append(
            Cause(
                rank,
                c.priority.name,
                c.title,
                c.subject,
                c.next_step,
                c.evidence,
                c.consequences,
                proc.title if proc else "—",
                list(proc.steps) if proc else [],
                c.escalate or levels(c.priority, p0, c.procedure == "login_issues"),
                c.priority.response,
                c.scenario,
                c.rule,
            )
        )
    return causes


def headline(cause: Cause) -> str:
    """One paragraph: the most likely cause, the one next step, and the evidence."""
    return (
        f"Most likely cause [{cause.priority}]: {cause.cause}. Next step: {cause.next_step} "
        f"Evidence: {'; '.join(cause.evidence)}. Procedure: {cause.procedure}; "
        f"escalate: {', '.join(cause.escalate)} ({cause.respond_within})."
    )


def causes(results: list[Result], target: Target) -> Result:
    """The ranked causes of one sweep as a result (check "causes"): the first note is the
    headline (most likely cause, next step, evidence); another names checks cut short."""
    found = find(results, target)
    notes = [headline(found[0])] if found else ["No cause: nothing found above P3."]
    short = [r.check for r in results if r.metrics.get("sweep.cut_short")]
    if short:
        notes.append(f"Cut short (no answer within the run's deadline): {', '.join(short)}")
    done = Result.of(
        "causes",
        "Causes — most likely first",
        found,
        metrics={"causes.count": float(len(found))},
        notes=notes,
    )
    done.verdict = notes[0]
    return done


def top(results: list[Result], target: Target) -> Cause | None:
    """The most likely cause, or None."""
    found = find(results, target)
    return found[0] if found else None

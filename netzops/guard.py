"""The one guard every mutating action goes through.

    plan()  → a Plan: exactly what would happen (SQL text, pids, key counts, containers)
              and its fingerprint. Without a confirmation this is all that happens (dry run).
    confirm → the string the dry run shows, "<action>@<target>#<fingerprint>": it names
              the action, the target and the plan that was reviewed.
    act     → only if confirmed, allowed for the target (headless runs also need
              allow_destructive and the action in allowed_actions), and a fresh plan still
              has the confirmed fingerprint (else: stale plan). Then verify.

The callbacks read only the plan they are handed: `act(plan)`, `observe(plan)` before and
after, `verify(before, after)`; nothing passes between them through closures.

Every call, dry or real, returns a Result whose `actions` hold the audit entry, and every
audit entry (dry run, refusal, done) goes to the listeners registered with `on_audit` at
the moment it is made: in a `netzops` kernel the kernel extension
(`netzops.runner.kernel_extension`) writes it to the ledger. Listeners registered with
`on_dry_run` get a `Pending` confirmation for each dry run (JupyterLab shows a button).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from netzops.errors import GuardRefused
from netzops.findings import Finding, Priority
from netzops.results import Result
from netzops.targets import Target

HEADLESS_ENV = "NETZOPS_HEADLESS"  # set by the runner for the kernels it starts


@dataclass(frozen=True)
class Plan:
    """What an action would do, precisely enough to review and to compare."""

    action: str
    target: str
    subject: str
    steps: list[str]
    details: dict[str, Any] = field(default_factory=dict)
    #: The exact objects acted on (backends, key names as bytes): part of the fingerprint,
    #: left out of the audit entry, whose `details` say what a reviewer needs.
    subjects: tuple[Any, ...] = ()

    @property
    def fingerprint(self) -> str:
        body = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(body.encode()).hexdigest()[:12]

    @property
    def confirmation(self) -> str:
        """The string that confirms exactly this plan."""
        return f"{self.action}@{self.target}#{self.fingerprint}"


def headless() -> bool:
    return os.environ.get(HEADLESS_ENV) == "1"


AuditListener = Callable[[dict[str, Any]], None]
_audit_listeners: list[AuditListener] = []
_dry_run_listeners: list[Callable[[Pending], None]] = []


def on_audit(listener: AuditListener) -> None:
    """Call `listener(entry)` with every audit entry as it is made (once per listener)."""
    if listener not in _audit_listeners:
        _audit_listeners.append(listener)


def on_dry_run(listener: Callable[[Pending], None]) -> None:
    """Call `listener(pending)` after every dry run (once per listener)."""
    if listener not in _dry_run_listeners:
        _dry_run_listeners.append(listener)


@dataclass(frozen=True)
class Pending:
    """A dry run that a person may confirm by typing the target's name (JupyterLab).

    `confirm(typed)` runs the action through the same guard with the dry run's confirmation
    (so a changed situation is a stale plan); a wrong name raises GuardRefused, audited."""

    target: str
    plan: Plan
    again: Callable[[str], Result]

    def confirm(self, typed: str) -> Result:
        if typed.strip() != self.target:
            raise _refuse(
                self.plan,
                f"typed {typed.strip()!r}, which is not the target's name {self.target!r}",
            )
        return self.again(self.plan.confirmation)


def _audit(
    plan: Plan,
    dry_run: bool,
    outcome: str,
    before: Any = None,
    after: Any = None,
    verified: bool | None = None,
) -> dict[str, Any]:
    entry = {
        "action": plan.action,
        "target": plan.target,
        "subject": plan.subject,
        "dry_run": dry_run,
        "fingerprint": plan.fingerprint,
        "steps": plan.steps,
        "details": plan.details,
        "outcome": outcome,
        "before": before,
        "after": after,
        "verified": verified,
        "who": getpass.getuser(),
        "headless": headless(),
        "at": datetime.now(UTC).isoformat(),
    }
    for listener in _audit_listeners:
        try:
            listener(entry)
        except Exception as exc:  # the action stands; say loudly that its audit line did not
            print(f"netzops: audit entry not written: {exc!r}", file=sys.stderr)
    return entry


def _refuse(plan: Plan, why: str) -> GuardRefused:
    """The refusal, carrying its audit entry (shown and recorded in notebooks, see below)."""
    return GuardRefused(
        f"{plan.action} on {plan.target} refused: {why}", _audit(plan, False, f"refused: {why}")
    )


def check_allowed(target: Target, plan: Plan) -> None:
    if headless() and not (target.allow_destructive and plan.action in target.allowed_actions):
        raise _refuse(
            plan,
            "headless runs need allow_destructive and the action in "
            f"allowed_actions of target {target.name}",
        )


def run(
    target: Target,
    plan: Callable[[], Plan],
    act: Callable[[Plan], Any],
    confirm: str | None = None,
    observe: Callable[[Plan], Any] | None = None,
    verify: Callable[[Any, Any], bool] | None = None,
) -> Result:
    """Plan; without `confirm` (None or "") return the dry run. With it, check, re-plan,
    act, verify."""
    confirm = confirm or None
    first = plan()
    title = f"{first.action} on {target.name}"
    if confirm is None:
        entry = _audit(first, True, "dry run: nothing changed")
        result = Result.of(
            first.action,
            f"{title} — dry run",
            [{"step": s} for s in first.steps],
            notes=[f"To do this, confirm with: {first.confirmation}"],
        )
        result.actions.append(entry)
        again = partial(run, target, plan, act, observe=observe, verify=verify)
        for listener in _dry_run_listeners:
            listener(Pending(target.name, first, lambda c: again(confirm=c)))
        return result
    if not confirm.startswith(f"{first.action}@{target.name}#"):
        raise _refuse(first, f"confirmation {confirm!r} does not name {first.action}@{target.name}")
    check_allowed(target, first)
    if confirm != first.confirmation:
        raise _refuse(
            first,
            "stale plan: the situation changed since the dry run "
            f"(now {first.fingerprint}); review the new plan and confirm again",
        )
    before = observe(first) if observe else None
    outcome = act(first)
    after = observe(first) if observe else None
    verified = verify(before, after) if verify else None
    entry = _audit(first, False, str(outcome), before, after, verified)
    findings = (
        []
        if verified is not False
        else [
            Finding(first.action, first.subject, Priority.P1, "action done but verification failed")
        ]
    )
    result = Result.of(
        first.action, f"{title} — done", [{"step": s} for s in first.steps], findings
    )
    result.actions.append(entry)
    return result

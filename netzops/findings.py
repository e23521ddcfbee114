"""Priorities and findings: what a check concluded, in the runbook's P0–P3 terms."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import IntEnum
from typing import Any


class Priority(IntEnum):
    """Alert priority from the runbook; a smaller value is more urgent (P0 < P1 < P2 < P3)."""

    P0 = 0  # critical: service down, database unavailable, data loss, breach
    P1 = 1  # high: error rate > 5 %, disk > 90 %, several services degraded
    P2 = 2  # medium: warning thresholds exceeded, one non-critical service degraded
    P3 = 3  # low: informational, optimization opportunities, maintenance due

    @classmethod
    def parse(cls, text: str) -> Priority:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown priority {text!r}: use P0, P1, P2 or P3") from None

    @property
    def response(self) -> str:
        return _RESPONSE[self]


_RESPONSE = {
    Priority.P0: "immediate response",
    Priority.P1: "response within 1 hour",
    Priority.P2: "response within 4 hours",
    Priority.P3: "response within 24 hours",
}


@dataclass(frozen=True)
class Finding:
    """One conclusion of a check about one subject (a service, a table, a mount ...)."""

    check: str
    subject: str
    priority: Priority
    summary: str
    value: float | str | None = None
    threshold: float | str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["priority"] = self.priority.name
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(**{**data, "priority": Priority.parse(str(data["priority"]))})


def worst(findings: list[Finding]) -> Priority | None:
    """The most urgent priority among the findings, or None when there are none."""
    return min((f.priority for f in findings), default=None)

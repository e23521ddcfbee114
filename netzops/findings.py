"""Priorities, findings and thresholds: what a check concluded, in the runbook's P0–P3 terms,
from the runbook's thresholds shipped as data (`data/thresholds.yaml`, overridable per target)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from enum import IntEnum
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict


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
        """A finding as `to_dict` wrote it; keys this version does not know (a record from a
        newer netzops) are left out, not an error that loses the whole record, and missing
        texts are empty. ValueError when its priority is missing or not P0–P3."""
        if not isinstance(data, dict) or "priority" not in data:
            raise ValueError(f"a finding without a priority: {str(data)[:200]}")
        known = {f.name for f in fields(cls)}
        kept = {k: v for k, v in data.items() if k in known}
        texts = {k: str(kept.get(k) or "") for k in ("check", "subject", "summary")}
        return cls(**{**kept, **texts, "priority": Priority.parse(str(data["priority"]))})

    @classmethod
    def read_all(cls, items: Any, where: str) -> list[Finding]:
        """The findings of a record's side-car or output (`items`: its list); one that
        cannot be read becomes a P2 finding of check "record" about `where` saying so
        (a record that cannot be read fully needs a look; nothing is dropped silently)."""
        found = []
        for item in items if isinstance(items, list) else [items]:
            try:
                found.append(cls.from_dict(item))
            except (ValueError, TypeError) as exc:
                why = f"a finding of this record cannot be read: {exc}"[:240]
                found.append(cls("record", where, Priority.P2, why))
        return found


def worst(findings: list[Finding]) -> Priority | None:
    """The most urgent priority among the findings, or None when there are none."""
    return min((f.priority for f in findings), default=None)


class Band(BaseModel):
    """Limits for one metric: above `warn` → P2, above `critical` → P1, below `low` → P3."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    warn: float | None = None
    critical: float | None = None
    low: float | None = None


@cache
def _defaults() -> dict[str, Band]:
    text = resources.files("netzops").joinpath("data/thresholds.yaml").read_text()
    return {name: Band(**band) for name, band in yaml.safe_load(text).items()}


def thresholds(overrides: dict[str, dict[str, Any]] | None = None) -> dict[str, Band]:
    """The shipped thresholds with a target's overrides applied (per metric, per limit)."""
    bands = dict(_defaults())
    for name, change in (overrides or {}).items():
        if name not in bands:
            raise ValueError(f"unknown threshold {name!r}; known: {', '.join(sorted(bands))}")
        bands[name] = bands[name].model_copy(update=change)
    return bands


def above(check: str, subject: str, value: float, band: Band, what: str) -> Finding | None:
    """A finding when `value` exceeds the band's warn (P2) or critical (P1) limit."""
    if band.critical is not None and value > band.critical:
        return Finding(
            check,
            subject,
            Priority.P1,
            f"{what} {value:g} > {band.critical:g}",
            value,
            band.critical,
        )
    if band.warn is not None and value > band.warn:
        return Finding(
            check, subject, Priority.P2, f"{what} {value:g} > {band.warn:g}", value, band.warn
        )
    return None


def below(
    check: str, subject: str, value: float, band: Band, what: str, priority: Priority = Priority.P3
) -> Finding | None:
    """A finding when `value` falls under the band's low limit."""
    if band.low is not None and value < band.low:
        return Finding(
            check, subject, priority, f"{what} {value:g} < {band.low:g}", value, band.low
        )
    return None


def remaining(check: str, subject: str, value: float, band: Band, what: str) -> Finding | None:
    """For counts down to zero (days left): under critical → P1, under warn → P2, ≤ 0 → P0."""
    if value <= 0:
        return Finding(check, subject, Priority.P0, f"{what} {value:g}: expired", value, 0)
    if band.critical is not None and value < band.critical:
        return Finding(
            check,
            subject,
            Priority.P1,
            f"{what} {value:g} < {band.critical:g}",
            value,
            band.critical,
        )
    if band.warn is not None and value < band.warn:
        return Finding(
            check, subject, Priority.P2, f"{what} {value:g} < {band.warn:g}", value, band.warn
        )
    return None

"""The runbook's thresholds as data, and pure evaluation into findings."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from netzops.findings import Finding, Priority


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
        return Finding(check, subject, Priority.P1, f"{what} {value:g} > {band.critical:g}",
                       value, band.critical)
    if band.warn is not None and value > band.warn:
        return Finding(check, subject, Priority.P2, f"{what} {value:g} > {band.warn:g}",
                       value, band.warn)
    return None


def below(check: str, subject: str, value: float, band: Band, what: str,
          priority: Priority = Priority.P3) -> Finding | None:
    """A finding when `value` falls under the band's low limit."""
    if band.low is not None and value < band.low:
        return Finding(check, subject, priority, f"{what} {value:g} < {band.low:g}",
                       value, band.low)
    return None


def remaining(check: str, subject: str, value: float, band: Band, what: str) -> Finding | None:
    """For counts down to zero (days left): under critical → P1, under warn → P2, ≤ 0 → P0."""
    if value <= 0:
        return Finding(check, subject, Priority.P0, f"{what} {value:g}: expired", value, 0)
    if band.critical is not None and value < band.critical:
        return Finding(check, subject, Priority.P1, f"{what} {value:g} < {band.critical:g}",
                       value, band.critical)
    if band.warn is not None and value < band.warn:
        return Finding(check, subject, Priority.P2, f"{what} {value:g} < {band.warn:g}",
                       value, band.warn)
    return None

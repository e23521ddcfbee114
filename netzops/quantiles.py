"""Percentiles the one way netzops reports them: nearest rank, so that every reported
value is one that was really measured (p95 of latencies is a real request's latency)."""

from __future__ import annotations

import math


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile `p` (0–100] of non-empty `values`."""
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100.0 * len(ordered)) - 1, 0)]

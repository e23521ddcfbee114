"""Figures for the monitoring report, made from results (matplotlib, no pyplot state).

Each function returns a `Chart`: it shows itself as a PNG in JupyterLab and in records
(nbconvert embeds it in the HTML), whatever matplotlib backend the kernel has.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from netzops.findings import Band
from netzops.results import Result


@dataclass(frozen=True)
class Chart:
    figure: Figure

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        FigureCanvasAgg(self.figure)
        self.figure.savefig(buffer, format="png", dpi=96)
        return buffer.getvalue()


def _limit(ax: object, band: Band, label: str) -> None:
    if band.warn is not None:
        ax.axhline(  # type: ignore[attr-defined]
            band.warn,
            color="#d35400",
            linestyle="--",
            linewidth=1,
            label=f"{label} {band.warn:g}",
        )


def resources(stats: Result, cpu: Band, memory: Band) -> Chart:
    """CPU % and memory % per container, with the runbook's limits."""
    fig = Figure(figsize=(9, 3.2), layout="constrained")
    names = [str(r["container"]) for r in stats.rows]
    for ax, key, band, title in zip(
        fig.subplots(1, 2),
        ("cpu_percent", "memory_percent"),
        (cpu, memory),
        ("CPU %", "memory % of limit"),
        strict=True,
    ):
        values = [r[key] for r in stats.rows]  # None: no figure (counters reset)
        ax.barh(names, [math.nan if v is None else float(v) for v in values], color="#2471a3")
        for y, v in enumerate(values):
            if v is None:
                ax.text(0, y, " unknown/reset", va="center", fontsize=8, color="#7f8c8d")
        if band.warn is not None:
            ax.axvline(band.warn, color="#d35400", linestyle="--", linewidth=1)
        ax.set_title(title)
    return Chart(fig)


def response_times(samples: list[Result], budget: Band) -> Chart:
    """p50/p95/p99 per sampled endpoint against the response-time budget."""
    fig = Figure(figsize=(6, 3.2), layout="constrained")
    ax = fig.subplots()
    rows = [r for s in samples for r in s.rows]
    names = [str(r["name"]) for r in rows]
    for offset, key in enumerate(("p50_ms", "p95_ms", "p99_ms")):
        xs = [i + (offset - 1) * 0.25 for i in range(len(rows))]
        ax.bar(xs, [float(r[key] or 0) for r in rows], width=0.25, label=key[:-3])
    ax.set_xticks(range(len(rows)), names)
    _limit(ax, budget, "budget ms")
    ax.set_ylabel("ms")
    ax.legend()
    ax.set_title("Response times")
    return Chart(fig)


def errors_per_minute(rates: Result) -> Chart:
    """Requests and 5xx answers per minute (from the backend's request log)."""
    fig = Figure(figsize=(9, 3), layout="constrained")
    ax = fig.subplots()
    times = [str(r["minute"])[11:16] for r in rates.rows]
    ax.bar(times, [int(r["requests"]) for r in rates.rows], label="requests", color="#2471a3")
    ax.bar(times, [int(r["errors_5xx"]) for r in rates.rows], label="5xx", color="#b00020")
    ax.set_title("Requests and errors per minute")
    ax.tick_params(axis="x", labelrotation=90, labelsize=7)
    ax.legend()
    return Chart(fig)

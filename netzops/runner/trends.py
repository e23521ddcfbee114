"""Trends from earlier records: the ledger and the side-cars are the history (no database).

    history(target)            one pandas frame of every earlier run's metrics:
                               run_id · notebook · started (UTC) · metric · value
    headline(metrics, bands)   the key figures of a report (service health, API p95, error
                               rate, disk, DB connections, Redis hit rate and memory,
                               certificate days, newest backup age), each against its limit
    trend(figure, frame, now)  the figure's previous value, 7-day median and points to plot
    findings(frame, metrics)   what gets worse: disk full in N days (linear fit over
                               host.disk.*), slow query mean 2× its 7-day median, error rate
                               rising, certificate expiring

Missing or short history is said in words (`Trend.note`), never an exception.
Figures' limits come from the runbook's thresholds (`data/thresholds.yaml`).
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from netzops import units
from netzops.checks import register
from netzops.findings import Band, Finding, Priority, remaining
from netzops.paths import outputs_dir
from netzops.runner import ledger

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ["run_id", "notebook", "started", "metric", "value"]
MEDIAN_DAYS = 7  # the "7-day median"
FIT_DAYS = 14  # disk forecast: linear fit over this many days of host.disk.* values
MIN_FIT_SPAN = timedelta(hours=6)  # a fit over minutes says nothing about days
MIN_FIT_POINTS = 3
SLOW_FACTOR = 2.0  # slow query mean at 2× its 7-day median is a finding (issue 14)
RISING_FACTOR = 1.5  # error rate 1.5× its 7-day median and above the warn limit


def history(
    target: str,
    root: Path | None = None,
    days: int = 30,
    exclude: frozenset[str] = frozenset(),
    now: datetime | None = None,
) -> pd.DataFrame:
    """Metrics of the target's completed runs of the last `days` days, read from the ledger
    and the side-cars it names (one frame; empty, with COLUMNS, when there is no history).
    Runs in `exclude` (run ids, e.g. the current report's) are left out; unreadable side-cars
    are skipped."""
    import pandas as pd

    root = root or outputs_dir()
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    rows: list[tuple[str, str, datetime, str, float]] = []
    for entry in ledger.entries(root / "ledger.jsonl"):
        if entry.get("target") != target or entry.get("status") != "completed":
            continue
        if entry.get("run_id") in exclude:
            continue
        started = _started(entry)
        if started is None or started < since:
            continue  # an entry without a readable start time is no history
        side = next((k for k in entry.get("files") or {} if k.endswith(".json")), None)
        metrics = _metrics(root / side) if side else {}
        rows += [
            (str(entry.get("run_id")), str(entry.get("notebook")), started, name, float(value))
            for name, value in metrics.items()
        ]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["started"] = pd.to_datetime(frame["started"], utc=True)
    return frame


def _started(entry: Mapping[str, object]) -> datetime | None:
    try:
        started = datetime.fromisoformat(str(entry.get("started", "")))
    except ValueError:
        return None
    return started if started.tzinfo else started.replace(tzinfo=UTC)


def _metrics(path: Path) -> dict[str, float]:
    try:
        data = json.loads(path.read_text()).get("metrics") or {}
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, int | float) and not isinstance(v, bool)}


# --- headline figures ------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One key figure: which metrics (a regex), how several combine, its limit and status."""

    key: str
    label: str
    pattern: str
    combine: Callable[[list[float]], float]
    limit: str = ""  # the limit as people read it ("< 200 ms")
    judge: Callable[[float], str] = lambda _v: "ok"  # ok | warn | bad

    def pick(self, metrics: Mapping[str, float]) -> tuple[float | None, str]:
        """The figure's value from `metrics` and the metric it came from ('' if none)."""
        names = sorted(n for n in metrics if re.fullmatch(self.pattern, n))
        if not names:
            return None, ""
        values = [float(metrics[n]) for n in names]
        value = self.combine(values)
        chosen = next((n for n, v in zip(names, values, strict=True) if v == value), names[0])
        return value, chosen


def _band_judge(band: Band, lower_is_bad: bool = False) -> Callable[[float], str]:
    def judge(value: float) -> str:
        if lower_is_bad:
            if band.critical is not None and value < band.critical:
                return "bad"
            return "warn" if band.warn is not None and value < band.warn else "ok"
        if band.critical is not None and value > band.critical:
            return "bad"
        if band.warn is not None and value > band.warn:
            return "warn"
        return "ok"

    return judge


def figures(bands: Mapping[str, Band], services: list[str]) -> list[Figure]:
    """The headline figures for a stack with `services`, limits from `bands`."""
    api, err, disk = bands["api_response_ms"], bands["error_rate_percent"], bands["disk_percent"]
    conns, hit, tls = (
        bands["db_connections_active"],
        bands["cache_hit_rate_percent"],
        bands["tls_days_left"],
    )

    def conn_judge(v: float) -> str:
        if conns.critical is not None and v > conns.critical:
            return "bad"
        low = conns.low is not None and v < conns.low
        return "warn" if low or (conns.warn is not None and v > conns.warn) else "ok"

    health = [
        Figure(
            f"health.{s}",
            s,
            rf"containers\.{re.escape(s)}\.healthy",
            min,
            "",
            lambda v: "ok" if v >= 1 else "bad",
        )
        for s in services
    ]
    return [
        *health,
        Figure(
            "api_p95", "API p95", r"http\.api\.p95_ms", max, _lt(api.warn, "ms"), _band_judge(api)
        ),
        Figure(
            "error_rate",
            "error rate",
            r"logs\.[^.]+\.error_rate_percent",
            max,
            _lt(err.warn, "percent"),
            _band_judge(err),
        ),
        Figure(
            "disk",
            "disk",
            r"host\.disk\..+\.percent",
            max,
            _lt(disk.warn, "percent"),
            _band_judge(disk),
        ),
        Figure(
            "db_connections",
            "DB connections",
            r"postgres\.connections\.total",
            max,
            f"{conns.low:g}–{conns.warn:g}" if conns.low is not None and conns.warn else "",
            conn_judge,
        ),
        Figure(
            "redis_hit_rate",
            "Redis hit rate",
            r"redis\.hit_rate(_cumulative)?_percent",
            max,
            f"≥ {units.percent(hit.low)}" if hit.low is not None else "",
            lambda v: "warn" if hit.low is not None and v < hit.low else "ok",
        ),
        Figure("redis_memory", "Redis memory", r"redis\.used_memory_bytes", max),
        Figure(
            "tls_days_left",
            "certificate",
            r"tls\..+\.days_left",
            min,
            f"≥ {units.days(tls.warn)}" if tls.warn is not None else "",
            _band_judge(tls, lower_is_bad=True),
        ),
        Figure("backup_age", "newest backup", r"backup\.rpo_seconds", min, "< 1 d", _age_judge),
    ]


def _lt(limit: float | None, kind: str) -> str:
    if limit is None:
        return ""
    return "< " + (units.millis(limit) if kind == "ms" else units.percent(limit))


def _age_judge(seconds: float) -> str:
    return "ok" if seconds < 86400 else "warn" if seconds < 2 * 86400 else "bad"


@dataclass(frozen=True)
class Headline:
    """A figure's value now, as people read it, with its status and trend."""

    figure: Figure
    value: float | None
    metric: str
    status: str  # ok | warn | bad | none (not measured by this report)
    trend: Trend

    @property
    def where(self) -> str:
        """Which of several metrics gave the value: the service of an error rate, the
        mount of the fullest disk; '' for single-metric figures."""
        if self.figure.key == "error_rate" and self.metric:
            return self.metric.split(".")[1]
        if self.figure.key == "disk" and self.metric:
            return self.metric[len("host.disk.") : -len(".percent")]
        return ""

    @property
    def text(self) -> str:
        if self.value is None:
            return "not measured"
        if self.figure.key.startswith("health."):
            return "healthy" if self.value >= 1 else "unhealthy"
        if self.figure.key == "backup_age":
            return units.duration(self.value) + " old"
        return units.metric(self.metric, self.value)


@dataclass(frozen=True)
class Trend:
    """Earlier values of one figure: the previous run's, the 7-day median, points to plot."""

    previous: float | None = None
    previous_at: datetime | None = None
    median7: float | None = None
    points: list[tuple[datetime, float]] = field(default_factory=list)
    note: str = ""

    def change(self, now: float, metric: str) -> list[str]:
        """Lines like "+0.4 % vs previous (12:03)" and "+1.2 % vs 7-day median"."""
        lines = []
        if self.previous is not None:
            when = f" ({units.timestamp(self.previous_at)})" if self.previous_at else ""
            lines.append(f"{_delta(now - self.previous, metric)} vs previous{when}")
        if self.median7 is not None:
            lines.append(f"{_delta(now - self.median7, metric)} vs 7-day median")
        return lines


def _delta(diff: float, metric: str) -> str:
    if diff == 0:
        return "±0"
    sign = "+" if diff > 0 else "−"
    if units.kind(metric) == "percent":  # percentage points, not a percentage of a percentage
        return f"{sign}{units._significant(abs(diff), 2)} pp"
    return sign + units.metric(metric, abs(diff))


def trend(figure: Figure, frame: pd.DataFrame, now: datetime) -> Trend:
    """The figure's history in `frame` (see `history`) before `now`."""
    if frame.empty:
        return Trend(note="no history yet")
    rows = frame[frame["metric"].str.fullmatch(figure.pattern)]
    if rows.empty:
        return Trend(note="no earlier value")
    per_run = rows.groupby(["run_id", "started"])["value"].agg(lambda s: figure.combine(list(s)))
    series = per_run.reset_index().sort_values("started")
    points = [
        (t.to_pydatetime(), float(v))
        for t, v in zip(series["started"], series["value"], strict=True)
    ]
    recent = [v for t, v in points if t >= now - timedelta(days=MEDIAN_DAYS)]
    last_t, last_v = points[-1]
    return Trend(
        previous=last_v,
        previous_at=last_t,
        median7=statistics.median(recent) if recent else None,
        points=points,
    )


def headline(
    metrics: Mapping[str, float],
    bands: Mapping[str, Band],
    services: list[str],
    frame: pd.DataFrame,
    now: datetime,
) -> list[Headline]:
    """Every headline figure with its value in `metrics`, status and trend."""
    found = []
    for fig in figures(bands, services):
        value, metric = fig.pick(metrics)
        status = "none" if value is None else fig.judge(value)
        found.append(Headline(fig, value, metric, status, trend(fig, frame, now)))
    return found


# --- findings from trends --------------------------------------------------------------------


def findings(
    frame: pd.DataFrame,
    metrics: Mapping[str, float],
    bands: Mapping[str, Band],
    now: datetime,
    slow_factor: float = SLOW_FACTOR,
) -> tuple[list[Finding], list[str]]:
    """Findings for what gets worse, and notes on what history is missing for them."""
    past = _Past(frame, metrics, bands, now, slow_factor)
    found: list[Finding] = []
    notes: list[str] = []
    for check in (_disk_full, _slow_queries, _error_rate, _certificates):
        more, said = check(past)
        found += more
        notes += said
    return found, notes


Check = tuple[list[Finding], list[str]]

# What gets worse is a fact of its own, apart from the live checks' verdict on the value now
# (the certificate trend is the live `tls` fact, judged by the same rule, with a date).
DISK_FORECAST = register("host_disk_forecast", "trends", "Disk full forecast").name
SLOW_RISING = register("slow_queries_rising", "trends", "Slow queries against 7-day median").name
ERRORS_RISING = register("request_error_rate_rising", "trends", "Error rate rising").name


@dataclass(frozen=True)
class _Past:
    """What every trend check reads: the history frame, this run's metrics and limits."""

    frame: pd.DataFrame
    metrics: Mapping[str, float]
    bands: Mapping[str, Band]
    now: datetime
    slow_factor: float

    def named(self, pattern: str) -> list[tuple[str, float]]:
        """This run's metrics whose whole name matches `pattern`, by name."""
        return sorted((n, float(v)) for n, v in self.metrics.items() if re.fullmatch(pattern, n))

    def points(self, metric: str, days: int) -> list[tuple[datetime, float]]:
        """Earlier values of `metric` over the last `days`, one per run (the largest), by time."""
        if self.frame.empty:
            return []
        frame = self.frame
        rows = frame[(frame["metric"] == metric) & (frame["started"] >= self.now - timedelta(days))]
        best: dict[datetime, float] = {}
        for t, v in zip(rows["started"], rows["value"], strict=True):
            when = t.to_pydatetime()
            best[when] = max(float(v), best.get(when, float("-inf")))
        return sorted(best.items())


def disk_forecast(points: list[tuple[datetime, float]], now_percent: float) -> float | None:
    """Days until 100 % by a least-squares line through (time, percent) points; None when
    usage is not growing. Points: at least two, times in any order."""
    import numpy as np

    t0 = min(t for t, _ in points)
    xs = np.array([(t - t0).total_seconds() / 86400 for t, _ in points])
    ys = np.array([v for _, v in points])
    slope = float(np.polyfit(xs, ys, 1)[0])  # percent per day
    if slope <= 0:
        return None
    return max(0.0, (100.0 - now_percent) / slope)


def _disk_full(past: _Past) -> Check:
    band = past.bands.get("disk_full_days", Band(warn=30, critical=7))
    found, notes = [], []
    for name, percent in past.named(r"host\.disk\..+\.percent"):
        mount = name[len("host.disk.") : -len(".percent")]
        points = [*past.points(name, FIT_DAYS), (past.now, percent)]
        span = points[-1][0] - points[0][0]
        if len(points) < MIN_FIT_POINTS or span < MIN_FIT_SPAN:
            had = (
                "only this run"
                if len(points) == 1
                else f"{len(points)} runs over {units.duration(span.total_seconds())}"
            )
            notes.append(
                f"disk {mount}: {had} — too little history to forecast when it is full"
                f" (needs {MIN_FIT_POINTS} runs over"
                f" {units.duration(MIN_FIT_SPAN.total_seconds())})"
            )
            continue
        days_left = disk_forecast(points, percent)
        judged = None if days_left is None else remaining(DISK_FORECAST, mount, days_left, band, "")
        if days_left is not None and judged is not None:
            found.append(
                replace(
                    judged,
                    priority=max(judged.priority, Priority.P1),  # a forecast, not an outage
                    summary=f"disk {mount} full in {units.days(days_left)} at the rate of the"
                    f" last {units.duration(span.total_seconds())} (now {units.percent(percent)})",
                    value=round(days_left, 1),
                )
            )
    return found, notes


def _slow_queries(past: _Past) -> Check:
    found, notes = [], []
    pattern = r"postgres\.statements\.slowest_mean_ms|logs\.[^.]+\.slow_query_p95_ms"
    for name, value in past.named(pattern):
        earlier = past.points(name, MEDIAN_DAYS)
        if not earlier:
            notes.append(f"{name}: no earlier value — no 7-day median yet")
            continue
        median = statistics.median(v for _, v in earlier)
        if median > 0 and value >= past.slow_factor * median:
            found.append(
                Finding(
                    SLOW_RISING,
                    "postgres" if name.startswith("postgres") else name.split(".")[1],
                    Priority.P2,
                    f"slow query mean {units.millis(value)} is {value / median:.1f}× its"
                    f" 7-day median {units.millis(median)}",
                    value,
                    round(past.slow_factor * median, 1),
                )
            )
    return found, notes


def _error_rate(past: _Past) -> Check:
    band = past.bands["error_rate_percent"]
    found, notes = [], []
    for name, value in past.named(r"logs\.[^.]+\.error_rate_percent"):
        service = name.split(".")[1]
        earlier = past.points(name, MEDIAN_DAYS)
        if not earlier:
            notes.append(f"error rate {service}: no earlier value — cannot tell whether it rises")
            continue
        median = statistics.median(v for _, v in earlier)
        rising = value > earlier[-1][1] and value > RISING_FACTOR * median
        if rising and band.warn is not None and value > band.warn:
            found.append(
                Finding(
                    ERRORS_RISING,
                    service,
                    Priority.P2,
                    f"error rate rising: {units.percent(value)} now, previous run"
                    f" {units.percent(earlier[-1][1])}, 7-day median {units.percent(median)}",
                    value,
                    band.warn,
                )
            )
    return found, notes


def _certificates(past: _Past) -> Check:
    """The same verdict as the live check (`findings.remaining`), worded as a date."""
    found = []
    for name, left in past.named(r"tls\..+\.days_left"):
        judged = remaining("tls", name.split(".")[1], left, past.bands["tls_days_left"], "")
        if judged is None:
            continue
        on = (past.now + timedelta(days=left)).strftime("%Y-%m-%d")
        wording = f"certificate expires in {units.days(left)} (on {on})"
        found.append(replace(judged, summary=wording if left > 0 else "certificate expired"))
    return found, []

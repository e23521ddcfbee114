"""The post-mortem of an incident (or of a time window): one merged UTC timeline, the impact
window, time to detect / acknowledge / mitigate / resolve, root-cause candidates, a swimlane
plot, and the runbook's post-mortem headings as Markdown next to the incident record.

Definitions (all from recorded evidence, never from memory):
    impact window   first to last 5xx answer in nginx's access log of the error episode under
                    way at detection (5xx less than 90 s apart form one episode); without an
                    incident, the episode with the most failed requests
    TTD             detection (incident opened) − impact start
    TTA             first update naming a commander − detection
    TTM             first update with status Monitoring or Resolved − impact start
    TTR             first Resolved update − impact start
A source that cannot be read is named in `missing`; the rest is built anyway.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docker import DockerClient
from docker.errors import APIError, NotFound
from docker.models.containers import Container

from netzops import logs
from netzops.containers.status import ENGINE_ERRORS, SERVICE, project_containers
from netzops.errors import BadInput
from netzops.incidents import incident as inc
from netzops.incidents import journal as jr
from netzops.incidents import recorder
from netzops.incidents import timeline as tl
from netzops.logs import live
from netzops.paths import outputs_dir
from netzops.results import Result
from netzops.targets import Target

if TYPE_CHECKING:  # matplotlib is imported when a plot is drawn, not by the runner's checks
    from netzops.plots import Chart

BEFORE = timedelta(minutes=10)  # window opened this long before the incident's start
AFTER = timedelta(minutes=2)  # and closed this long after its resolution
DEFAULT_WINDOW = timedelta(hours=24)  # no incident, no start: the runbook's last day
FAILING = {"down", "unhealthy", "error", "gap"}
FOLLOW = timedelta(minutes=10)  # what a failing event "preceded": failures this soon after
EPISODE_GAP = timedelta(seconds=90)  # 5xx further apart than this are separate episodes (ours)
LEAD_GAP = EPISODE_GAP  # failures this soon before the impact's start ran into it
SLACK = timedelta(seconds=2)  # log times (second precision) against event times (ns)


@dataclass
class Episode:
    """A run of 5xx answers with no pause longer than EPISODE_GAP."""

    first: datetime
    last: datetime
    failed: int = 0
    clients: set[str] = field(default_factory=set)


@dataclass
class Impact:
    """User-facing errors from the access log's minutes: every episode, and the one chosen
    as the incident's impact (see `choose`)."""

    first: datetime | None = None
    last: datetime | None = None
    failed: int = 0
    requests: int = 0
    clients: set[str] = field(default_factory=set)
    episodes: list[Episode] = field(default_factory=list)

    def add(self, data: dict[str, Any]) -> None:
        self.requests += int(data["requests"])
        if not data["errors_5xx"]:
            return
        first, last = jr.parse_time(data["first_5xx"]), jr.parse_time(data["last_5xx"])
        if not self.episodes or first - self.episodes[-1].last > EPISODE_GAP:
            self.episodes.append(Episode(first, last))
        episode = self.episodes[-1]
        episode.last = last
        episode.failed += int(data["errors_5xx"])
        episode.clients.update(data["clients_5xx"])

    def choose(self, detected: datetime | None) -> None:
        """The impact: the episode under way at detection (or the last one before it); with
        no detection time, the episode with the most failed requests."""
        if not self.episodes:
            return
        if detected is not None:
            before = [e for e in self.episodes if e.first <= detected + EPISODE_GAP]
            chosen = before[-1] if before else self.episodes[0]
        else:
            chosen = max(self.episodes, key=lambda e: e.failed)
        self.first, self.last = chosen.first, chosen.last
        self.failed, self.clients = chosen.failed, chosen.clients


@dataclass
class PostMortem:
    """Everything the notebook shows; `markdown` is the file written."""

    title: str
    start: datetime
    end: datetime
    record: dict[str, Any] | None
    entries: list[tl.Entry]
    lanes: dict[str, list[tuple[datetime, datetime, str]]]
    series: list[dict[str, Any]]
    impact: Impact
    missing: list[str]
    markdown: Path | None = None

    def timeline(self) -> Result:
        rows = [
            {"time": e.time, "source": e.source, "service": e.service, "event": e.event}
            for e in self.entries
        ]
        notes = [f"missing source: {m}" for m in self.missing]
        return Result.of("timeline", f"Timeline (UTC) — {self.title}", rows, notes=notes)

    def impact_result(self) -> Result:
        i = self.impact
        span = (i.last - i.first).total_seconds() if i.first and i.last else 0.0
        rows = [
            {"what": "first user-facing error", "value": _t(i.first)},
            {"what": "last user-facing error", "value": _t(i.last)},
            {"what": "duration", "value": _human(span) if i.first else "—"},
            {"what": "failed requests (5xx)", "value": f"{i.failed} of {i.requests}"},
            {"what": "distinct clients affected", "value": str(len(i.clients))},
        ]
        metrics = {
            "impact.failed_requests": float(i.failed),
            "impact.clients": float(len(i.clients)),
        }
        if i.first:
            metrics["impact.duration_s"] = span
        return Result.of("impact", "Impact window (nginx access log)", rows, metrics=metrics)

    def times(self) -> Result:
        found = response_times(self.record, self.impact.first)
        rows = [
            {"measure": k, "value": _human(v) if v is not None else "—"} for k, v in found.items()
        ]
        metrics = {
            f"incident.{k.split()[0].lower()}_s": v for k, v in found.items() if v is not None
        }
        return Result.of(
            "response_times",
            "Time to detect / acknowledge / mitigate / resolve",
            rows,
            metrics=metrics,
        )

    def candidates(self) -> Result:
        return Result.of(
            "root_cause_candidates",
            "Root-cause candidates (earliest failures first)",
            root_causes(self.entries, self.impact.first, lanes=self.lanes),
        )

    def swimlane_data(self) -> Swimlanes:
        """What the swimlane plot draws (see `Swimlanes`)."""
        i = self.impact
        return Swimlanes(
            start=self.start,
            end=self.end,
            lanes={s: list(periods) for s, periods in self.lanes.items()},
            minutes=[  # a minute the window opened within is counted, not drawn
                (minute, float(m["error_rate_percent"]), m["p95_ms"])
                for m in self.series
                if (minute := jr.parse_time(m["minute"])) >= self.start
            ],
            impact=(i.first, i.last) if i.first and i.last else None,
        )

    def plot(self) -> Chart:
        return swimlanes(self.swimlane_data(), self.title)


@dataclass(frozen=True)
class Swimlanes:
    """The swimlane plot's data, all on one UTC time axis [start, end] that every panel
    shares: per service a lane of periods (since, until, "down" | "unhealthy") from the
    journal; per access-log minute (minute start, 5xx % of requests, p95 ms or None); the
    impact window (first, last user-facing error) or None."""

    start: datetime
    end: datetime
    lanes: dict[str, list[tuple[datetime, datetime, str]]]
    minutes: list[tuple[datetime, float, float | None]]
    impact: tuple[datetime, datetime] | None


def _t(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC" if when else "—"


def _human(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def response_times(
    record: dict[str, Any] | None, impact_start: datetime | None
) -> dict[str, float | None]:
    """TTD, TTA, TTM, TTR in seconds (see the module docstring); None where unknown."""
    if not record:
        return {
            "TTD (detect)": None,
            "TTA (acknowledge)": None,
            "TTM (mitigate)": None,
            "TTR (resolve)": None,
        }
    start = impact_start or jr.parse_time(record["start"])
    detected = jr.parse_time(record["detected"])
    ups = record["updates"]

    def first(test: Any) -> datetime | None:
        return next((jr.parse_time(u["at"]) for u in ups if test(u)), None)

    acknowledged = first(lambda u: u.get("commander"))
    mitigated = first(lambda u: u["status"] in ("Monitoring", "Resolved"))
    resolved = first(lambda u: u["status"] == "Resolved")

    def since(a: datetime | None, b: datetime) -> float | None:
        return round((a - b).total_seconds(), 3) if a else None

    return {
        "TTD (detect)": since(detected, start),
        "TTA (acknowledge)": since(acknowledged, detected),
        "TTM (mitigate)": since(mitigated, start),
        "TTR (resolve)": since(resolved, start),
    }


def lead_in(
    failing: list[tl.Entry],
    impact_start: datetime,
    lanes: dict[str, list[tuple[datetime, datetime, str]]] | None = None,
) -> list[tl.Entry]:
    """The failures that ran into the impact, one per service, oldest first: a service with
    a down or unhealthy period (`lanes`) under way at the impact's start is there with the
    journal event that began the period, however long before; any other service with its
    first failure in [start − LEAD_GAP, start + SLACK]."""
    low, high = impact_start - LEAD_GAP, impact_start + SLACK
    onset: dict[str, datetime] = {}
    for service, periods in (lanes or {}).items():
        for since, until, _ in periods:
            if since <= high and until >= impact_start:
                onset[service] = min(since, onset.get(service, since))
    chosen: dict[str, tl.Entry] = {}
    for e in failing:
        who = e.service or e.source
        if who in chosen:
            continue
        if who in onset:
            if e.source == "journal" and e.time == onset[who]:
                chosen[who] = e
        elif low <= e.time <= high:
            chosen[who] = e
    return sorted(chosen.values(), key=lambda e: e.time)


def root_causes(
    entries: list[tl.Entry],
    impact_start: datetime | None,
    top: int = 5,
    lanes: dict[str, list[tuple[datetime, datetime, str]]] | None = None,
) -> list[dict[str, Any]]:
    """Up to `top` candidates, one per service: its first failing event (container down or
    unhealthy, error groups, gaps). Those that ran into the impact (`lead_in`) come first,
    oldest first — the first of them is where the incident began —, then the window's other
    failures, oldest first. Rows {"time", "service", "event",
    "into_impact" (yes | no), "preceded": failures of other services within FOLLOW after it,
    and the user impact when it came before that}."""
    failing = [e for e in entries if e.kind in FAILING]
    chain = lead_in(failing, impact_start, lanes) if impact_start else []
    in_chain = {id(e) for e in chain}
    rows: list[dict[str, Any]] = []
    named: set[str] = set()
    for e in chain + [e for e in failing if id(e) not in in_chain]:
        who = e.service or e.source
        if who in named or len(rows) == top:
            continue
        named.add(who)
        after = [f for f in failing if e.time < f.time <= e.time + FOLLOW and f.service != who]
        preceded = [f"{f.service or f.source}: {f.event[:60]}" for f in after[:3]]
        if impact_start and e.time <= impact_start + SLACK:
            preceded.append(f"user-facing errors from {impact_start:%H:%M:%S}")
        rows.append(
            {
                "time": e.time,
                "service": who,
                "event": e.event,
                "into_impact": "yes" if id(e) in in_chain else "no",
                "preceded": "; ".join(preceded) or "—",
            }
        )
    return rows


def window(
    record: dict[str, Any] | None, start: logs.When, end: logs.When
) -> tuple[datetime, datetime]:
    """The timeline's window: `start`/`end` when given; else the incident's (from before its
    start to after its resolution); with neither, the last DEFAULT_WINDOW. It ends by now
    at the latest; a start in the future or an end not after the start is BadInput."""
    now = datetime.now(UTC)
    low, high = logs.parse_when(start, now), logs.parse_when(end, now)
    if record:
        opened = min(jr.parse_time(record["start"]), jr.parse_time(record["detected"]))
        closed = jr.parse_time(record["resolved"]) + AFTER if record.get("resolved") else now
        low, high = low or opened - BEFORE, high or closed
    if low is None:
        low = now - DEFAULT_WINDOW
    if low > now:
        raise BadInput(f"start {low:%Y-%m-%d %H:%M:%S} UTC is in the future (now {now:%H:%M:%S})")
    high = high or now
    if high <= low:
        raise BadInput(f"end {high:%Y-%m-%d %H:%M:%S} is not after start {low:%Y-%m-%d %H:%M:%S}")
    return low, min(high, now)  # nothing is recorded after now: the plot's axis ends there


def _sources(
    client: DockerClient,
    target: Target,
    record: dict[str, Any] | None,
    start: datetime,
    end: datetime,
    missing: list[str],
    scrub: Callable[[str], str],
) -> list[Any]:
    """Every source as a sorted stream; a log line quoted in an entry is scrubbed (`scrub`)."""
    streams: list[Any] = [tl.updates(record)]
    where = recorder.status(target.name).journal
    path = Path(where) if where else jr.journal_path(target.name)
    if parts := tl.segments(path):  # the live journal and what logrotate moved aside
        streams.append(tl.journal(parts, start, end, missing))
    else:
        missing.append(f"event journal ({path} does not exist: start `netzops events start`)")
    ledger_path = outputs_dir() / "ledger.jsonl"
    if ledger_path.exists():
        try:
            streams.append(tl.ledger(tl.ledger_lines(ledger_path, missing), start, end))
        except OSError as exc:
            missing.append(f"ledger ({ledger_path}: {exc.strerror or exc})")
    else:
        missing.append(f"ledger ({ledger_path} does not exist)")
    try:
        found = project_containers(client, target.compose.project)
    except ENGINE_ERRORS as exc:
        missing.append(f"container logs, PostgreSQL and nginx logs (engine: {str(exc)[:120]})")
        return streams
    services = {c.labels.get(SERVICE, c.name) for c in found}
    missing += [f"logs of {s} (no container)" for s in target.services if s not in services]
    for c in found:
        service = c.labels.get(SERVICE, c.name)

        def read(c: Container = c) -> Iterator[bytes]:
            return _log_chunks(client, c, start, end, missing)

        streams += tl.logs([tl.Stream(service, c.name, read())], scrub=scrub)
        if service == "frontend":  # its access lines, read apart: each stream is read once
            streams.append(tl.access(tl.Stream(service, c.name, read())))
    return streams


def _log_chunks(
    client: DockerClient, container: Container, start: datetime, end: datetime, missing: list[str]
) -> Iterator[bytes]:
    """`docker logs --timestamps` of the window as whole-line chunks, streamed (never held
    whole); a log that cannot be read, or stops, is named in `missing` and ends early."""
    try:
        yield from live.stream(client, container, start, end)
    except NotFound:
        why = "removed since it was listed"
    except APIError as exc:
        why = "log driver cannot be read back" if live.UNREADABLE in str(exc) else str(exc)
    except ENGINE_ERRORS as exc:
        why = f"engine: {type(exc).__name__}"
    else:
        return
    note = f"logs of {container.name} ({why[:120]})"
    if note not in missing:
        missing.append(note)


def build(
    client: DockerClient,
    target: Target,
    incident: str = "",
    start: logs.When = None,
    end: logs.When = None,
) -> PostMortem:
    """Merge every source for the incident's window (or [start, end]) in one pass and write
    the Markdown; see the module docstring. BadInput for an unknown id or an empty window."""
    record, (low, high) = _inputs(target, incident, start, end)
    missing: list[str] = []
    scrub = target.scrubber()  # secrets resolved once for the samples and the Markdown
    streams = _sources(client, target, record, low, high, missing, scrub)
    entries: list[tl.Entry] = []
    series: list[dict[str, Any]] = []
    impact = Impact()
    lanes = _Lanes(target.services)
    for e in tl.merge(*streams):
        if not low <= e.time <= high:
            continue
        if e.kind == "traffic":
            series.append(e.data)
            impact.add(e.data)
            if not e.data["errors_5xx"]:
                continue
        lanes.add(e)
        entries.append(e)
    impact.choose(jr.parse_time(record["detected"]) if record else None)
    title = record["id"] if record else f"{low:%Y-%m-%d %H:%M}–{high:%H:%M} UTC"
    pm = PostMortem(title, low, high, record, entries, lanes.close(high), series, impact, missing)
    pm.markdown = write_markdown(pm, scrub)
    return pm


def check_inputs(
    target: Target, incident: str = "", start: logs.When = None, end: logs.When = None
) -> None:
    """The post-mortem notebook's parameters checked as `build` checks them, touching
    nothing (no engine, no file written): BadInput for an unknown or damaged incident, one of
    another target, a window that starts in the future or ends before it starts. The runner
    calls it before the kernel starts (the notebook's `preflight` cell)."""
    _inputs(target, incident, start, end)


def _inputs(
    target: Target, incident: str, start: logs.When, end: logs.When
) -> tuple[dict[str, Any] | None, tuple[datetime, datetime]]:
    record = inc.load(incident) if incident else None
    if record and record["target"] != target.name:
        raise BadInput(f"incident {incident} is about {record['target']}, not {target.name}")
    return record, window(record, start, end)


class _Lanes:
    """Down and unhealthy periods per service from the journal's entries."""

    def __init__(self, services: list[str]) -> None:
        self.services = services
        self.open: dict[tuple[str, str], tuple[datetime, str]] = {}
        self.done: dict[str, list[tuple[datetime, datetime, str]]] = defaultdict(list)

    def add(self, e: tl.Entry) -> None:
        if e.source != "journal" or not e.service:
            return
        who = (e.service, str(e.data.get("container")))
        if e.kind in ("down", "unhealthy") and who not in self.open:
            self.open[who] = (e.time, e.kind)
        elif e.kind in ("up", "healthy") and who in self.open:
            since, kind = self.open.pop(who)
            if e.kind == "up" or kind == "unhealthy":
                self.done[e.service].append((since, e.time, kind))
            else:
                self.open[who] = (since, kind)

    def close(self, end: datetime) -> dict[str, list[tuple[datetime, datetime, str]]]:
        for (service, _), (since, kind) in self.open.items():
            self.done[service].append((since, end, kind))
        return {s: sorted(self.done.get(s, [])) for s in self.services}


def swimlanes(data: Swimlanes, title: str) -> Chart:
    """One lane per service (down red, unhealthy amber) over 5xx rate and p95 per minute,
    on the shared time axis [data.start, data.end]."""
    from matplotlib import dates as mdates
    from matplotlib.figure import Figure

    from netzops.plots import Chart

    fig = Figure(figsize=(10, 4.2), layout="constrained")
    lanes_ax, rate_ax = fig.subplots(2, 1, sharex=True, height_ratios=[2, 1.4])
    names = list(data.lanes)
    for row, name in enumerate(names):
        for since, until, kind in data.lanes[name]:
            color = "#b00020" if kind == "down" else "#d4ac0d"
            lanes_ax.broken_barh(
                [(_num(since), _num(until) - _num(since))],
                (row - 0.4, 0.8),
                color=color,
            )
    if data.impact:
        lanes_ax.axvspan(data.impact[0], data.impact[1], color="#b00020", alpha=0.08)
    lanes_ax.set_yticks(range(len(names)), names)
    lanes_ax.set_ylim(len(names) - 0.4, -0.6)  # first service on top
    lanes_ax.set_title(f"{title}: down (red), unhealthy (amber), impact window (shaded)")
    minutes = [m for m, _, _ in data.minutes]
    rate_ax.bar(
        minutes,
        [rate for _, rate, _ in data.minutes],
        width=1 / 1440 * 0.9,
        align="edge",
        color="#b00020",
        label="5xx %",
    )
    rate_ax.set_ylabel("5xx %")
    p95_ax = rate_ax.twinx()
    p95_ax.plot(
        [m + timedelta(seconds=30) for m in minutes],
        [p95 or 0 for _, _, p95 in data.minutes],
        color="#2471a3",
        marker=".",
        label="p95 ms",
    )
    p95_ax.set_ylabel("p95 ms")
    rate_ax.set_xlim(data.start, data.end)
    rate_ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=UTC))  # type: ignore[no-untyped-call]
    return Chart(fig)


def _num(when: datetime) -> float:
    """matplotlib's date number (days since 1970-01-01 UTC)."""
    return when.timestamp() / 86400.0


def markdown(pm: PostMortem, scrub: Callable[[str], str] = str) -> str:
    """The runbook's post-mortem headings (Timeline, Root cause, Improvements, Action items),
    not yet scrubbed: `write_markdown` scrubs it with the target's secrets."""
    rec = pm.record or {}
    lines = [f"# Post-mortem: {pm.title}", ""]
    if rec:
        lines += [
            f"- Severity: {rec['severity']}; status: {rec['status']}; "
            f"commander: {rec.get('commander') or '—'}",
            f"- Detected: {_t(jr.parse_time(rec['detected']))}",
        ]
    lines += [f"- Window: {_t(pm.start)} – {_t(pm.end)}"]
    lines += [f"- {r['what'].capitalize()}: {r['value']}" for r in pm.impact_result().rows]
    lines += [f"- {r['measure']}: {r['value']}" for r in pm.times().rows]
    lines += [f"- Missing source: {m}" for m in pm.missing]
    lines += [
        "",
        "## Timeline",
        "",
        "| Time (UTC) | Source | Service | Event |",
        "|---|---|---|---|",
    ]
    for e in pm.entries:
        text = _md(e.event, scrub).replace("|", "\\|")
        lines.append(f"| {e.time:%H:%M:%S.%f}"[:-3] + f" | {e.source} | {e.service} | {text} |")
    lines += ["", "## Root cause", "", "Candidates (earliest failing events; confirm one):", ""]
    for r in pm.candidates().rows:
        lines.append(
            f"- {str(r['time'])[11:23]} {r['service']}: {_md(r['event'], scrub)} — preceded: "
            f"{_md(r['preceded'], scrub)}"
        )
    lines += [
        "",
        "## Improvements",
        "",
        "- Detection: was TTD within the 5-minute Detection "
        "budget? Which alert would have fired earlier?",
        "- Mitigation: which runbook step restored service, and could it be automated?",
        "",
        "## Action items",
        "",
        "- [ ] Owner, action, due date",
        "",
    ]
    return "\n".join(lines)


def _md(text: str, scrub: Callable[[str], str] = str) -> str:
    """Log text as Markdown shows it: scrubbed first (escaped, a secret would no longer be
    found), then one line with no HTML a viewer would run or hide (a request path or a log
    line may hold `<script>` or `<img onerror=…>`)."""
    return html.escape(scrub(text), quote=False).replace("\r", " ").replace("\n", " ")


def write_markdown(pm: PostMortem, scrub: Callable[[str], str]) -> Path:
    """outputs/incidents/<id>.postmortem.md, scrubbed with `scrub` (the target's secrets:
    log lines quoted in the timeline may hold one)."""
    folder = inc.folder()
    folder.mkdir(parents=True, exist_ok=True)
    name = (
        pm.record["id"] if pm.record else f"window-{pm.start:%Y%m%dT%H%M%S}-{pm.end:%Y%m%dT%H%M%S}"
    )
    path = folder / f"{name}.postmortem.md"
    path.write_text(scrub(markdown(pm, scrub)))
    return path

"""The summary page of a report (`netzops report daily|weekly`) and the HTML list of runs
(`netzops runs --html`): what the on-call engineer reads first, at 3 a.m., on a phone.

    1. the worst finding in one line, coloured by priority
    2. every finding of every record (and of the trends), worst first: service, what,
       value against limit, respond within, the runbook's procedure, a link to the cell
    3. the headline figures (service health, API p95, error rate, disk, DB connections,
       Redis, certificate, newest backup) with their change and a small plot
    4. the records

One small stylesheet, no framework; readable on a phone, printable. Human units (see
`netzops.units`); the raw numbers stay in the side-cars.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netzops import units
from netzops.findings import Finding
from netzops.runner import trends
from netzops.targets import Target

if TYPE_CHECKING:
    import pandas as pd

COLORS = {"P0": "#b00020", "P1": "#d35400", "P2": "#9a7d0a", "P3": "#2471a3"}

CSS = """
:root{--fg:#1c2330;--muted:#5d6775;--line:#dde2e8;--bg:#f6f7f9;--ok:#1e8449;--warn:#b7950b;
--bad:#c0392b}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
margin:0 auto;max-width:1100px;padding:12px 16px 40px;background:#fff}
h1{font-size:1.35em;margin:.2em 0}h2{font-size:1.1em;margin:1.4em 0 .5em;
border-bottom:2px solid var(--line);padding-bottom:.2em}
.meta{color:var(--muted);margin:.2em 0 .8em}
.verdict{padding:.7em 1em;border-radius:6px;color:#fff;font-size:1.1em;margin:.6em 0}
.verdict.ok{background:var(--ok)}
.badge{display:inline-block;min-width:2.2em;text-align:center;color:#fff;border-radius:4px;
padding:0 .35em;font-weight:600;font-size:.9em}
table{border-collapse:collapse;width:100%}
th,td{padding:.35em .5em;border-bottom:1px solid var(--line);vertical-align:top;text-align:left}
th{font-size:.85em;color:var(--muted);font-weight:600;white-space:nowrap}
td.num,th.num{text-align:right;white-space:nowrap}
td.nowrap{white-space:nowrap}
details summary{cursor:pointer;color:var(--muted)}
ol{margin:.3em 0;padding-left:1.3em}
.strip{display:grid;grid-template-columns:repeat(auto-fill,minmax(165px,1fr));gap:8px}
.card{border:1px solid var(--line);border-left:5px solid var(--line);border-radius:6px;
padding:.45em .6em;background:var(--bg)}
.card.ok{border-left-color:var(--ok)}.card.warn{border-left-color:var(--warn)}
.card.bad{border-left-color:var(--bad)}.card.none{opacity:.7}
.card .label{font-size:.8em;color:var(--muted)}
.card .value{font-size:1.25em;font-weight:600;white-space:nowrap}
.card .limit,.card .change{font-size:.78em;color:var(--muted)}
.card svg{display:block;margin-top:2px}
.note{color:var(--muted);font-size:.9em}
a{color:#1f5f99}
@media (max-width:640px){body{font-size:14px;padding:8px}
 table.findings thead{display:none}
 table.findings tr{display:block;border-bottom:1px solid var(--line);padding:.3em 0}
 table.findings td{display:block;border:0;padding:.1em 0;text-align:left}
 table.findings td:first-child,table.findings td:nth-child(2){display:inline-block;
 margin-right:.5em;font-weight:600}}
@media print{body{max-width:none}.card{break-inside:avoid}details{display:block}
 details>summary{display:none}a{color:inherit}}
"""


@dataclass(frozen=True)
class RecordView:
    """One record of the report as the page shows it (from its side-car and notebook)."""

    name: str
    status: str
    worst: str | None
    html: Path
    side: dict[str, Any]
    #: (check, subject) of each finding a cell's result lists, and (check, "") of each
    #: cell's result → the id of the first such notebook cell (see `cell_of`)
    cells: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def findings(self) -> list[Finding]:
        return Finding.read_all(self.side.get("findings", []), self.name)

    @property
    def metrics(self) -> dict[str, float]:
        return dict(self.side.get("metrics") or {})


def load_record(name: str, status: str, worst: str | None, sidecar: Path) -> RecordView:
    """The record whose side-car is `sidecar` (its .html and .ipynb beside it)."""
    try:
        side = json.loads(sidecar.read_text())
    except (OSError, ValueError):
        side = {}
    return RecordView(
        name,
        status,
        worst,
        sidecar.with_suffix(".html"),
        side,
        _cells(sidecar.with_suffix(".ipynb")),
    )


def _cells(ipynb: Path) -> dict[tuple[str, str], str]:
    """Where the record's cells show their results: (check, subject) of every finding a
    result lists, and (check, "") of every result → the id of the first such cell."""
    from netzops.results import MIME_TYPE

    try:
        nb = json.loads(ipynb.read_text())
    except (OSError, ValueError):
        return {}
    found: dict[tuple[str, str], str] = {}
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data", {}).get(MIME_TYPE)
            if not data or not cell.get("id"):
                continue
            found.setdefault((str(data.get("check")), ""), str(cell["id"]))
            for f in data.get("findings") or []:
                if isinstance(f, dict):
                    key = (str(f.get("check")), str(f.get("subject")))
                    found.setdefault(key, str(cell["id"]))
    return found


def cell_of(record: RecordView, finding: Finding) -> str | None:
    """The id of the cell that shows `finding`: the first whose result lists it (an alerts
    record shows the sweep's findings in its responses cell), else the first cell whose
    result is the finding's check; None when no cell shows either."""
    return record.cells.get((finding.check, finding.subject)) or record.cells.get(
        (finding.check, "")
    )


@dataclass(frozen=True)
class Item:
    """A finding on the page: where it came from and how to respond."""

    finding: Finding
    record: str
    link: str
    also: tuple[str, ...] = ()
    trend: bool = False


def items(records: Sequence[RecordView], folder: Path, extra: Iterable[Finding] = ()) -> list[Item]:
    """Every finding once (the same finding in several records is listed with `also`),
    trend findings after the records' own at the same priority, unless a record already
    judged that fact (check and subject); worst first."""
    seen: dict[tuple[str, str, str, str], Item] = {}
    for rec in records:
        base = os.path.relpath(rec.html, folder)
        for f in rec.findings:
            key = (f.check, f.subject, f.priority.name, re.sub(r"[\d.]+", "#", f.summary))
            if key in seen:
                old = seen[key]
                if rec.name != old.record and rec.name not in old.also:
                    seen[key] = Item(old.finding, old.record, old.link, (*old.also, rec.name))
                continue
            cell = cell_of(rec, f)
            seen[key] = Item(f, rec.name, base + (f"#cell-id={cell}" if cell else ""))
    judged = {(i.finding.check, i.finding.subject) for i in seen.values()}
    trend = [f for f in extra if (f.check, f.subject) not in judged]
    ordered = list(seen.values()) + [Item(f, "trends", "#trends", trend=True) for f in trend]
    return sorted(ordered, key=lambda i: (i.finding.priority, i.trend))


def _badge(name: str) -> str:
    """A priority badge with inline styles (it reads the same in records and mails)."""
    return (
        f'<span class="badge" style="background:{COLORS.get(name, "#777")};color:#fff;'
        f'border-radius:4px;padding:0 .35em;font-weight:600">{name}</span>'
    )


def _esc(text: object) -> str:
    return html.escape(str(text))


def unit_of(finding: Finding) -> str:
    """The unit of a finding's value, read from its summary (`units.finding_unit`)."""
    return units.finding_unit(finding.summary, finding.value)


def value_text(finding: Finding) -> str:
    """ "14.6 % (limit 5 %)" — the finding's value against its threshold, in its unit."""
    kind = unit_of(finding)
    value, limit = units.in_unit(finding.value, kind), units.in_unit(finding.threshold, kind)
    return f"{value} (limit {limit})" if value and limit else value


def finding_text(finding: Finding) -> str:
    """The finding's summary in human units (`units.finding_text`)."""
    return units.finding_text(finding.summary, finding.value)


def _procedure(finding: Finding) -> str:
    from netzops.triage.response import procedure_for

    proc = procedure_for(finding)
    within = finding.priority.response
    if proc is None:
        return _esc(within)
    steps = "".join(f"<li>{_esc(s)}</li>" for s in proc.steps)
    return f"{_esc(within)}<details><summary>{_esc(proc.title)}</summary><ol>{steps}</ol></details>"


def findings_html(found: Sequence[Item]) -> str:
    if not found:
        return '<p class="verdict ok">✔ No findings in any record.</p>'
    rows = []
    for i in found:
        f = i.finding
        source = f'<a href="{_esc(i.link)}">{_esc(i.record)}</a>'
        if i.also:
            source += f'<br><span class="note">also in {_esc(", ".join(i.also))}</span>'
        rows.append(
            f'<tr data-check="{_esc(f.check)}"><td>{_badge(f.priority.name)}</td>'
            f"<td>{_esc(f.subject)}</td>"
            f"<td>{_esc(finding_text(f))}</td><td class=num>{_esc(value_text(f))}</td>"
            f"<td>{_procedure(f)}</td><td>{source}</td></tr>"
        )
    return (
        '<table class="findings"><thead><tr><th>priority</th><th>service</th><th>finding</th>'
        '<th class="num">value</th><th>response</th><th>record</th></tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table>"
    )


def verdict_html(found: Sequence[Item]) -> str:
    if not found:
        return '<p class="verdict ok">✔ All clear: no findings.</p>'
    top = found[0].finding
    count = sum(1 for i in found if i.finding.priority == top.priority)
    more = f" (+{count - 1} more {top.priority.name})" if count > 1 else ""
    return (
        f'<p class="verdict" style="background:{COLORS[top.priority.name]}">'
        f"<b>{top.priority.name}</b> · {_esc(top.subject)}: {_esc(finding_text(top))}{more} — "
        f"{_esc(top.priority.response)}</p>"
    )


def failed_html(records: Sequence[RecordView], folder: Path) -> str:
    """A line naming the records whose run failed (their findings are incomplete)."""
    failed = [r for r in records if r.status == "failed"]
    if not failed:
        return ""
    links = ", ".join(
        f'<a style="color:#fff" href="{_esc(os.path.relpath(r.html, folder))}">{_esc(r.name)}</a>'
        for r in failed
    )
    return (
        f'<p class="verdict" style="background:{COLORS["P0"]}">Run failed: {links} — '
        "its checks after the failing cell did not run; open the record.</p>"
    )


def sparkline(points: Sequence[tuple[datetime, float]], width: int = 150, height: int = 30) -> str:
    """A small inline SVG line of the values (oldest left), the last point marked."""
    if not points:
        return ""
    values = [v for _, v in points]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = (width - 6) / max(1, len(values) - 1)
    xy = [
        (3 + i * step, height - 3 - (v - low) / span * (height - 6)) for i, v in enumerate(values)
    ]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    x, y = xy[-1]
    return (
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="trend of {len(values)} runs"><polyline points="{line}" fill="none" '
        f'stroke="#1f5f99" stroke-width="1.5"/><circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" '
        'fill="#1f5f99"/></svg>'
    )


def headline_html(
    figures: Sequence[trends.Headline], now: datetime, with_notes: bool = True
) -> str:
    cards = []
    for h in figures:
        change = ""
        plot = ""
        if h.value is not None:
            lines = h.trend.change(h.value, h.metric) or ([h.trend.note] if with_notes else [])
            change = "<br>".join(_esc(line) for line in lines if line)
            plot = sparkline([*h.trend.points, (now, h.value)]) if h.trend.points else ""
        limit = f'<div class="limit">limit {_esc(h.figure.limit)}</div>' if h.figure.limit else ""
        cards.append(
            f'<div class="card {h.status}" data-figure="{_esc(h.figure.key)}">'
            f'<div class="label" title="{_esc(h.metric)}">{_esc(h.figure.label)}'
            + (f" · {_esc(h.where)}" if h.where else "")
            + "</div>"
            f'<div class="value">{_esc(h.text)}</div>{limit}'
            f'<div class="change">{change}</div>{plot}</div>'
        )
    return f'<div class="strip">{"".join(cards)}</div>'


def _rank(record: RecordView) -> tuple[int, str]:
    if record.status == "failed":
        return (-1, record.name)
    return (int(record.worst[1]) if record.worst else 9, record.name)


def records_html(records: Sequence[RecordView], folder: Path, now: datetime) -> str:
    """The records, failed first, then by their worst finding."""
    rows = []
    for r in sorted(records, key=_rank):
        worst = "failed" if r.status == "failed" else (r.worst or "ok")
        badge = _badge(worst) if worst in COLORS else _esc(worst)
        took = units.duration(float(r.side.get("duration_s", 0)))
        started = r.side.get("started")
        when = units.timestamp(datetime.fromisoformat(started), now) if started else ""
        rows.append(
            f'<tr data-run="{_esc(r.side.get("run_id", ""))}">'
            f'<td><a href="{_esc(os.path.relpath(r.html, folder))}">{_esc(r.name)}</a></td>'
            f"<td>{_esc(r.status)}</td><td>{badge}</td>"
            f"<td class=num>{len(r.side.get('findings', []))}</td>"
            f"<td class=num>{_esc(when)}</td><td class=num>{_esc(took)}</td></tr>"
        )
    return (
        "<table><thead><tr><th>record</th><th>status</th><th>worst</th>"
        '<th class="num">findings</th><th class="num">started</th><th class="num">took</th>'
        "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def merged_metrics(records: Sequence[RecordView]) -> dict[str, float]:
    """The metrics of all records; a later record's value wins (the alerts sweep last)."""
    merged: dict[str, float] = {}
    for r in records:
        merged.update(r.metrics)
    return merged


def history_of(
    target: Target, records: Sequence[RecordView], started: datetime, root: Path | None = None
) -> pd.DataFrame:
    """The target's history before this report (its own runs left out)."""
    exclude = frozenset(str(r.side.get("run_id")) for r in records)
    return trends.history(target.name, root, exclude=exclude, now=started)


def report_findings(
    target: Target,
    records: Sequence[RecordView],
    started: datetime,
    folder: Path,
    root: Path | None = None,
) -> list[Item]:
    """The findings the summary page lists (records' and trends'), worst first."""
    frame = history_of(target, records, started, root)
    more, _ = trends.findings(frame, merged_metrics(records), target.bands, started)
    return items(records, folder, more)


def page(
    title: str,
    description: str,
    target: Target,
    started: datetime,
    records: Sequence[RecordView],
    folder: Path,
    root: Path | None = None,
) -> str:
    """The whole summary page (a self-contained HTML document)."""
    frame = history_of(target, records, started, root)
    metrics = merged_metrics(records)
    figures = trends.headline(metrics, target.bands, list(target.services), frame, started)
    more, notes = trends.findings(frame, metrics, target.bands, started)
    found = items(records, folder, more)
    if frame.empty:
        history = (
            f"No history yet: this is the first report for {target.name} in these records, "
            "so there is nothing to compare with. Changes and trends appear from the next run."
        )
    else:
        first = frame["started"].min().to_pydatetime()
        history = (
            f"Compared with {frame['run_id'].nunique()} earlier runs since "
            f"{units.timestamp(first, started)} ({units.ago(first, started)})."
        )
    notes_html = "".join(f"<li>{_esc(n)}</li>" for n in notes)
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_esc(title)} — {_esc(target.name)}</title><style>{CSS}</style></head><body>"
        f"<h1>{_esc(title)} — {_esc(target.name)}</h1>"
        f'<p class="meta">{_esc(description)} · started {units.timestamp(started)} UTC '
        f"({_esc(started.strftime('%Y-%m-%d'))})</p>"
        f"{failed_html(records, folder)}{verdict_html(found)}"
        f'<h2 id="findings">Findings ({len(found)})</h2>{findings_html(found)}'
        f'<h2 id="figures">Key figures</h2>{headline_html(figures, started, not frame.empty)}'
        f'<h2 id="trends">Trends</h2><p class="history">{_esc(history)}</p>'
        + (f'<ul class="note">{notes_html}</ul>' if notes_html else "")
        + f'<h2 id="records">Records</h2>{records_html(records, folder, started)}'
        "</body></html>"
    )


def runs_html(entries: Sequence[Mapping[str, Any]], root: Path, out: Path) -> str:
    """Ledger entries as an HTML page (newest first) with links to their records."""
    now = datetime.now(UTC)
    rows = []
    for e in sorted(entries, key=lambda e: str(e.get("started")), reverse=True):
        started = datetime.fromisoformat(str(e["started"]))
        page_html = next((k for k in e.get("files") or {} if k.endswith(".html")), None)
        link = _esc(os.path.relpath(root / page_html, out.parent)) if page_html else ""
        name = f'<a href="{link}">{_esc(e["notebook"])}</a>' if link else _esc(e["notebook"])
        worst = e.get("worst")
        badge = _badge(str(worst)) if worst in COLORS else _esc(worst or "ok")
        rows.append(
            f'<tr><td class=nowrap title="{_esc(e["started"])}">'
            f"{_esc(units.timestamp(started, now))}"
            f'<br><span class="note">{_esc(units.ago(started, now))}</span></td>'
            f"<td>{_esc(e['target'])}</td><td>{name}</td><td>{_esc(e['status'])}</td>"
            f"<td>{badge}</td><td class=num>{e.get('findings', 0)}</td>"
            f"<td class=num>{_esc(units.duration(float(e.get('duration_s') or 0)))}</td>"
            f"<td><code>{_esc(e['run_id'])}</code></td></tr>"
        )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>netzops runs</title><style>{CSS}</style></head><body><h1>Runs</h1>"
        f'<p class="meta">{len(rows)} runs from {_esc(str(root / "ledger.jsonl"))}</p>'
        "<table><thead><tr><th>started</th><th>target</th><th>notebook</th><th>status</th>"
        '<th>worst</th><th class="num">findings</th><th class="num">took</th><th>run</th></tr>'
        "</thead><tbody>" + "".join(rows) + "</tbody></table></body></html>"
    )


_BODY = re.compile(r"<body[^>]*>")


def with_banner(page: str, findings: Sequence[Finding], limit: int = 5) -> str:
    """A record's HTML with its findings, worst first, at the top of its body (inline
    styles: the record keeps nbconvert's stylesheet), so the worst finding is in the first
    screen however long the record is."""
    match = _BODY.search(page)
    if match is None:
        return page
    ordered = sorted(findings, key=lambda f: f.priority)
    if not ordered:
        banner = (
            '<div class="netzops-banner" style="margin:12px 24px;padding:.5em .8em;'
            'border-radius:6px;background:#1e8449;color:#fff;font:15px system-ui,sans-serif">'
            "✔ No findings in this record.</div>"
        )
    else:
        rows = "".join(
            f'<li style="margin:.15em 0">{_badge(f.priority.name)} <b>{_esc(f.subject)}</b>: '
            f"{_esc(finding_text(f))} — {_esc(f.priority.response)}</li>"
            for f in ordered[:limit]
        )
        more = len(ordered) - limit
        tail = f'<li style="list-style:none">… and {more} more below</li>' if more > 0 else ""
        color = COLORS[ordered[0].priority.name]
        banner = (
            f'<div class="netzops-banner" style="margin:12px 24px;padding:.5em .8em;'
            f'border:2px solid {color};border-radius:6px;font:15px system-ui,sans-serif">'
            f"<b>{len(ordered)} finding{'s' if len(ordered) != 1 else ''}, worst first</b>"
            f'<ul style="margin:.3em 0;padding-left:1.2em">{rows}{tail}</ul></div>'
        )
    return page[: match.end()] + banner + page[match.end() :]

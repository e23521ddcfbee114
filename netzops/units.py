"""Human units for everything a person reads (HTML, JupyterLab, text, mails): sizes in IEC
units as `df -h` and `docker stats` print them, durations, percentages, relative times and
short timestamps. Raw numbers stay in side-cars and `to_frame()`.

The unit of a value comes from its name (a row's column or a metric's last dotted part):

    *_bytes, used_memory*, maxmemory    → size      21860352 → "21 MiB"
    *_ms                                → duration  369.0 → "369 ms"
    *_s, *_seconds, seconds             → duration  413.9 → "6 min 54 s"
    *_percent, percent, *_pct           → percent   14.62 → "14.6 %"
    *days_left, *_days                  → days      90.0 → "90 days"
    ISO 8601 text (2026-11-30T12:03:59Z) → timestamp "12:03" today, "Nov 29 12:03" this year

`cell(name, value)` gives the text and whether it is a number (right-aligned) or text
(left-aligned); `table_html` and `table_text` lay rows out with it.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import humanize

_ISO = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$")
_CODES = ("_num", "_id", "version", "pid", "port", "status", "code", "year")
_SIZE_NAMES = {"used_memory", "used_memory_peak", "used_memory_rss", "maxmemory"}


def size(n: float) -> str:
    """Bytes in IEC units, whole above 10 as `df -h` does: 21860352 → "21 MiB",
    270553174016 → "252 GiB", 1628272 → "1.6 MiB", 48 → "48 B"."""
    if abs(n) < 1024:
        return f"{n:.0f} B"
    text = humanize.naturalsize(n, binary=True, format="%.1f")
    if abs(float(text.split(" ", 1)[0])) >= 10:
        text = humanize.naturalsize(n, binary=True, format="%.0f")
    return text


def duration(seconds: float) -> str:
    """A duration, two units at most: 0.0004 → "0.4 ms", 0.369 → "369 ms", 2.5 → "2.5 s",
    413.9 → "6 min 54 s", 11520 → "3 h 12 min", 187200 → "2 d 4 h"."""
    s = abs(seconds)
    sign = "-" if seconds < 0 else ""
    if s < 1:
        ms = s * 1000
        return f"{sign}{ms:.1f} ms" if ms < 10 and ms != int(ms) else f"{sign}{ms:.0f} ms"
    if s < 60:
        return f"{sign}{s:.1f} s" if s < 10 else f"{sign}{s:.0f} s"
    whole = round(s)
    for big, big_name, small, small_name in (
        (86400, "d", 3600, "h"),
        (3600, "h", 60, "min"),
        (60, "min", 1, "s"),
    ):
        if whole >= big:
            first, rest = divmod(whole, big)
            second = rest // small
            return f"{sign}{first} {big_name}" + (f" {second} {small_name}" if second else "")
    raise AssertionError("unreachable")  # pragma: no cover


def millis(ms: float) -> str:
    """Milliseconds as a duration: 6.7 → "6.7 ms", 1500 → "1.5 s"."""
    return duration(ms / 1000)


def percent(p: float) -> str:
    """A percentage with three significant digits: 14.62 → "14.6 %", 0.94 → "0.94 %",
    98.78 → "98.8 %", 100 → "100 %", 0 → "0 %"."""
    if p == 0:
        return "0 %"
    if abs(p) < 0.01:
        return "< 0.01 %" if p > 0 else "> -0.01 %"
    return f"{_significant(p, 3)} %"


def days(n: float) -> str:
    """A count of days: 90.0 → "90 days", 1 → "1 day", 2.46 → "2.5 days"."""
    text = _significant(n, 2) if abs(n) < 10 else f"{n:.0f}"
    return f"{text} day" if text == "1" else f"{text} days"


def number(x: float) -> str:
    """A plain number: 1074 → "1,074", 8.284 → "8.28", 0.5 → "0.5"."""
    if isinstance(x, int) or float(x).is_integer():
        return humanize.intcomma(int(x))
    if abs(x) >= 100:
        return humanize.intcomma(round(x))
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _significant(x: float, digits: int) -> str:
    if x == 0:
        return "0"
    places = max(0, digits - 1 - math.floor(math.log10(abs(x))))
    return f"{round(x, places):.{places}f}".rstrip("0").rstrip(".") if places else f"{x:.0f}"


def ago(when: datetime, now: datetime | None = None) -> str:
    """A relative time: "3 minutes ago", "2 days ago" ("in 5 minutes" for the future)."""
    now = now or datetime.now(UTC)
    return str(humanize.naturaltime(_aware(when), when=_aware(now)))


def timestamp(when: datetime, now: datetime | None = None) -> str:
    """A short UTC timestamp: "12:03" today, "Nov 29 12:03" this year, else "2025-11-29 12:03"."""
    now = _aware(now or datetime.now(UTC)).astimezone(UTC)
    when = _aware(when).astimezone(UTC)
    if when.date() == now.date():
        return when.strftime("%H:%M")
    if when.year == now.year:
        return when.strftime("%b %d %H:%M")
    return when.strftime("%Y-%m-%d %H:%M")


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_time(text: str) -> datetime | None:
    """`text` as a datetime when it is ISO 8601 (a timestamp column), else None."""
    if not _ISO.match(text.strip()):
        return None
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def kind(name: str) -> str:
    """The unit of a column or metric by its name: size, ms, seconds, percent, days, or ''."""
    last = name.rsplit(".", 1)[-1].lower()
    if last.endswith("_bytes") or last == "bytes" or last in _SIZE_NAMES:
        return "size"
    if last.endswith("_ms") or last == "ms":
        return "ms"
    if last.endswith(("_s", "_seconds")) or last in ("seconds", "duration_s"):
        return "seconds"
    if last.endswith(("_percent", "_pct")) or last == "percent":
        return "percent"
    if last.endswith(("days_left", "_days")):
        return "days"
    return ""


_FORMAT = {"size": size, "ms": millis, "seconds": duration, "percent": percent, "days": days}


def metric(name: str, value: float) -> str:
    """A metric's value in its unit, from its name: ("host.disk./.percent", 23.1) → "23.1 %"."""
    return _FORMAT.get(kind(name), number)(value)


def label(name: str) -> str:
    """A column name for people: "memory_bytes" → "memory", "p95_ms" → "p95",
    "days_left" → "days left", "cpu_percent" → "cpu %"."""
    for suffix, shown in (
        ("_bytes", ""),
        ("_ms", ""),
        ("_seconds", ""),
        ("_s", ""),
        ("_percent", " %"),
        ("_pct", " %"),
    ):
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)] + shown
            break
    return name.replace("_", " ")


@dataclass(frozen=True)
class Cell:
    """One value as people read it: `text`, and `numeric` for right alignment."""

    text: str
    numeric: bool = False
    items: tuple[str, ...] | None = None  # a list value, one entry per item
    title: str = ""  # the full value where `text` shortens it (a timestamp)


def cell(name: str, value: Any, now: datetime | None = None) -> Cell:
    """`value` of column `name` in human units (see the module docstring)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return Cell("")
    if isinstance(value, bool):
        return Cell("yes" if value else "no")
    if isinstance(value, int | float):
        if name.lower().endswith(_CODES) and float(value).is_integer():
            return Cell(str(int(value)), numeric=True)  # an identifier: no digit grouping
        return Cell(metric(name, value), numeric=True)
    if isinstance(value, timedelta):
        return Cell(duration(value.total_seconds()), numeric=True)
    if isinstance(value, datetime):
        return Cell(timestamp(value, now), title=value.isoformat())
    if isinstance(value, date):
        return Cell(value.isoformat())
    if isinstance(value, Mapping):
        items = tuple(f"{k}: {cell(str(k), v, now).text}" for k, v in value.items())
        return Cell("; ".join(items), items=items)
    if isinstance(value, list | tuple | set | frozenset):
        items = tuple(cell(name, v, now).text for v in value)
        return Cell(", ".join(items), items=items)
    text = str(value)
    when = parse_time(text)
    if when is not None:
        return Cell(timestamp(when, now), title=text)
    return Cell(text)


_TABLE_CSS = "border-collapse:collapse;font-size:.9em"
_TH = "padding:.2em .6em;border-bottom:1px solid #999;text-align:{align};white-space:nowrap"
_TD = "padding:.2em .6em;border-bottom:1px solid #ddd;vertical-align:top;text-align:{align}"


def table_html(rows: Sequence[Mapping[str, Any]], now: datetime | None = None) -> str:
    """Rows as an HTML table in human units: text left, numbers right, lists as lists,
    timestamps short (the full one in the cell's title). Inline styles, so it reads the
    same in JupyterLab, nbconvert records and mails."""
    columns = _columns(rows)
    cells = [[cell(c, row.get(c), now) for c in columns] for row in rows]
    numeric = [all(r[i].numeric or not r[i].text for r in cells) for i in range(len(columns))]
    head = "".join(
        f'<th style="{_TH.format(align="right" if numeric[i] else "left")}">'
        f"{html.escape(label(c))}</th>"
        for i, c in enumerate(columns)
    )
    body = "".join(
        "<tr>" + "".join(_td(c, numeric[i]) for i, c in enumerate(r)) + "</tr>" for r in cells
    )
    return (
        f'<table class="netzops-table" style="{_TABLE_CSS}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def _td(c: Cell, numeric: bool) -> str:
    style = _TD.format(align="right" if numeric else "left")
    if numeric or c.title:
        style += ";white-space:nowrap"
    title = f' title="{html.escape(c.title)}"' if c.title else ""
    if c.items is not None:
        items = "".join(f"<li>{html.escape(i)}</li>" for i in c.items)
        content = f'<ul style="margin:0;padding-left:1.2em">{items}</ul>' if items else ""
    else:
        content = html.escape(c.text)
    return f'<td style="{style}"{title}>{content}</td>'


def table_text(rows: Sequence[Mapping[str, Any]], now: datetime | None = None) -> str:
    """Rows as a plain-text table in human units: text left, numbers right."""
    columns = _columns(rows)
    cells = [[cell(c, row.get(c), now) for c in columns] for row in rows]
    numeric = [all(r[i].numeric or not r[i].text for r in cells) for i in range(len(columns))]
    heads = [label(c) for c in columns]
    widths = [max([len(heads[i])] + [len(r[i].text) for r in cells]) for i in range(len(columns))]

    def line(texts: list[str]) -> str:
        return "  ".join(
            t.rjust(widths[i]) if numeric[i] else t.ljust(widths[i]) for i, t in enumerate(texts)
        ).rstrip()

    return "\n".join([line(heads)] + [line([c.text for c in r]) for r in cells])


def _columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


# --- finding summaries ("error rate % 14.62 > 5" → "error rate 14.6 % > 5 %") -------------

_COMPARED = re.compile(
    r"^(?P<what>.+?) (?P<value>-?[\d.]+) (?P<op>[<>]) (?P<limit>-?[\d.]+)(?P<rest>( \(.*\))?)$"
)


def finding_unit(summary: str, value: float | str | None = None) -> str:
    """The unit of a finding's value, read from its summary: "error rate % 14.6 > 5" and
    "… 9.5 % …" are percent, "… 369 ms" milliseconds, "… 12 days" days; else ''."""
    match = _COMPARED.match(summary)
    if match:
        what = match["what"]
        return "percent" if "%" in what else "ms" if what.endswith(" ms") else ""
    number = f"{value:g}" if isinstance(value, int | float) else None
    for kind, pattern in (("percent", r" ?%"), ("ms", r" ?ms\b"), ("days", r" days?\b")):
        if number and re.search(rf"(?<![\d.]){re.escape(number)}{pattern}", summary):
            return kind
    return ""


def in_unit(value: float | str | None, kind: str) -> str:
    """`value` in the unit `kind` (size, ms, seconds, percent, days, '' for a number)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    return _FORMAT.get(kind, number)(float(value))


def finding_text(summary: str, value: float | str | None = None) -> str:
    """A finding's summary in human units: "error rate % 14.62 > 5" → "error rate 14.6 % >
    5 %", "disk use % 23.1 > 80 (last 5 minutes)" keeps its tail; others as written."""
    match = _COMPARED.match(summary)
    if not match:
        return summary
    kind = finding_unit(summary, value)
    what = match["what"].removesuffix(" %").removesuffix(" ms").strip()
    shown, limit = (in_unit(float(match[k]), kind) for k in ("value", "limit"))
    return f"{what} {shown} {match['op']} {limit}{match['rest']}"

"""Results: what every check returns. A result shows itself in JupyterLab and HTML
reports, converts to a DataFrame and serializes to JSON for the run's side-car record."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from netzops import units
from netzops.findings import Finding, worst

if TYPE_CHECKING:
    import pandas as pd

#: Custom MIME type carrying a result's JSON in notebook outputs; the runner collects it.
MIME_TYPE = "application/vnd.netzops.result+json"

_BADGE = {"P0": "#b00020", "P1": "#d35400", "P2": "#b7950b", "P3": "#2471a3"}


def _plain(value: Any) -> Any:
    """A JSON-safe form of a row value: strict JSON, so NaN and ±Infinity become None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def json_safe(value: Any) -> Any:
    """`value` as strict JSON can hold it (`allow_nan=False`): non-finite floats become None,
    datetimes ISO text, timedeltas seconds, other objects their str."""
    return _plain(value)


def finite_metrics(metrics: Mapping[str, Any]) -> tuple[dict[str, float], list[str]]:
    """The finite numeric metrics, and the names of those left out (NaN, ±Infinity, not a
    number): a metric is a number or absent, never a token strict JSON readers reject."""
    kept, left = {}, []
    for name, value in metrics.items():
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        if number is not None and math.isfinite(number):
            kept[str(name)] = float(number) if isinstance(number, float) else number
        else:
            left.append(str(name))
    return kept, left


def as_row(record: Any) -> dict[str, Any]:
    """A dataclass instance or mapping as a plain row."""
    if is_dataclass(record) and not isinstance(record, type):
        return {k: _plain(v) for k, v in asdict(record).items()}
    if isinstance(record, Mapping):
        return {str(k): _plain(v) for k, v in record.items()}
    raise TypeError(f"cannot make a row of {type(record).__name__}")


@dataclass
class Result:
    """Rows of one check, its findings, its metrics (dotted name → number) and actions."""

    check: str
    title: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    actions: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Shown instead of "✔ no findings" when the rows carry findings listed elsewhere
    #: (a sweep summary, the escalation table).
    verdict: str | None = None

    def __post_init__(self) -> None:
        self.metrics, left = finite_metrics(self.metrics)
        if left:
            self.notes.append(
                f"Left out, not a finite number: {', '.join(sorted(left))} (a counter reset, "
                "an empty interval or a value the server could not compute)."
            )

    @classmethod
    def of(
        cls,
        check: str,
        title: str,
        records: Iterable[Any] = (),
        findings: Iterable[Finding] = (),
        metrics: Mapping[str, float] | None = None,
        notes: Iterable[str] = (),
    ) -> Result:
        return cls(
            check=check,
            title=title,
            rows=[as_row(r) for r in records],
            findings=list(findings),
            metrics=dict(metrics or {}),
            notes=list(notes),
        )

    @property
    def ok(self) -> bool:
        """True when no finding is more urgent than P3 (informational)."""
        top = worst(self.findings)
        return top is None or top.name == "P3"

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.rows)

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "title": self.title,
            "rows": self.rows,
            "findings": [f.to_dict() for f in self.findings],
            "metrics": self.metrics,
            "actions": self.actions,
            "notes": self.notes,
        }

    def _repr_html_(self) -> str:
        parts = [f"<h4>{html.escape(self.title)}</h4>"]
        if self.findings:
            ordered = sorted(self.findings, key=lambda f: f.priority)
            items = "".join(_finding_html(f) for f in ordered)
            parts.append(f"<ul>{items}</ul>")
        elif self.verdict is not None:
            parts.append(f"<p>{html.escape(self.verdict)}</p>")
        else:
            parts.append("<p>✔ no findings</p>")
        if self.rows:
            parts.append(units.table_html(self.rows))  # human units; raw in to_frame()
        parts.extend(f"<p><em>{html.escape(n)}</em></p>" for n in self.notes)
        return "\n".join(parts)

    def __str__(self) -> str:
        lines = [self.title]
        lines += [
            f"  [{f.priority.name}] {f.subject}: {units.finding_text(f.summary, f.value)}"
            for f in self.findings
        ]
        if self.rows:
            lines.append(units.table_text(self.rows))
        return "\n".join(lines)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {
            "text/plain": str(self),
            "text/html": self._repr_html_(),
            MIME_TYPE: json.loads(json.dumps(json_safe(self.to_json()), allow_nan=False)),
        }


def _finding_html(finding: Finding) -> str:
    color = _BADGE[finding.priority.name]
    badge = (
        f'<span style="background:{color};color:#fff;padding:0 .4em;border-radius:3px">'
        f"{finding.priority.name}</span>"
    )
    text = units.finding_text(finding.summary, finding.value)  # human units
    return f"<li>{badge} <b>{html.escape(finding.subject)}</b>: {html.escape(text)}</li>"

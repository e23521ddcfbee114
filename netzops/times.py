"""The one time grammar of netzops: every `since`, `until`, `start` and `end` — on the command
line, in notebooks and in parameter files — is read here, the way `docker logs --since` reads it.

A point in time is one of

- RFC 3339 / ISO 8601 text with any offset: `2026-11-27T10:00:00Z`, `2026-11-27T12:00+02:00`,
  `2026-11-27T10:00:00.250Z`; without an offset (`2026-11-27 10:00`, `2026-11-27`) it is UTC;
- Unix seconds, with a fraction up to nanoseconds: `1700000000`, `1700000000.5`;
- a Go duration before now: `90s`, `15m`, `1h30m`, `1m30s`, `1.5h`, `500ms`, and `2d` (days,
  a netzops extension; docker has none). Durations are never negative.

Every result is an aware datetime in UTC, so comparisons never depend on how a time was
written (issue 11, kind D). Bad text raises `BadInput` naming the value, before any kernel
starts (`runner.parameters` checks the parameters named in `TIME_PARAMETERS`).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

from netzops.errors import BadInput

#: Parameter names that hold a point in time; their text is validated before a run.
TIME_PARAMETERS = frozenset({"since", "until", "start", "end"})

When = datetime | str | int | float | None

#: Go's time.ParseDuration units (µs in both spellings) plus days, in seconds.
UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)")
_DURATION = re.compile(rf"(?:{_PART.pattern})+")
_UNIX = re.compile(r"\d{1,12}(?:\.\d{1,9})?")
_LATEST = 253402300799  # 9999-12-31T23:59:59Z: the last second a datetime holds
HELP = (
    "use RFC 3339 with any offset (2026-11-27T10:00:00Z, 2026-11-27T12:00+02:00), "
    "Unix seconds (1700000000.5) or a duration before now (90s, 15m, 1h30m, 2d)"
)


def parse_duration(text: str) -> timedelta:
    """A Go duration (`1h30m`, `1m30s`, `1.5h`, `300ms`, `0`) or days (`2d`) as a timedelta;
    BadInput for anything else (a sign, a missing unit, an overflow)."""
    body = text.strip()
    if body == "0":
        return timedelta(0)
    if not _DURATION.fullmatch(body):
        raise BadInput(f"not a duration: {body!r}; use e.g. 90s, 15m, 1h30m, 1.5h or 2d")
    seconds = math.fsum(float(n) * UNITS[u] for n, u in _PART.findall(body))
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise BadInput(f"duration {body!r} is too long") from None


def parse_time(value: When, now: datetime | None = None) -> datetime | None:
    """`value` as an aware UTC datetime (None, and empty text — a parameters cell's "not
    set" — give None); durations count back from `now` (default: the current time). A naive
    datetime or offset-less text is UTC.
    Raises BadInput for anything outside the grammar in this module's docstring."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    if isinstance(value, bool):
        raise BadInput(f"not a time: {value!r}; {HELP}")
    if isinstance(value, int | float):
        return _unix(value, repr(value))
    if not isinstance(value, str):
        raise BadInput(f"not a time: {type(value).__name__}; {HELP}")
    text = value.strip()
    if not text:  # what check_time lets through before a run: not set
        return None
    if _UNIX.fullmatch(text):  # "0" too: docker reads it as the epoch, not as "now"
        return _unix(float(text), text)
    if _DURATION.fullmatch(text):
        try:
            return (now or datetime.now(UTC)).astimezone(UTC) - parse_duration(text)
        except OverflowError:
            raise BadInput(f"duration {text[:40]!r} reaches before year 1") from None
    return _rfc3339(text, value)


def _unix(seconds: float, shown: str) -> datetime:
    if not math.isfinite(seconds) or not 0 <= seconds <= _LATEST:
        raise BadInput(f"Unix time {shown[:40]} is out of range (0 … {_LATEST})")
    return datetime.fromtimestamp(seconds, UTC)


def _rfc3339(text: str, original: str) -> datetime:
    normal = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
    if len(normal) > 10 and normal[10] in "tT ":
        normal = normal[:10] + "T" + normal[11:]
    try:
        parsed = datetime.fromisoformat(normal)
    except ValueError:
        raise BadInput(f"not a time: {original[:80]!r}; {HELP}") from None
    if not re.match(r"\d{4}-\d{2}-\d{2}", normal):  # fromisoformat also takes 20261127
        raise BadInput(f"not a time: {original[:80]!r}; {HELP}")
    return parse_time(parsed) or parsed


def check_time(name: str, text: str) -> str:
    """`text` unchanged if it is a time in the grammar (empty means "not set"), else BadInput
    naming the parameter: used before a run so a kernel never sees a bad time."""
    if text.strip():
        try:
            parse_time(text)
        except BadInput as exc:
            raise BadInput(f"parameter {name}: {exc}") from None
    return text

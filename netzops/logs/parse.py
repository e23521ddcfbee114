"""Log lines as bytes, parsed for speed: one pass, plain bytes tests, no per-line regex.

Input is what the Engine API returns for `docker logs --timestamps`: one entry per line,
`<RFC3339Nano timestamp> <payload>`. Docker writes that timestamp with a fixed width (nine
fraction digits), so the raw bytes sort in time order. The payload formats of the stack:

    backend   2026-11-27T01:17:34.796Z INFO request method=GET path=/api/users status=200 ...
    postgres  2026-11-27 01:16:24.574 UTC [423] user@db LOG:  duration: 512.3 ms ...
    redis     1:M 27 Nov 2026 01:13:19.060 * Ready to accept connections
    nginx     172.20.0.1 - - [27/Nov/2026:01:16:24 +0000] "GET / HTTP/1.1" 200 769 ... rt=0.000
    nginx     2026/11/27 01:16:24 [warn] 1#1: ... (error log, on stderr)
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from operator import itemgetter

#: Normalized level names (the backend's vocabulary).
DEBUG, INFO, WARN, ERROR, FATAL, UNKNOWN = b"DEBUG", b"INFO", b"WARN", b"ERROR", b"FATAL", b"-"

_POSTGRES = {
    b"LOG": INFO,
    b"INFO": INFO,
    b"NOTICE": INFO,
    b"DETAIL": INFO,
    b"HINT": INFO,
    b"STATEMENT": INFO,
    b"CONTEXT": INFO,
    b"QUERY": INFO,
    b"LOCATION": INFO,
    b"WARNING": WARN,
    b"ERROR": ERROR,
    b"FATAL": FATAL,
    b"PANIC": FATAL,
}
_NGINX = {
    b"debug": DEBUG,
    b"info": INFO,
    b"notice": INFO,
    b"warn": WARN,
    b"error": ERROR,
    b"crit": FATAL,
    b"alert": FATAL,
    b"emerg": FATAL,
}
_REDIS = {b".": DEBUG, b"-": DEBUG, b"*": INFO, b"#": WARN}
_BACKEND = {DEBUG, INFO, WARN, ERROR, FATAL}
_MINUTE = itemgetter(slice(0, 16))  # a `--timestamps` line's minute: "2026-11-27T01:17"
DENSE = 8  # the needle in more than 1 of 8 lines: split the log instead of jumping


def lines(blob: bytes) -> list[bytes]:
    """The log's lines without their line ends (no trailing empty line)."""
    parts = blob.split(b"\n")
    if parts and not parts[-1]:
        parts.pop()
    return parts


def split_time(line: bytes) -> tuple[bytes, bytes]:
    """(docker timestamp, payload) of one `--timestamps` line."""
    stamp, _, payload = line.partition(b" ")
    return stamp, payload


def stamp_time(stamp: bytes) -> datetime | None:
    """Docker's timestamp as an aware datetime (µs; None if it is not one)."""
    try:
        return datetime.fromisoformat(stamp.decode())
    except ValueError:
        return None


def lines_with(blob: bytes, needle: bytes, ignore_case: bool = False) -> list[bytes]:
    """Each whole line containing `needle` (grep's line selection). Counting the needle
    first (in C) picks the cheaper way: for rare hits, jump from hit to hit with bytes.find
    so other lines are never touched; for frequent ones, split once and test each line."""
    hay = blob.lower() if ignore_case else blob
    if ignore_case:
        needle = needle.lower()
    hits = hay.count(needle)
    if not hits:
        return []
    if hits * DENSE > blob.count(b"\n"):
        if ignore_case:
            return [
                line for line, low in zip(lines(blob), lines(hay), strict=True) if needle in low
            ]
        return [line for line in lines(blob) if needle in line]
    found = []
    at = hay.find(needle)
    while at != -1:
        start = blob.rfind(b"\n", 0, at) + 1
        end = blob.find(b"\n", at)
        found.append(blob[start:] if end == -1 else blob[start:end])
        at = -1 if end == -1 else hay.find(needle, end)
    return found


def count_lines_with(blob: bytes, needle: bytes, ignore_case: bool = False) -> int:
    """`grep -c needle`: the number of lines containing `needle`."""
    return len(lines_with(blob, needle, ignore_case))


def field(line: bytes, key: bytes) -> bytes | None:
    """The value after `key` (e.g. b" status=") up to the next space, or None."""
    at = line.find(key)
    if at == -1:
        return None
    start = at + len(key)
    end = line.find(b" ", start)
    return line[start:] if end == -1 else line[start:end]


def quoted(line: bytes, key: bytes) -> bytes | None:
    """The value of `key"..."` (key includes the opening quote) up to the closing quote."""
    at = line.find(key)
    if at == -1:
        return None
    start = at + len(key)
    end = line.find(b'"', start)
    return line[start:] if end == -1 else line[start:end]


def number(raw: bytes | None) -> float | None:
    if raw is None:
        return None
    try:
        return float(raw.strip(b'"'))
    except ValueError:
        return None


def level_of(payload: bytes, previous: bytes = UNKNOWN) -> tuple[bytes, bytes]:
    """(level, message) of a payload in any of the stack's formats, best effort.
    Continuation lines (tab-indented, as in PostgreSQL's multi-line statements) inherit
    the `previous` line's level."""
    if payload[:1] == b"\t":
        return previous, payload
    if payload[4:5] == b"-" and payload[10:11] == b"T":  # backend: ISO timestamp first
        parts = payload.split(b" ", 2)
        if len(parts) == 3 and parts[1] in _BACKEND:
            return parts[1], parts[2]
    if payload[4:5] == b"-" and payload[10:11] == b" ":  # postgres: "... LOG:  message"
        at = payload.find(b":  ")
        if at != -1:
            level = payload[payload.rfind(b" ", 0, at) + 1 : at]
            return _POSTGRES.get(level, UNKNOWN), payload
    if payload[4:5] == b"/" and payload[19:21] == b" [":  # nginx error log
        level = payload[21 : payload.find(b"]", 21)]
        return _NGINX.get(level, UNKNOWN), payload
    if b'] "' in payload:  # nginx access log: level from the status
        status = access_status(payload)
        if status is not None:
            return (ERROR if status >= 500 else WARN if status >= 400 else INFO), payload
    colon = payload.find(b":", 0, 12)
    if colon != -1 and payload[colon + 2 : colon + 3] == b" ":  # redis: "1:M <date> * msg"
        return _REDIS.get(payload[colon + 28 : colon + 29], UNKNOWN), payload
    return _guess(payload), payload


def _guess(payload: bytes) -> bytes:
    for token, level in ((b"FATAL", FATAL), (b"ERROR", ERROR), (b"WARN", WARN)):
        if token in payload:
            return level
    return UNKNOWN


def access_status(payload: bytes) -> int | None:
    """The HTTP status of an nginx access-log line: the number after the quoted request."""
    start = payload.find(b'] "')
    end = payload.find(b'" ', start + 3) if start != -1 else -1
    if end == -1:
        return None
    status = payload[end + 2 : end + 5]
    return int(status) if status.isdigit() else None


def access_rt_ms(payload: bytes) -> float | None:
    """nginx `rt=` (request time, seconds) in ms; the last ` rt=` since the user agent
    that comes before it may contain anything."""
    at = payload.rfind(b" rt=")
    if at == -1:
        return None
    seconds = number(field(payload[at:], b" rt="))
    return None if seconds is None else seconds * 1000.0


def requests_per_minute(blob: bytes) -> tuple[Counter[bytes], Counter[bytes]]:
    """(requests, responses with status ≥ 500) per minute of a `--timestamps` log's backend
    request lines; the minute is the first 16 bytes of Docker's timestamp. Only bytes tests
    per line: a request line has one ` status=` field, so ` status=5` means 5xx."""
    found = [line for line in lines_with(blob, b" request method=") if b" status=" in line]
    failed = [line for line in found if b" status=5" in line]
    return Counter(map(_MINUTE, found)), Counter(map(_MINUTE, failed))


def failed_login(line: bytes) -> tuple[str, str, str] | None:
    """(user, ip, reason) of a backend `failed login user=.. ip=.. reason=..` line."""
    user, ip = field(line, b" user="), field(line, b" ip=")
    if user is None or ip is None:
        return None
    reason = field(line, b" reason=") or b"-"
    return _text(user), _text(ip), _text(reason)


def _text(raw: bytes) -> str:
    return raw.decode(errors="replace")


def slow_query(line: bytes) -> tuple[float, str] | None:
    """(duration ms, query) of a backend `slow query duration_ms=..` line or a PostgreSQL
    `duration: .. ms` line."""
    at = line.find(b" duration_ms=")  # field, number and quoted inlined: a hot path
    if at != -1:
        end = line.find(b" ", at + 13)
        try:
            ms: float | None = float(line[at + 13 : None if end == -1 else end].strip(b'"'))
        except ValueError:
            ms = None
        if ms is not None:
            at = line.find(b' query="')
            if at == -1:
                return ms, ""
            end = line.find(b'"', at + 8)
            return ms, line[at + 8 : None if end == -1 else end].decode(errors="replace")
    at = line.find(b" duration: ")
    if at == -1:
        return None
    ms = number(field(line[at:], b" duration: "))
    if ms is None:
        return None
    text = line[at:].partition(b" ms ")[2]
    return ms, text.partition(b": ")[2].decode(errors="replace").strip()


def kind(message: str, width: int = 60) -> str:
    """A message's kind for grouping: its words up to the first `key=value` or `label:`."""
    words = []
    for word in message.split(" "):
        if "=" in word:
            break
        if word.endswith(":"):
            words.append(word[:-1])
            break
        words.append(word)
    return " ".join(words)[:width] or message[:width]

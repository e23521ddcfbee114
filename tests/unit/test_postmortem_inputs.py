"""The post-mortem's container-log, PostgreSQL-log, access-log and ledger parts on the input
real servers and clients produce: text a client chose (paths, user agents) that reads like
evidence, statements quoting PostgreSQL's own messages, odd bytes, malformed access lines,
secrets in log lines, a damaged ledger and windows that cannot be."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from netzops.errors import BadInput
from netzops.incidents import timeline as tl
from netzops.incidents.postmortem import Impact, PostMortem, build, markdown, window
from netzops.logs import Source
from netzops.secrets import MASK, Scrubber
from netzops.targets import load_target

T = "2026-11-30T12:00:{:02d}.000000000Z"


def _blob(payloads: list[bytes], second: int = 1) -> bytes:
    """Docker `--timestamps` lines, one second apart from `second`."""
    return b"".join(
        T.format(second + i).encode() + b" " + p + b"\n" for i, p in enumerate(payloads)
    )


def _entries(service: str, payloads: list[bytes], scrub: Scrubber | None = None) -> list[tl.Entry]:
    src = Source(service, service[0], "", _blob(payloads))
    return list((tl.logs([src], scrub=scrub) if scrub else tl.logs([src]))[0])


def _access(client: str, request: str, status: str = "200", rt: str = "0.010") -> bytes:
    return (
        f"{client} - - [30/Nov/2026:12:00:01 +0000] "
        f'"{request}" {status} 10 "-" "curl" rt={rt} urt="-"'
    ).encode()


def test_text_a_client_chose_is_no_evidence() -> None:
    nginx = [
        _access("172.18.0.1", "GET /zoom HTTP/1.1", "404"),
        _access("172.18.0.1", "GET /out%20of%20memory HTTP/1.1"),
        b'172.18.0.1 - - [30/Nov/2026:12:00:03 +0000] "GET / HTTP/1.1" 200 1 "-" '
        b'"failed login slow query heap limit" rt=0.001',
        b"2026/11/30 12:00:04 [warn] 29#29: *1 an upstream response is buffered, client: "
        b'172.18.0.1, server: _, request: "GET /out of memory/failed login HTTP/1.1"',
    ]
    assert _entries("frontend", nginx) == []
    backend = [
        b"2026-11-30T12:00:01.000Z INFO request method=GET path=/api/rooms status=200 "
        b"latency_ms=1.0 ip=172.18.0.1",
        b"2026-11-30T12:00:02.000Z WARN request method=GET path=/failed login/slow query "
        b"status=404 latency_ms=1.0 ip=172.18.0.1",
        b"2026-11-30T12:00:03.000Z INFO login ok user=oom ip=172.18.0.1",
    ]
    assert _entries("backend", backend) == []


def test_the_backend_and_node_themselves_are_evidence() -> None:
    backend = [
        b"2026-11-30T12:00:01.000Z ERROR out of memory: JavaScript heap out of memory "
        b"heap_used_mb=900",
        b"2026-11-30T12:00:02.000Z WARN failed login user=bob ip=10.0.0.1 reason=bad_password",
        b'2026-11-30T12:00:03.000Z WARN slow query duration_ms=5001.1 query="SELECT 1"',
        b"2026-11-30T12:00:04.000Z ERROR request method=GET path=/api/rooms status=500 "
        b"latency_ms=3.0 ip=172.18.0.1",
        b"FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
    ]
    found = {e.event.split(" ×")[0]: e.count for e in _entries("backend", backend)}
    assert found == {"out of memory": 2, "failed login": 1, "slow query": 1, "error": 1}


def _pg(level: str, message: str) -> bytes:
    return f"2026-11-30 12:00:01.000 UTC [42] app@db {level}:  {message}".encode()


def test_postgres_lines_quoting_its_own_messages_are_no_event() -> None:
    lines = [
        _pg("ERROR", 'invalid input syntax for type integer: "ready to accept connections"'),
        _pg("STATEMENT", "SELECT 'database system is ready to accept connections'::int"),
        _pg("ERROR", 'relation "x FATAL:  y" does not exist'),
        _pg("STATEMENT", "SELECT 'received fast shutdown request', ' duration: 9 ms '"),
        b"\tFROM users WHERE note = ' PANIC:  database system is shut down'",
        _pg("LOG", "statement: SELECT 'terminating connection due to administrator command'"),
    ]
    assert _entries("postgres", lines) == []


def test_postgres_events_by_severity_and_message_start() -> None:
    lines = [
        _pg("LOG", "duration: 812.5 ms  statement: SELECT pg_sleep(0.8)"),
        _pg("PANIK", "konnte Datei nicht schreiben"),  # lc_messages = de_DE
        _pg("ВАЖНО", "пользователь не прошёл проверку"),  # ru_RU: FATAL
        _pg("LOG", "database system is ready to accept read-only connections"),
        _pg("LOG", "database system was not properly shut down; automatic recovery in progress"),
        _pg("FATAL", "terminating connection due to administrator command"),
        _pg("LOG", "received smart shutdown request"),
    ]
    found = [(e.event.split(" ×")[0], e.kind) for e in _entries("postgres", lines)]
    assert found == [
        ("slow query", "slow query"),
        ("PANIC", "error"),
        ("FATAL", "error"),
        ("ready to accept connections", "up"),
        ("crash recovery (not properly shut down)", "error"),
        ("terminated backends", "error"),
        ("shutdown", "down"),
    ]


def test_odd_bytes_never_end_the_read_and_never_reach_the_sample() -> None:
    blob = (
        _blob(
            [
                b"2026-11-30T12:00:01.000Z ERROR bad \xff\xfe utf8 \x00 NUL",
                b"\x1b[31m2026-11-30T12:00:02.000Z ERROR colour\x1b[0m",
                b"ERROR " + b"a" * (1 << 20),
            ]
        )
        + b"no timestamp ERROR at all\n"
        + b"2026-11-30 ERROR a date without a zone\n"
        + b"\xff\xfe ERROR junk stamp\n"
        + _blob([b"2026-11-30T12:00:09.000Z ERROR last one"], 9)
    )
    (entry,) = list(tl.logs([Source("backend", "b", "", blob)])[0])
    assert entry.count == 4 and entry.last == datetime(2026, 11, 30, 12, 0, 9, tzinfo=UTC)
    assert "bad \ufffd\ufffd utf8" in entry.event
    assert not any(c in entry.event for c in "\x00\x1b\n")
    (colour,) = _entries("redis", [b"\x1b[31mERROR colour\x1b[0m"])
    assert colour.event.endswith("ERROR colour")


def test_a_secret_in_a_log_line_is_masked_before_the_sample_is_cut() -> None:
    secret = "s3cr3t-Pa55w0rd-0123456789abcdefXYZ"
    lines = [
        b"2026-11-30T12:00:01.000Z ERROR connect failed: "
        + b"x" * 40
        + b" password="
        + secret.encode(),
        _pg("FATAL", "password authentication failed; " + "y" * 150 + " pw=" + secret),
    ]
    scrub = Scrubber([secret])
    for service, line in (("backend", lines[0]), ("postgres", lines[1])):
        (entry,) = _entries(service, [line], scrub)
        assert secret[:6] not in entry.event, entry.event
    (entry,) = _entries("redis", [b"ERROR auth " + secret.encode()], scrub)
    assert MASK in entry.event and secret[:6] not in entry.event


def test_malformed_access_lines_are_skipped_and_odd_ones_counted() -> None:
    lines = [
        _access("2001:db8::1", "GET /api/users HTTP/1.1", "502", "-"),  # IPv6, no request time
        _access("172.18.0.1", "GET /a\\x22b c HTTP/1.1", "500"),  # nginx escapes a quote
        _access("172.18.0.1", "GARBAGE", "400"),  # a request line that is no request
        _access("172.18.0.1", "GET / HTTP/1.1", "abc"),  # non-numeric status
        b'172.18.0.1 - - [30/Nov/2026:12:00:01 +0000] "GET / HTTP/1.1"',  # fields missing
        b'172.18.0.1 - - [30/Nov/2026:12:00:01 +0000] "GET / HTTP/1.1" 5',  # cut short
        b'\xff\xfe] "\x00 500',
    ]
    (minute,) = list(tl.access(Source("frontend", "f", "", _blob(lines))))
    assert minute.data["requests"] == 3 and minute.data["errors_5xx"] == 2
    assert minute.data["clients_5xx"] == ["172.18.0.1", "2001:db8::1"]
    assert minute.data["failing"] == {"GET /api/users": 1, "GET /a\\x22b": 1}
    assert minute.data["p95_ms"] is not None


def test_a_window_starting_within_a_minute_keeps_that_minutes_traffic() -> None:
    lines = [_access("172.18.0.1", "GET / HTTP/1.1", s) for s in ("200", "500", "200")]
    (minute,) = list(tl.access(Source("frontend", "f", "", _blob(lines, 31))))
    start = datetime(2026, 11, 30, 12, 0, 30, tzinfo=UTC)  # the window opened at :30
    assert minute.time >= start and minute.data["requests"] == 3
    (quiet,) = list(tl.access(Source("frontend", "f", "", _blob(lines[:1], 31))))
    assert quiet.time >= start


def test_a_damaged_ledger_is_read_around_its_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    good = {
        "notebook": "health",
        "status": "completed",
        "ended": "2026-11-30T12:00:05+00:00",
        "actions": [{"at": "not a time", "action": "restart"}, "junk"],
    }
    odd = {"notebook": "x", "ended": 17, "actions": {"a": 1}}
    path.write_bytes(
        json.dumps(good).encode()
        + b"\n[1, 2]\n\xff\xfe{\n"
        + json.dumps(odd).encode()
        + b'\n{"notebook": "cut short", "ended": "2026-11-30T12:0'
    )
    problems: list[str] = []
    start = datetime(2026, 11, 30, 12, tzinfo=UTC)
    found = tl.ledger(tl.ledger_lines(path, problems), start, start + timedelta(minutes=1))
    assert [e.event for e in found] == ["run health completed, worst no findings"]
    assert problems == [f"ledger {path}: 3 line(s) are no JSON object, left out"]


@pytest.mark.parametrize(
    ("start", "end", "says"),
    [
        ("2h", "3h", "is not after start"),
        ("1h", "1h", "is not after start"),
        ("2999-01-01T00:00:00Z", "", "is in the future"),
        ("2999-01-01T00:00:00Z", "2999-01-02T00:00:00Z", "is in the future"),
    ],
)
def test_a_window_that_cannot_be_is_one_line(start: str, end: str, says: str) -> None:
    with pytest.raises(BadInput, match=says) as info:
        window(None, start, end or None)
    assert "\n" not in str(info.value)


_RECORD = (
    b'{"id": "INC-20261130-120000", "target": "sandbox", "severity": "SEV2", '
    b'"status": "Resolved", "start": "2026-11-30T12:00:00Z", "detected": '
    b'"2026-11-30T12:00:00Z", "resolved": null, "commander": "", "summary": "s", '
    b'"affected": {}, "updates": []}'
)


@pytest.mark.parametrize(
    "text",
    [
        b'{"id": "INC-20261130-120000", "target": "sandbox", "start": "2026-11-30T12:0',
        b"\xff\xfe not json",
        b"[1, 2]",
        b'{"id": "INC-20261130-120000", "target": "sandbox"}',
        b'{"id": "INC-20261130-120000", "target": "sandbox", "severity": "SEV2", '
        b'"status": "Investigating", "start": "yesterday", '
        b'"detected": "2026-11-30T12:00:00Z", "updates": []}',
        b'{"id": "INC-20261130-120000", "target": "sandbox", "severity": "SEV2", '
        b'"status": "Investigating", "start": "2026-11-30T12:00:00Z", '
        b'"detected": "2026-11-30T12:00:00Z", "updates": [{"at": "2026-11-30T12:01:00Z"}]}',
        _RECORD.replace(
            b'"updates": []', b'"updates": [{"at": "noon", "status": "x", "summary": "y"}]'
        ),
        _RECORD.replace(b'"updates": []', b'"updates": ["junk"]'),
        _RECORD.replace(b'"resolved": null', b'"resolved": "soon"'),
    ],
)
def test_a_damaged_incident_record_is_one_line(
    text: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETZOPS_OUTPUTS", str(tmp_path))
    (tmp_path / "incidents").mkdir()
    path = tmp_path / "incidents" / "INC-20261130-120000.json"
    path.write_bytes(text)
    with pytest.raises(BadInput, match="INC-20261130-120000") as info:
        build(None, load_target("sandbox"), "INC-20261130-120000")  # type: ignore[arg-type]
    assert str(path) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("incident", "says"),
    [
        ("../../etc/passwd", "not an incident id"),
        ("INC-20261130-120000/../../x", "not an incident id"),
        ("INC-20991231-000000", "no incident INC-20991231-000000"),
        ("INC-20261130-120000", "is about production, not sandbox"),
    ],
)
def test_an_incident_that_is_not_this_targets_is_one_line(
    incident: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETZOPS_OUTPUTS", str(tmp_path))
    (tmp_path / "incidents").mkdir()
    other = _RECORD.replace(b'"target": "sandbox"', b'"target": "production"')
    (tmp_path / "incidents" / "INC-20261130-120000.json").write_bytes(other)
    with pytest.raises(BadInput, match=says) as info:
        build(None, load_target("sandbox"), incident)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


def test_log_text_in_the_markdown_is_shown_not_run() -> None:
    at = datetime(2026, 11, 30, 12, 0, 1, tzinfo=UTC)
    event = 'error ×1: path=/<script>alert(1)</script> <img src=x onerror="x"> a|b\rc&d'
    entry = tl.Entry(at, "logs", "backend", event, "error")
    pm = PostMortem("w", at, at + timedelta(minutes=1), None, [entry], {}, [], Impact(), [])
    text = markdown(pm)
    assert "<script>" not in text and "<img" not in text and "\r" not in text
    assert "&amp;lt;" not in text  # one escape, not two
    assert "| error ×1: path=/&lt;script&gt;alert(1)&lt;/script&gt; &lt;img" in text
    assert "a\\|b c&amp;d |" in text


def test_an_end_in_the_future_ends_the_window_now() -> None:
    before = datetime.now(UTC)
    low, high = window(None, "2h", "2999-01-01T00:00:00Z")
    assert before <= high <= datetime.now(UTC)
    assert abs(high - low - timedelta(hours=2)) < timedelta(seconds=5)


def test_a_secret_with_markup_characters_is_masked_before_it_is_escaped() -> None:
    secret = "p<w&d|x\ny>z"
    at = datetime(2026, 11, 30, 12, 0, 1, tzinfo=UTC)
    entry = tl.Entry(at, "logs", "backend", f"error ×1: auth {secret} failed", "error")
    pm = PostMortem("w", at, at + timedelta(minutes=1), None, [entry], {}, [], Impact(), [])
    text = markdown(pm, Scrubber([secret]))
    assert f"auth {MASK} failed" in text
    assert "p&lt;w" not in text and "d\\|x" not in text


@pytest.mark.parametrize("junk", [b"\x1b[0m", b"\x00\x00\x00\x00", b"\x1b[1;31m\x07"])
def test_a_secret_after_kilobytes_of_escape_codes_is_masked_in_the_sample(junk: bytes) -> None:
    """4 KiB of colour codes, NULs or blanks before a secret: the sample is cleaned before
    it is cut, so the secret is whole when it is masked (cut first, its first half was kept)."""
    secret = "S3cr3t-behind-the-escape-codes"
    payload = b"ERROR db: " + junk * (4076 // len(junk)) + secret.encode() + b" failed"
    assert 0 < payload.index(b"S3cr3t") < 4096 < payload.index(b"codes")  # 4 KiB ends in it
    sample = tl._message(payload, False, Scrubber([secret]))
    assert MASK in sample and "S3cr3t" not in sample and "codes" not in sample

"""The bytes-level log parsers, on real lines of the stack's formats, and grep's semantics."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netzops.errors import BadInput
from netzops.logs import parse as lp
from netzops.logs.read import parse_when

TS = b"2026-11-27T01:17:34.796363657Z"
BACKEND = (
    b"2026-11-27T01:17:34.796Z INFO request method=GET path=/api/users status=200 "
    b"latency_ms=3.8 ip=127.0.0.1"
)
POSTGRES = (
    b"2026-11-27 01:16:24.574 UTC [423] netzwaechter_app@netzwaechter LOG:  duration: "
    b"512.300 ms  execute <unnamed>: SELECT s.id FROM sites s"
)
REDIS = b"1:M 27 Nov 2026 01:13:19.060 # Server initialized"
ACCESS = (
    b'172.20.0.1 - - [27/Nov/2026:01:16:24 +0000] "GET /api/sites HTTP/1.1" 502 16409 '
    b'"-" "agent rt=9.9 \\x22x\\x22" rt=0.450 urt="0.450" us="502" ua="172.20.0.4:5000"'
)
NGINX_ERROR = b"2026/11/27 01:16:24 [error] 7#7: *1 connect() failed (111: Connection refused)"


def test_lines_and_timestamp_split() -> None:
    blob = TS + b" " + BACKEND + b"\n" + TS + b" \n"
    assert lp.lines(blob) == [TS + b" " + BACKEND, TS + b" "]
    assert lp.split_time(lp.lines(blob)[0]) == (TS, BACKEND)
    assert lp.lines(b"") == []


@pytest.mark.parametrize(
    ("payload", "level"),
    [
        (BACKEND, b"INFO"),
        (b"2026-11-27T01:17:34.796Z ERROR database error: connection refused", b"ERROR"),
        (
            b"2026-11-27T01:17:34.796Z WARN failed login user=a ip=1.2.3.4 reason=bad_password",
            b"WARN",
        ),
        (POSTGRES, b"INFO"),
        (
            b'2026-11-27 01:16:24.574 UTC [9] postgres@netzwaechter ERROR:  relation "x" does not '
            b"exist",
            b"ERROR",
        ),
        (b"2026-11-27 01:16:24.574 UTC [9] FATAL:  password authentication failed", b"FATAL"),
        (b"2026-11-27 01:16:24.574 UTC [9] WARNING:  there is no transaction in progress", b"WARN"),
        (REDIS, b"WARN"),
        (b"1:M 27 Nov 2026 01:13:19.061 * Ready to accept connections", b"INFO"),
        (b"552:C 27 Nov 2026 01:18:20.088 . debug line", b"DEBUG"),
        (ACCESS, b"ERROR"),
        (ACCESS.replace(b" 502 ", b" 404 "), b"WARN"),
        (ACCESS.replace(b" 502 ", b" 200 "), b"INFO"),
        (NGINX_ERROR, b"ERROR"),
        (b"2026/11/27 01:16:24 [warn] 7#7: conflicting server name", b"WARN"),
        (b"something with ERROR inside", b"ERROR"),
        (b"plain text", b"-"),
    ],
)
def test_level_of_each_format(payload: bytes, level: bytes) -> None:
    assert lp.level_of(payload)[0] == level


def test_backend_message_drops_its_own_timestamp_and_continuations_inherit() -> None:
    assert lp.level_of(BACKEND)[1].startswith(b"request method=GET")
    assert lp.level_of(b"\t   ORDER BY s.id", b"ERROR") == (b"ERROR", b"\t   ORDER BY s.id")


@given(
    st.lists(
        st.sampled_from([b"ERROR x", b"ok", b"an error", b"ERRORERROR", b"", b"Error"]), max_size=30
    ),
    st.booleans(),
    st.booleans(),
)
def test_lines_with_counts_like_grep(parts: list[bytes], trailing: bool, fold: bool) -> None:
    blob = b"\n".join(parts) + (b"\n" if trailing and parts else b"")
    expected = sum((b"error" in p.lower()) if fold else (b"ERROR" in p) for p in parts)
    assert lp.count_lines_with(blob, b"ERROR", ignore_case=fold) == expected
    assert all(b"\n" not in line for line in lp.lines_with(blob, b"ERROR", fold))


@pytest.mark.parametrize("every", [1, 2, 50])  # frequent hits split, rare ones jump
def test_lines_with_dense_and_sparse_paths_agree(every: int) -> None:
    parts = [b"x ERROR %d" % i if i % every == 0 else b"ok %d" % i for i in range(500)]
    blob = b"\n".join(parts)
    assert lp.lines_with(blob, b"ERROR") == [p for p in parts if b"ERROR" in p]
    assert lp.lines_with(blob, b"error", ignore_case=True) == [p for p in parts if b"ERROR" in p]


def test_requests_per_minute_counts_requests_and_5xx() -> None:
    lines = [
        (b"2026-11-27T01:17:05.000000001Z", b"200"),
        (b"2026-11-27T01:17:59.999999999Z", b"503"),
        (b"2026-11-27T01:18:00.000000000Z", b"500"),
        (b"2026-11-27T01:18:30.000000000Z", b"404"),
    ]
    blob = b"".join(
        stamp + b" " + BACKEND.replace(b"status=200", b"status=" + status) + b"\n"
        for stamp, status in lines
    )
    blob += TS + b" 2026-11-27T01:17:34.796Z ERROR injected fault path=/api/users\n"
    requests, failed = lp.requests_per_minute(blob)
    assert requests == {b"2026-11-27T01:17": 2, b"2026-11-27T01:18": 2}
    assert failed == {b"2026-11-27T01:17": 1, b"2026-11-27T01:18": 1}


def test_lines_with_returns_whole_lines() -> None:
    blob = b"a\nx out of MEMORY y\nb\nOut Of Memory"
    assert list(lp.lines_with(blob, b"out of memory", ignore_case=True)) == [
        b"x out of MEMORY y",
        b"Out Of Memory",
    ]


def test_fields_and_quoted_values() -> None:
    line = b"WARN slow query duration_ms=812.5 query=\"SELECT 'a' FROM t\""
    assert lp.field(line, b" duration_ms=") == b"812.5"
    assert lp.quoted(line, b' query="') == b"SELECT 'a' FROM t"
    assert lp.field(line, b" nope=") is None
    assert lp.number(b"x") is None and lp.number(b'"0.5"') == 0.5


def test_access_status_and_request_time_ignore_the_user_agent() -> None:
    assert lp.access_status(ACCESS) == 502
    assert lp.access_rt_ms(ACCESS) == pytest.approx(450.0)
    assert lp.access_status(b"no access line") is None
    assert lp.access_rt_ms(b"no rt here") is None


def test_failed_login_and_slow_query_lines() -> None:
    line = b"2026-11-27T01:17:34.796Z WARN failed login user=admin ip=10.0.0.9 reason=bad_password"
    assert lp.failed_login(line) == ("admin", "10.0.0.9", "bad_password")
    assert lp.failed_login(b"failed login without fields") is None
    slow = b'2026-11-27T01:17:34.796Z WARN slow query duration_ms=250.4 query="SELECT 1"'
    assert lp.slow_query(slow) == (250.4, "SELECT 1")
    assert lp.slow_query(POSTGRES) == (512.3, "SELECT s.id FROM sites s")
    assert lp.slow_query(b"nothing slow") is None


def test_kind_groups_messages_by_their_leading_words() -> None:
    assert lp.kind("database error: connection refused") == "database error"
    assert lp.kind("injected fault path=/api/users") == "injected fault"
    assert lp.kind("request method=GET path=/ status=500") == "request"
    assert lp.kind("=odd") == "=odd"


def test_parse_when_accepts_docker_style_durations_and_times() -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert parse_when("1h", now) == now - timedelta(hours=1)
    assert parse_when("15m", now) == now - timedelta(minutes=15)
    assert parse_when("30s", now) == now - timedelta(seconds=30)
    assert parse_when("2d", now) == now - timedelta(days=2)
    assert parse_when(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_when("2026-01-01T00:00:00+01:00") == datetime(2025, 12, 31, 23, tzinfo=UTC)
    assert parse_when(0) == datetime(1970, 1, 1, tzinfo=UTC)
    assert parse_when(None) is None
    with pytest.raises(BadInput):
        parse_when("yesterday")


def test_no_regex_in_the_hot_paths() -> None:
    """Speed by construction: the parsers use bytes methods only."""
    import inspect

    assert not re.search(r"\bre\.", inspect.getsource(lp))

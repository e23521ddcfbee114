"""The timeline's pure parts: journal lines, times, the block merge against sorted(), log
grouping per minute, the access log's minutes, impact episodes and response times."""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import accumulate, chain, islice
from pathlib import Path

import pytest

from netzops.incidents import journal as jr
from netzops.incidents import timeline as tl
from netzops.incidents.postmortem import Impact, response_times
from netzops.logs import Source


def test_iso_nano_is_fixed_width_and_round_trips() -> None:
    nano = 1_796_040_000_000_000_123
    text = jr.iso_nano(nano)
    assert text == "2026-11-30T12:00:00.000000123Z" and len(jr.iso_nano(nano + 10**17)) == len(text)
    assert jr.parse_time(jr.iso_nano(1_796_040_000_123_456_789)) == datetime(
        2026, 11, 30, 12, 0, 0, 123456, UTC
    )
    assert jr.parse_time("2026-11-30T13:20:00.5+02:00") == datetime(
        2026, 11, 30, 11, 20, 0, 500000, UTC
    )
    with pytest.raises(ValueError):
        jr.parse_time("yesterday")


def test_docker_events_become_journal_lines() -> None:
    event = {
        "Type": "container",
        "Action": "health_status: unhealthy",
        "timeNano": 1_796_040_000_000_000_001,
        "Actor": {
            "ID": "abcdef0123456789",
            "Attributes": {
                "name": "netzwaechter-postgres",
                "com.docker.compose.service": "postgres",
                "image": "netzwaechter/base:local",
            },
        },
    }
    line = jr.from_docker(event)
    assert line is not None and next(iter(line)) == "time"
    assert (line["action"], line["health"], line["id"]) == (
        "health_status",
        "unhealthy",
        "abcdef012345",
    )
    die = {**event, "Action": "die", "Actor": {"ID": "x", "Attributes": {"exitCode": "137"}}}
    assert jr.from_docker(die)["exit_code"] == 137  # type: ignore[index]
    assert jr.from_docker({**event, "Action": "exec_start: sh -c true"}) is None
    assert jr.from_docker({**event, "Type": "network", "Action": "connect"}) is None


@pytest.mark.parametrize("chunk", [16, 512, 1 << 18])  # below a line, a few lines, all
def test_block_merge_equals_sorting_everything(tmp_path: Path, chunk: int) -> None:
    rng = random.Random(3)
    paths, everything = [], []
    for n in range(5):
        nano, lines = 1_796_000_000 * 10**9, []
        for _ in range(rng.randint(0, 3000)):
            nano += rng.choice([0, 1, rng.randint(1, 10**10)])  # ties across sources too
            lines.append((json.dumps(jr._line(nano, "event", n=n)) + "\n").encode())
        path = tmp_path / f"{n}.jsonl"
        path.write_bytes(b"".join(lines))
        paths.append(path)
        everything += lines
    merged = list(tl.merge_lines(paths, chunk=chunk))
    assert merged == sorted(everything)
    assert [json.loads(x)["time_nano"] for x in merged] == sorted(
        json.loads(x)["time_nano"] for x in everything
    )


@pytest.mark.parametrize("chunk", [16, 1 << 18])
def test_a_line_out_of_order_never_stalls_the_merge(tmp_path: Path, chunk: int) -> None:
    """A clock stepped back while the recorder ran: the merge still ends, with every line
    once, in order within each run it yields."""
    early, late = _journal(30, seed=10), _journal(30, seed=11)
    paths = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    paths[0].write_bytes(b"".join(late[:20] + early[:10]))  # stepped back after 20 lines
    paths[1].write_bytes(b"".join(early[10:] + late[20:]))
    runs = list(islice(tl.merge_runs(paths, chunk=chunk), 1000))
    assert sorted(chain.from_iterable(runs)) == sorted(early + late)
    assert all(run == sorted(run) for run in runs)


def _journal(n: int, seed: int) -> list[bytes]:
    """`n` sorted journal lines, several sharing a microsecond (they differ in nanoseconds)."""
    rng, nano, lines = random.Random(seed), 1_796_000_000 * 10**9, []
    for i in range(n):
        nano += rng.choice([1, 250, rng.randint(1, 5 * 10**9)])
        lines.append((json.dumps(jr._line(nano, "event", action="die", n=i)) + "\n").encode())
    return lines


def _when(line: bytes) -> datetime:
    return jr.parse_time(json.loads(line)["time"])


def test_a_rotated_journal_reads_as_one_within_the_window(tmp_path: Path) -> None:
    """logrotate's segments (one gzipped), one line copied into two of them: the window's
    lines equal a filter of the whole, each once, at exact-microsecond bounds too."""
    lines = _journal(6000, seed=5)
    live = tmp_path / "sandbox.jsonl"
    (tmp_path / "sandbox.jsonl-20261129.gz").write_bytes(gzip.compress(b"".join(lines[:1500])))
    (tmp_path / "sandbox.jsonl.1").write_bytes(b"".join(lines[1499:4000]))  # 1499 twice
    live.write_bytes(b"".join(lines[4000:]))
    (tmp_path / "sandbox.log").write_text("the recorder's own log is no segment\n")
    parts = tl.segments(live)
    assert parts[0] == live and len(parts) == 3
    rng, times = random.Random(6), [_when(x) for x in lines]
    for _ in range(40):
        a, b = sorted(rng.sample(range(len(lines)), 2))
        start, end = times[a], times[b]
        expected = [x for x, t in zip(lines, times, strict=True) if start <= t <= end]
        assert list(tl.journal_lines(parts, start, end)) == expected
        assert len(expected) >= b - a + 1  # the bounds' own lines are in
    assert [e.time for e in tl.journal(parts, times[0], times[-1])] == times


def test_the_window_is_found_by_binary_search(tmp_path: Path) -> None:
    """A window late in a 1.4 MB journal: the segment is entered at most 64 KiB before its first
    line (a few seeks, not a read from the start), at a line start with every line before it
    earlier than the window."""
    lines = _journal(12_000, seed=7)
    path = tmp_path / "sandbox.jsonl"
    path.write_bytes(b"".join(lines))
    assert path.stat().st_size > 1_400_000
    first = 11_000
    low = tl._bound(_when(lines[first]))
    with tl._open_at(path, low) as fh:
        at = fh.tell()
    starts = list(accumulate((len(x) for x in lines), initial=0))  # each line's offset
    assert starts[first] - (1 << 16) <= at <= starts[first]
    assert at in starts[: first + 1]


@pytest.mark.parametrize("chunk", [7, 300, 1 << 18])
def test_torn_last_lines_are_left_out_of_the_merge(tmp_path: Path, chunk: int) -> None:
    """Each source ends in a torn line, one of them gzipped: the merge holds every whole
    line, in order, and no fragment, whatever the read size."""
    lines = _journal(40, seed=9)
    plain, packed = tmp_path / "a.jsonl", tmp_path / "b.jsonl.gz"
    plain.write_bytes(b"".join(lines[0::2]) + lines[0][:50])
    packed.write_bytes(gzip.compress(b"".join(lines[1::2]) + lines[1][:3]))
    with gzip.open(packed, "rb") as unpacked:
        assert list(tl.merge_lines([plain, unpacked], chunk=chunk)) == lines


def test_a_torn_last_line_is_left_out(tmp_path: Path) -> None:
    lines = _journal(10, seed=8)
    path = tmp_path / "sandbox.jsonl"
    path.write_bytes(b"".join(lines) + lines[0][:40])  # the recorder killed mid-write
    got = list(tl.journal(path, _when(lines[0]), _when(lines[-1]) + timedelta(days=1)))
    assert [e.time for e in got] == [_when(x) for x in lines]


_ODD = [
    b"\x00" * 300 + b"\n",  # NULs a crash left
    b"\xff\xfe binary \x00 bytes\n",  # sorts after every journal line
    b"stray write into the journal\n",
    b"}\n",
]


@pytest.mark.parametrize("chunk", [200, 4096, 1 << 18])
def test_odd_bytes_between_journal_lines_do_not_misplace_the_merge(
    tmp_path: Path, chunk: int
) -> None:
    """Lines of other bytes, often the last of a block (the mark of how far a source has
    got): the journal lines of both sources still come out in order, each once."""
    lines = _journal(400, seed=12)
    rng = random.Random(13)
    paths = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    for n, path in enumerate(paths):
        mine = lines[n::2]
        body = [
            x for line in mine for x in ([line, rng.choice(_ODD)] if rng.random() < 0.3 else [line])
        ]
        path.write_bytes(b"".join(body))
    merged = list(tl.merge_lines(paths, chunk=chunk))
    assert [x for x in merged if x.startswith(tl._PREFIX)] == lines


def test_the_window_passes_over_odd_lines_and_counts_the_broken_entries(tmp_path: Path) -> None:
    """Odd lines all through a 1.4 MB journal (some sort after the window's end, which once
    ended the read): every event in the window comes back; the lines in it that look like
    entries but are none (cut JSON, a field missing) are counted in `problems`."""
    lines = _journal(6000, seed=14)
    times = [_when(x) for x in lines]
    broken = {
        1000: lines[1000][:60] + b"\n",  # cut JSON at the time of line 1000
        3000: json.dumps({"time": json.loads(lines[3000])["time"]}).encode() + b"\n",
    }
    body = []
    for i, line in enumerate(lines):
        body.append(line)
        if i % 37 == 5:
            body.append(_ODD[i % len(_ODD)])
        if i in broken:
            body.append(broken[i])
    path = tmp_path / "sandbox.jsonl"
    path.write_bytes(b"".join(body))
    problems: list[str] = []
    got = list(tl.journal(path, times[900], times[5000], problems))
    assert [e.time for e in got] == [t for t in times if times[900] <= t <= times[5000]]
    assert problems == ["event journal: 2 line(s) in the window are no entry, left out"]


def test_the_binary_search_is_not_misled_by_nul_lines(tmp_path: Path) -> None:
    """A NUL line after every journal line (a crash's leftovers sort below any time): the
    search over byte offsets still enters the journal before the window's first line."""
    lines = _journal(12_000, seed=16)
    path = tmp_path / "sandbox.jsonl"
    path.write_bytes(b"".join(line + b"\x00\n" for line in lines))
    start, end = _when(lines[11_000]), _when(lines[11_500])
    expected = [x for x in lines if start <= _when(x) <= end]
    assert list(tl.journal_lines([path], start, end)) == expected


def test_a_cut_gzip_segment_and_a_vanished_one_are_named_and_the_rest_read(
    tmp_path: Path,
) -> None:
    """logrotate's compression cut short (disk full), a segment rotated away after it was
    listed: the post-mortem names both and reads the rest; without `problems` it raises."""
    lines = _journal(3000, seed=15)
    live = tmp_path / "sandbox.jsonl"
    packed = gzip.compress(b"".join(lines[:2000]))
    cut = tmp_path / "sandbox.jsonl.1.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    live.write_bytes(b"".join(lines[2000:]))
    gone = tmp_path / "sandbox.jsonl.2.gz"
    parts = [live, cut, gone]
    problems: list[str] = []
    got = list(tl.journal_lines(parts, _when(lines[0]), _when(lines[-1]), problems))
    assert got[-1000:] == lines[2000:]  # the live file whole
    assert got[:-1000] == lines[: len(got) - 1000]  # what the cut segment held, in order
    assert 0 < len(got) - 1000 < 2000
    assert len(problems) == 2
    assert str(gone) in problems[0] and "No such file" in problems[0]
    assert str(cut) in problems[1] and "read up to there" in problems[1]
    with pytest.raises(FileNotFoundError):
        list(tl.journal_lines(parts, _when(lines[0]), _when(lines[-1])))
    with pytest.raises(EOFError):
        list(tl.journal_lines([live, cut], _when(lines[0]), _when(lines[-1])))


def _blob(lines: list[tuple[str, str]]) -> bytes:
    return "".join(f"{stamp} {payload}\n" for stamp, payload in lines).encode()


def test_log_lines_are_grouped_per_minute_with_first_last_and_count() -> None:
    blob = _blob(
        [
            ("2026-11-30T12:00:01.000000000Z", "2026-11-30T12:00:01.000Z ERROR db down code=1"),
            ("2026-11-30T12:00:02.000000000Z", "2026-11-30T12:00:02.000Z INFO request status=200"),
            ("2026-11-30T12:00:59.000000000Z", "2026-11-30T12:00:59.000Z ERROR db down code=2"),
            ("2026-11-30T12:01:05.000000000Z", "2026-11-30T12:01:05.000Z ERROR db down code=3"),
        ]
    )
    entries = list(tl.logs([Source("backend", "b1", "", blob)])[0])
    assert [(e.count, e.time.second, e.last.second if e.last else None) for e in entries] == [
        (2, 1, 59),
        (1, 5, 5),
    ]
    assert all(e.kind == "error" and "db down" in e.event for e in entries)


def test_postgres_shutdown_and_ready_are_single_events() -> None:
    blob = _blob(
        [
            (
                "2026-11-30T12:00:01.000000000Z",
                "2026-11-30 12:00:01.000 UTC [1] LOG:  received fast shutdown request",
            ),
            (
                "2026-11-30T12:00:01.100000000Z",
                "2026-11-30 12:00:01.100 UTC [9] app@db FATAL:  "
                "terminating connection due to administrator command",
            ),
            (
                "2026-11-30T12:00:09.000000000Z",
                "2026-11-30 12:00:09.000 UTC [1] LOG:  "
                "database system is ready to accept connections",
            ),
        ]
    )
    entries = list(tl.logs([Source("postgres", "p", "", blob)])[0])
    assert [(e.event.split(" ×")[0], e.kind) for e in entries] == [
        ("shutdown", "down"),
        ("terminated backends", "error"),
        ("ready to accept connections", "up"),
    ]


def test_access_minutes_and_impact_episodes() -> None:
    def line(second: int, status: int, minute: int = 0) -> tuple[str, str]:
        stamp = f"2026-11-30T12:{minute:02d}:{second:02d}.000000000Z"
        return stamp, (
            f"172.18.0.1 - - [30/Nov/2026:12:{minute:02d}:{second:02d} +0000] "
            f'"GET /api/users?x=1 HTTP/1.1" {status} 10 "-" "t" rt=0.0{second % 10}'
        )

    blob = _blob(
        [line(1, 200), line(2, 500), line(3, 502), line(4, 200), line(1, 500, 5), line(2, 200, 5)]
    )
    minutes = list(tl.access(Source("frontend", "f", "", blob)))
    assert [m.data["errors_5xx"] for m in minutes] == [2, 1]
    assert minutes[0].data["failing"] == {"GET /api/users": 2}
    impact = Impact()
    for m in minutes:
        impact.add(m.data)
    assert len(impact.episodes) == 2  # 5 minutes apart: two episodes
    impact.choose(datetime(2026, 11, 30, 12, 0, 30, tzinfo=UTC))
    assert impact.first == datetime(2026, 11, 30, 12, 0, 2, tzinfo=UTC) and impact.failed == 2


def test_response_times_follow_the_updates() -> None:
    t0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

    def at(minutes: float) -> str:
        return (t0 + timedelta(minutes=minutes)).isoformat()

    record = {
        "start": at(0),
        "detected": at(2),
        "updates": [
            {"at": at(2), "status": "Investigating", "commander": ""},
            {"at": at(3), "status": "Identified", "commander": "ana"},
            {"at": at(10), "status": "Monitoring", "commander": "ana"},
            {"at": at(30), "status": "Resolved", "commander": "ana"},
        ],
    }
    found = response_times(record, t0 + timedelta(seconds=30))
    assert found == {
        "TTD (detect)": 90.0,
        "TTA (acknowledge)": 60.0,
        "TTM (mitigate)": 570.0,
        "TTR (resolve)": 1770.0,
    }
    assert set(response_times(None, None).values()) == {None}


def test_root_causes_put_the_chain_into_the_impact_first_one_per_service() -> None:
    from netzops.incidents.postmortem import root_causes

    t0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

    def at(seconds: float, service: str, event: str, kind: str = "down") -> tl.Entry:
        return tl.Entry(t0 + timedelta(seconds=seconds), "journal", service, event, kind)

    entries = [
        at(0, "zz-old", "die zz-old"),  # 5 min before the chain: unrelated
        at(300, "postgres", "kill netzwaechter-postgres"),
        at(300.2, "postgres", "die netzwaechter-postgres"),
        at(300.5, "backend", "error ×4", "error"),
        at(301, "frontend", "started", "up"),  # not a failure
        at(400, "redis", "die redis"),  # after the impact began
    ]
    rows = root_causes(entries, t0 + timedelta(seconds=300.4))
    assert [(r["service"], r["into_impact"]) for r in rows] == [
        ("postgres", "yes"),
        ("backend", "yes"),  # within SLACK of the (second-precision) impact start
        ("zz-old", "no"),
        ("redis", "no"),
    ]
    assert rows[0]["event"].startswith("kill") and "backend: error" in rows[0]["preceded"]
    assert "user-facing errors from 12:05:00" in rows[0]["preceded"]
    assert "user-facing" not in rows[3]["preceded"]


def test_a_service_down_when_the_impact_began_is_a_candidate_from_the_period_start() -> None:
    from netzops.incidents.postmortem import root_causes

    t0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    kill = tl.Entry(t0, "journal", "postgres", "kill netzwaechter-postgres", "down")
    errors = tl.Entry(t0 + timedelta(seconds=200), "logs", "backend", "error ×9", "error")
    impact = t0 + timedelta(seconds=300)  # postgres down for 5 min before users noticed
    lanes = {"postgres": [(t0, t0 + timedelta(seconds=400), "down")], "backend": []}
    rows = root_causes([kill, errors], impact, lanes=lanes)
    assert [(r["service"], r["into_impact"]) for r in rows] == [
        ("postgres", "yes"),
        ("backend", "no"),  # 100 s before the impact: more than LEAD_GAP
    ]
    assert [r["into_impact"] for r in root_causes([kill, errors], impact)] == ["no", "no"]


def test_streamed_logs_equal_whole_ones_and_are_read_only_as_far_as_needed() -> None:
    """A container log as chunks of whole lines (as the Engine API streams it) gives the
    same entries as the whole log, and the merge reads a chunk only when it needs it."""
    rows = [
        (f"2026-11-30T12:{m:02d}:{s:02d}.000000000Z", f"2026-11-30T12:{m:02d}:{s:02d}.000Z {t}")
        for m in range(30)
        for s, t in ((5, "ERROR db down code=1"), (20, "INFO ok"), (40, "WARN failed login x"))
    ]
    blob = _blob(rows)
    whole = list(tl.logs([Source("backend", "b1", "", blob)])[0])
    read: list[int] = []

    def chunks() -> Iterator[bytes]:
        lines = blob.splitlines(keepends=True)
        for at in range(0, len(lines), 7):  # cut at line ends, as live.stream does
            read.append(at)
            yield b"".join(lines[at : at + 7])

    streamed = tl.logs([tl.Stream("backend", "b1", chunks())])[0]
    first = next(tl.merge(streamed))
    assert first == whole[0] and len(read) == 1  # one chunk read for the first entry
    assert [first, *streamed] == whole and len(read) == len(range(0, len(rows), 7))
    access = [tl.access(tl.Stream("frontend", "f", iter([blob[:0]])))]
    assert list(tl.merge(*access)) == []

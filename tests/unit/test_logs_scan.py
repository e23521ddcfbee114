"""The streaming log scan counts what `grep -c` counts, on a generated log in the stack's
real line formats: as one file, as a rotated and gzipped folder, with a time window, and
through `netzops logs scan --json`. Non-finite slow-query durations are skipped and counted
apart."""

from __future__ import annotations

import gzip
import itertools
import json
import random
import subprocess
from pathlib import Path

import pytest

from netzops.logs import files, scan
from tests.conftest import ROOT

NETZOPS = str(ROOT / ".venv" / "bin" / "netzops")
WINDOW = ("2026-11-27T01:20:30Z", "2026-11-27T02:05:00Z")


def _line(i: int, rng: random.Random) -> str:
    second = i // 20
    stamp = f"2026-11-27T{1 + second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
    docker = f"{stamp}.{i % 10**9:09d}Z {stamp}.000Z "
    roll = rng.random()
    if roll < 0.85:
        status = rng.choice([200] * 30 + [404, 500, 503])
        level = "ERROR" if status >= 500 else "INFO"
        return f"{docker}{level} request method=GET path=/api/sites status={status} latency_ms=3.1"
    if roll < 0.90:
        ms = rng.choice(["812.0", "NaN", "301.5", "Infinity", "650.25"])
        return f'{docker}WARN slow query duration_ms={ms} query="SELECT * FROM sites"'
    if roll < 0.95:
        ip = f"10.0.0.{rng.randint(1, 4)}"
        return f"{docker}WARN failed login user=u{rng.randint(1, 9)} ip={ip} reason=bad_password"
    if roll < 0.97:
        return f"{docker}ERROR database error: ERROR twice on one line"
    if roll < 0.98:
        return f"{docker}FATAL JavaScript heap Out Of Memory"
    request = '"GET / HTTP/1.1" 502 9 "-" "curl"'
    return (
        f"{stamp}.{i:09d}Z 172.20.0.1 - - [27/Nov/2026:01:16:24 +0000] {request} rt=0.{i % 997:03d}"
    )


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = random.Random(11)
    folder = tmp_path_factory.mktemp("logs")
    path = folder / "backend.log"
    path.write_text("".join(_line(i, rng) + "\n" for i in range(120_000)))
    return path


def grep_c(path: Path, *args: str, window: tuple[str, str] | None = None) -> int:
    feed = f"cat {path}"
    if window:
        feed += f' | awk \'$1 >= "{window[0][:-1]}" && $1 < "{window[1][:-1]}"\''
    quoted = " ".join(f"'{a}'" for a in args)
    done = subprocess.run(f"{feed} | grep -c {quoted}", shell=True, capture_output=True, text=True)
    return int(done.stdout)


def _expected(path: Path, window: tuple[str, str] | None = None) -> dict[str, int]:
    return {
        "errors": grep_c(path, "ERROR", window=window),
        "slow_query_lines": grep_c(path, "slow query", window=window),
        "failed_login_lines": grep_c(path, "failed login", window=window),
        "out_of_memory": grep_c(path, "-i", "out of memory", window=window),
        "requests": grep_c(path, " request method=", window=window),
        "errors_5xx": grep_c(path, "-E", " request method=.* status=5", window=window),
        "nginx_requests": grep_c(path, '] "', window=window),
        "slow_query_non_finite": grep_c(path, "-E", "duration_ms=(NaN|Infinity)", window=window),
    }


def test_counts_equal_grep_c(log: Path) -> None:
    found = scan.summary(files.scan_files([log]))
    assert {k: found[k] for k in _expected(log)} == _expected(log)
    assert found["lines"] == grep_c(log, "")
    per_minute = found["requests_per_minute"]
    assert isinstance(per_minute, dict)
    for minute in ("2026-11-27T01:00", "2026-11-27T01:37", "2026-11-27T02:39"):
        assert per_minute[minute] == grep_c(log, "-E", f"^{minute}.* request method=")
    assert found["slow_query_max_ms"] == 812.0  # NaN and Infinity skipped, counted apart


def test_window_equals_awk_then_grep(log: Path) -> None:
    since, until = (scan.stamp_of(_utc(t)) for t in WINDOW)
    found = scan.summary(files.scan_files([log], since, until))
    expected = _expected(log, WINDOW)
    assert {k: found[k] for k in expected} == expected


def test_rotated_gzipped_folder_equals_the_whole_file(log: Path, tmp_path: Path) -> None:
    lines = log.read_bytes().splitlines(keepends=True)
    parts = [lines[:30_000], lines[30_000:70_000], lines[70_000:100_000], lines[100_000:]]
    names = ["app.log.3.gz", "app.log.2.gz", "app.log.1", "app.log"]  # oldest first
    for name, part in zip(names, parts, strict=True):
        data = b"".join(part)
        (tmp_path / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    assert [p.name for p in files.log_files([tmp_path])] == names
    assert scan.summary(files.scan_files([tmp_path])) == scan.summary(files.scan_files([log]))


def test_cli_json_and_bad_time(log: Path) -> None:
    done = subprocess.run(
        [NETZOPS, "logs", "scan", str(log), "--since", WINDOW[0], "--until", WINDOW[1], "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(done.stdout)
    assert "NaN" not in done.stdout and "Infinity" not in done.stdout
    expected = _expected(log, WINDOW)
    assert {k: found[k] for k in expected} == expected
    bad = subprocess.run(
        [NETZOPS, "logs", "scan", str(log), "--since", "yesterday"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def _utc(text: str) -> object:
    from datetime import datetime

    return datetime.fromisoformat(text)


@pytest.mark.parametrize("engine", [scan.find_hyperscan, scan.find_bytes])
def test_each_engine_counts_what_grep_c_counts(log: Path, engine: scan.Engine) -> None:
    scanner = scan.Scanner(engine=engine)
    for block, start, end in scan.line_pieces(files.file_chunks(log)):
        scanner.feed(block, start, end)
    found = scan.summary(scanner.tally)
    assert {k: found[k] for k in _expected(log)} == _expected(log)
    assert found == scan.summary(files.scan_files([log]))


@pytest.mark.parametrize("size", [997, 4096, 65_536])
def test_blocks_cut_anywhere_give_the_same_tally(log: Path, size: int) -> None:
    """Blocks that cut lines (and a last line without its newline) are read as whole lines,
    in place (`line_pieces`) or re-cut (`whole_lines`, the Docker stream's way)."""
    data = log.read_bytes()[:-1]
    blocks = [data[at : at + size] for at in range(0, len(data), size)]
    whole = scan.Scanner()
    whole.feed(data + b"\n")  # the pieces end the last line, as `docker logs` would
    pieces, recut = scan.Scanner(), scan.Scanner()
    for block, start, end in scan.line_pieces(blocks):
        pieces.feed(block, start, end)
    for chunk in scan.whole_lines(blocks):
        recut.feed(chunk)
    expected = scan.summary(whole.tally)
    assert expected["lines"] == grep_c(log, "")
    assert scan.summary(pieces.tally) == expected == scan.summary(recut.tally)


def test_docker_frames_split_anywhere_are_joined() -> None:
    """The Engine's multiplexed stream (8-byte headers: stream, 0, 0, 0, big-endian size)
    gives back exactly the payloads, however the HTTP body is cut."""
    from netzops.logs.live import _demux

    rng = random.Random(3)
    payloads = [bytes(rng.randrange(256) for _ in range(rng.randint(0, 300))) for _ in range(400)]
    body = b"".join(
        bytes([rng.choice([1, 2]), 0, 0, 0]) + len(p).to_bytes(4, "big") + p for p in payloads
    )
    cuts = sorted(rng.sample(range(1, len(body)), 60))
    parts = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    assert b"".join(_demux(iter(parts))) == b"".join(payloads)


def test_a_chunked_body_cut_anywhere_is_joined() -> None:
    """HTTP/1.1 chunked transfer coding (the Engine's log stream: one chunk per line) is
    undone however the body arrives; a body without its last chunk is an error."""
    from http.client import IncompleteRead

    from netzops.logs.live import _dechunk

    rng = random.Random(4)
    datas = [bytes(rng.randrange(256) for _ in range(rng.randint(1, 700))) for _ in range(300)]
    body = b"".join(
        b"%x%s\r\n%s\r\n" % (len(d), b";ext=1" if i % 7 == 0 else b"", d)
        for i, d in enumerate(datas)
    )
    for ending in (b"0\r\n\r\n", b"0\r\nX-Trailer: 1\r\n\r\n"):
        whole = body + ending
        cuts = sorted(rng.sample(range(1, len(whole)), 80))
        parts = [whole[a:b] for a, b in zip([0, *cuts], [*cuts, len(whole)], strict=True)]
        assert b"".join(_dechunk(iter(parts))) == b"".join(datas)
    with pytest.raises(IncompleteRead):
        list(_dechunk(iter([body[:-5]])))


def _fields(tally: scan.Tally) -> dict[str, object]:
    """Everything a tally holds but the floating sums (their rounding depends on the order
    of the additions)."""
    return {
        "summary": scan.summary(tally),
        "kinds": {k: (v.count, v.first, v.last, v.example) for k, v in tally.kinds.items()},
        "slow": {q: (s.count, s.max, s.last) for q, s in tally.slow.items()},
        "logins": {p: (v.count, v.first, v.last, v.reasons) for p, v in tally.logins.items()},
        "oom_lines": list(tally.oom_lines),
        "server_errors": tally.server_errors,
        "error_minutes": tally.error_minutes,
    }


def test_pieces_are_cut_at_line_starts_and_cover_the_file(
    log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "PIECE_MIN", 1 << 20)
    data = log.read_bytes()
    cut = files.pieces([log], 3)
    assert len(cut) == 3 and cut[0].start == 0 and cut[-1].end is None
    for before, after in itertools.pairwise(cut):
        assert before.end == after.start and data[after.start - 1] == ord("\n")


@pytest.mark.parametrize("window", [None, WINDOW])
def test_parallel_scan_equals_one_pass(
    log: Path, window: tuple[str, str] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "PIECE_MIN", 1 << 20)
    since, until = (scan.stamp_of(_utc(t)) for t in window) if window else (None, None)
    recent = scan.stamp_of(_utc("2026-11-27T01:50:00Z"))
    one = files.scan_files([log], since, until, recent, workers=1)
    three = files.scan_files([log], since, until, recent, workers=3)
    assert _fields(three) == _fields(one)
    expected = _expected(log, window)
    assert {k: scan.summary(three)[k] for k in expected} == expected


def test_cli_workers(log: Path) -> None:
    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        argv = [NETZOPS, "logs", "scan", str(log), "--json", *extra]
        return subprocess.run(argv, capture_output=True, text=True)

    one, two = run("--workers", "1"), run("--workers", "2")
    assert json.loads(two.stdout) == json.loads(one.stdout)
    bad = run("--workers", "0")
    assert bad.returncode == 2 and "--workers" in bad.stderr and not bad.stdout

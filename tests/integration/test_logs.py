"""Container logs and their analysis against `docker logs` and grep on the same window.

A fixed, closed window (whole seconds, ending in the past) makes both sides see exactly the
same lines. Inside it the backend gets real slow queries, failed logins and an error rate
of 0.5 through its fault API (reset to 0 in a finally). A throwaway container prints one
line of every format for the level parser.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import numpy as np
import pytest
from docker import DockerClient

from netzops import containers, logs
from netzops.targets import Target
from tests.conftest import sh

PROJECT = "netzwaechter"


@dataclass(frozen=True)
class Window:
    since: int
    until: int
    user: str


def docker_logs(container: str, *args: str) -> tuple[str, str]:
    """(stdout, stderr) of `docker logs ARGS CONTAINER`: the container's two streams."""
    done = subprocess.run(
        ["docker", "logs", *args, container], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout, done.stderr


def grep_c(text: str, *pattern: str) -> int:
    done = subprocess.run(
        ["grep", "-c", *pattern],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return int(done.stdout.strip() or 0)


def names(service: str | None = None) -> list[str]:
    label = ["--filter", f"label=com.docker.compose.service={service}"] if service else []
    return sh(
        "docker",
        "ps",
        "-a",
        "--filter",
        f"label=com.docker.compose.project={PROJECT}",
        *label,
        "--format",
        "{{.Names}}",
    ).split()


def window_text(window: Window, service: str | None = None, *extra: str) -> str:
    args = ("--since", str(window.since), "--until", str(window.until), *extra)
    return "".join("".join(docker_logs(name, *args)) for name in names(service))


def _backend_urls() -> list[str]:
    urls = []
    for name in sh(
        "docker",
        "ps",
        "--filter",
        f"label=com.docker.compose.project={PROJECT}",
        "--filter",
        "label=com.docker.compose.service=backend",
        "--format",
        "{{.Names}}",
    ).split():
        host_port = sh("docker", "port", name, "5000").split()[0]
        urls.append(f"http://{host_port}")
    return urls


def _faults(http: httpx.Client, urls: list[str], **faults: float) -> None:
    for url in urls:
        http.post(f"{url}/api/_sandbox/faults", json=faults).raise_for_status()


@pytest.fixture(scope="module")
def window(target: Target) -> Window:
    """Slow queries, failed logins and a 50 % error rate, in a closed window of whole seconds."""
    user = f"netzops-test-{secrets.token_hex(3)}"
    since = int(time.time())
    urls = _backend_urls()
    with httpx.Client(timeout=10, verify=False) as http:
        try:
            _faults(http, urls, slow_query_ms=250)
            for url in urls:
                http.get(f"{url}/api/sites")
            _faults(http, urls, slow_query_ms=0)
            for _ in range(3):
                http.post(f"{urls[0]}/api/login", json={"username": user, "password": "x"})
            _faults(http, urls, error_rate=0.5)
            for i in range(60):
                http.get(f"{urls[i % len(urls)]}/api/users")
            for _ in range(40):
                http.get(f"{target.http.frontend_url}/api/users")
        finally:
            _faults(http, urls, error_rate=0, slow_query_ms=0)
    until = int(time.time()) + 1
    time.sleep(max(0.0, until + 1.2 - time.time()))  # the window is closed: nothing new in it
    return Window(since, until, user)


# --- viewing --------------------------------------------------------------------------------


def test_lines_per_container_and_stream_match_docker_logs(
    client: DockerClient, target: Target, window: Window
) -> None:
    result = logs.view(client, target, None, tail=None, since=window.since, until=window.until)
    seen = Counter((r["container"], r["stream"]) for r in result.rows)
    for name in names():
        out, err = docker_logs(name, "--since", str(window.since), "--until", str(window.until))
        assert seen[name, "stdout"] == out.count("\n"), name
        assert seen[name, "stderr"] == err.count("\n"), name
    times = [r["time"] for r in result.rows]
    assert times == sorted(times)


@pytest.mark.parametrize(
    ("pattern", "regex", "ignore_case", "grep"),
    [
        ("status=500", False, False, ["status=500"]),
        ("status=(401|500)", True, False, ["-E", "status=(401|500)"]),
        ("error", False, True, ["-i", "error"]),
    ],
)
def test_pattern_filter_counts_like_grep(
    client: DockerClient,
    target: Target,
    window: Window,
    pattern: str,
    regex: bool,
    ignore_case: bool,
    grep: list[str],
) -> None:
    result = logs.view(
        client,
        target,
        "backend",
        tail=None,
        since=window.since,
        until=window.until,
        pattern=pattern,
        regex=regex,
        ignore_case=ignore_case,
    )
    expected = grep_c(window_text(window, "backend"), *grep)
    assert len(result.rows) == expected > 0


# --- analysis -------------------------------------------------------------------------------


def test_errors_last_hour_equals_grep_c_error(
    client: DockerClient, target: Target, window: Window
) -> None:
    result = logs.errors_last_hour(client, target, "backend", until=window.until)
    hour = Window(window.until - 3600, window.until, window.user)
    expected = grep_c(window_text(hour, "backend"), "ERROR")
    assert result.metrics["logs.backend.errors_last_hour"] == expected > 0
    assert sum(r["count"] for r in result.rows) == expected
    assert any(r["kind"] == "injected fault" for r in result.rows)


def test_slow_queries_match_grep(client: DockerClient, target: Target, window: Window) -> None:
    result = logs.slow_queries(client, target, since=window.since, until=window.until)
    lines = [ln for ln in window_text(window, "backend").splitlines() if "slow query" in ln]
    durations = [
        float(re.search(r"duration_ms=([\d.]+)", ln).group(1))  # type: ignore[union-attr]
        for ln in lines
    ]
    assert result.metrics["logs.backend.slow_queries"] == len(lines) >= 1
    assert result.metrics["logs.backend.slow_query_max_ms"] == max(durations) >= 250
    assert sum(r["count"] for r in result.rows) == len(lines)


def test_failed_logins_by_user_and_ip_match_grep(
    client: DockerClient, target: Target, window: Window
) -> None:
    result = logs.failed_logins(client, target, since=window.since, until=window.until)
    text = window_text(window, "backend")
    expected = Counter(
        re.search(r"user=(\S+) ip=(\S+)", ln).groups()  # type: ignore[union-attr]
        for ln in text.splitlines()
        if "failed login" in ln
    )
    assert {(r["user"], r["ip"]): r["count"] for r in result.rows} == expected
    mine = [r for r in result.rows if r["user"] == window.user]
    assert len(mine) == 1 and mine[0]["count"] == 3 and mine[0]["reasons"] == "unknown_user 3"


def test_backend_error_rate_is_p1_and_matches_the_request_lines(
    client: DockerClient, target: Target, window: Window
) -> None:
    result = logs.request_rates(client, target, since=window.since, until=window.until)
    lines = [ln for ln in window_text(window, "backend").splitlines() if "request method=" in ln]
    statuses = [int(re.search(r" status=(\d+)", ln).group(1)) for ln in lines]  # type: ignore[union-attr]
    failed = sum(s >= 500 for s in statuses)
    assert result.metrics["logs.backend.requests"] == len(statuses)
    assert result.metrics["logs.backend.errors_5xx"] == failed > 10
    rate = round(failed / len(statuses) * 100, 2)
    assert result.metrics["logs.backend.error_rate_percent"] == rate
    assert sum(r["requests"] for r in result.rows) == len(statuses)
    assert [(f.subject, f.priority.name) for f in result.findings] == [("backend", "P1")]


def test_nginx_error_rate_and_request_times_match_the_access_log(
    client: DockerClient, target: Target, window: Window
) -> None:
    result = logs.nginx_error_rate(client, target, since=window.since, until=window.until)
    out, _ = docker_logs(
        "netzwaechter-frontend", "--since", str(window.since), "--until", str(window.until)
    )
    parsed = [re.search(r'" (\d{3}) .* rt=([\d.]+) ', ln) for ln in out.splitlines()]
    statuses = [int(m.group(1)) for m in parsed if m]
    times = [float(m.group(2)) * 1000 for m in parsed if m]
    assert result.metrics["logs.frontend.requests"] == len(statuses) >= 40
    assert result.metrics["logs.frontend.errors_5xx"] == sum(s >= 500 for s in statuses) > 5
    p50, p95 = np.percentile(times, [50, 95], method="inverted_cdf")  # nearest rank
    assert result.metrics["logs.frontend.rt_p50_ms"] == pytest.approx(p50, abs=1e-3)
    assert result.metrics["logs.frontend.rt_p95_ms"] == pytest.approx(p95, abs=1e-3)
    assert [f.priority.name for f in result.findings] == ["P1"]


def test_frame_holds_every_line_with_backend_levels(
    client: DockerClient, target: Target, window: Window
) -> None:
    data = logs.frame(client, target, None, since=window.since, until=window.until)
    assert len(data) == window_text(window).count("\n")
    backend = window_text(window, "backend").splitlines()
    assert (data[data.service == "backend"].level == "ERROR").sum() == sum(
        ln.split(" ")[1] == "ERROR" for ln in backend
    )
    assert data.time.is_monotonic_increasing
    assert list(data.columns) == ["time", "service", "container", "level", "message"]


# --- a throwaway container printing every format ---------------------------------------------

STDOUT = [
    (
        "INFO",
        "2026-11-27T01:17:34.796Z INFO request method=GET path=/api/users status=200 "
        "latency_ms=3.8 ip=127.0.0.1",
    ),
    ("ERROR", "2026-11-27T01:17:35.000Z ERROR out of memory: JavaScript heap out of memory"),
    (
        "WARN",
        "2026-11-27T01:17:35.100Z WARN failed login user=mallory ip=10.9.8.7 reason=unknown_user",
    ),
    ("WARN", "1:M 27 Nov 2026 01:13:19.060 # Server initialized"),
    (
        "ERROR",
        '172.20.0.1 - - [27/Nov/2026:01:16:24 +0000] "GET /api/sites HTTP/1.1" 502 16 '
        '"-" "x" rt=0.450 urt="0.450" us="502" ua="-"',
    ),
]
STDERR = [
    ("FATAL", "2026-11-27 01:16:24.574 UTC [9] FATAL:  Out of Memory: could not fork"),
    ("FATAL", "\t   continued statement text"),
    ("WARN", "2026/11/27 01:16:24 [warn] 7#7: conflicting server name"),
]


@pytest.fixture(scope="module")
def printer(target: Target, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """A target whose project is one exited throwaway container that printed STDOUT/STDERR."""
    folder = tmp_path_factory.mktemp("printer")
    (folder / "out.txt").write_text("".join(line + "\n" for _, line in STDOUT))
    (folder / "err.txt").write_text("".join(line + "\n" for _, line in STDERR))
    name = f"netzops-test-logs-{secrets.token_hex(4)}"
    sh(
        "docker",
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "none",
        "--label",
        f"com.docker.compose.project={name}",
        "--label",
        "com.docker.compose.service=backend",
        "--label",
        "com.docker.compose.container-number=1",
        "-v",
        "/usr:/usr:ro",
        "-v",
        f"{folder}:/t:ro",
        "netzwaechter/base:local",
        "/bin/sh",
        "-c",
        "cat /t/out.txt; sleep 0.3; cat /t/err.txt >&2",
    )
    try:
        sh("docker", "wait", name, timeout=30)
        yield target.model_copy(
            update={"compose": target.compose.model_copy(update={"project": name})}
        )
    finally:
        sh("docker", "rm", "-f", name, check=False)


def _printer_name(printer: Target) -> str:
    return printer.compose.project


def test_frame_levels_on_every_format(client: DockerClient, printer: Target) -> None:
    data = logs.frame(client, printer, "backend")
    assert list(data.level) == [level for level, _ in STDOUT + STDERR]
    assert list(data.container) == [_printer_name(printer)] * len(STDOUT + STDERR)


def test_streams_of_the_throwaway_container(client: DockerClient, printer: Target) -> None:
    rows = logs.view(client, printer, tail=None).rows
    out, err = docker_logs(_printer_name(printer))
    assert [r["message"] for r in rows if r["stream"] == "stdout"] == out.splitlines()
    assert [r["message"] for r in rows if r["stream"] == "stderr"] == err.splitlines()
    bare = logs.view(client, printer, tail=2, timestamps=False).rows
    assert [r["message"] for r in bare] == [line for _, line in STDERR[1:]]
    assert all(r["time"] is None for r in bare)


@pytest.mark.parametrize("tail", [0, 2, 6, 100])
def test_tail_spans_both_streams_like_docker_logs_tail(
    client: DockerClient, printer: Target, tail: int
) -> None:
    """Checked on a container that no longer logs: with a live one, `--tail` with `--until`
    depends on how many lines came after the window (Docker cuts the file's tail first)."""
    rows = logs.view(client, printer, tail=tail).rows
    out, err = docker_logs(_printer_name(printer), "--tail", str(tail))
    assert [r["message"] for r in rows if r["stream"] == "stdout"] == out.splitlines()
    assert [r["message"] for r in rows if r["stream"] == "stderr"] == err.splitlines()
    assert len(rows) == min(tail, len(STDOUT + STDERR))


def test_out_of_memory_lines_are_p1_and_match_grep_i(client: DockerClient, printer: Target) -> None:
    result = logs.out_of_memory(client, printer)
    out, err = docker_logs(_printer_name(printer))
    assert (
        result.metrics["logs.backend.out_of_memory"]
        == grep_c(out + err, "-i", "out of memory")
        == 2
    )
    assert [(f.subject, f.priority.name) for f in result.findings] == [
        (_printer_name(printer), "P1")
    ]


def test_errors_of_the_throwaway_container(client: DockerClient, printer: Target) -> None:
    result = logs.errors_last_hour(client, printer)
    out, err = docker_logs(_printer_name(printer), "--since", "1h")
    assert result.metrics["logs.backend.errors_last_hour"] == grep_c(out + err, "ERROR") == 1
    assert result.rows[0]["kind"] == "out of memory"


def test_an_unreachable_engine_is_a_finding(target: Target) -> None:
    down = target.model_copy(update={"docker_host": "tcp://127.0.0.1:9"})
    client = containers.connect(down)
    for result in (
        logs.view(client, down, "backend"),
        logs.errors_last_hour(client, down),
        logs.request_rates(client, down),
        logs.nginx_error_rate(client, down),
    ):
        assert [f.priority.name for f in result.findings] == ["P0"], result.title

"""Response-time sampling (the runbook's `time curl -o /dev/null -s -w '%{time_total}'`),
compared with nginx's own request times (`rt=` in the frontend access log) and with curl."""

from __future__ import annotations

import re
import socket
import statistics
import threading
import time
import uuid

import httpx
import pytest

from netzops import endpoints
from netzops.errors import BadInput
from netzops.findings import Priority
from netzops.quantiles import percentile
from netzops.targets import Target
from tests.conftest import sh, wait_for
from tests.integration.test_cache_actions import closed_port

LOG_LINE = re.compile(r'"GET (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3}) .* rt=(?P<rt>[\d.]+)')


def nginx_lines(token: str, want: int) -> list[re.Match[str]]:
    """Access-log lines of the frontend that carry `token` (waits for `want` of them)."""
    deadline = time.monotonic() + 5
    while True:
        logs = sh("docker", "logs", "--since", "2m", "netzwaechter-frontend")
        found = [m for m in map(LOG_LINE.search, logs.splitlines()) if m and token in m["path"]]
        if len(found) >= want or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_sample_matches_the_access_log(target: Target) -> None:
    token = uuid.uuid4().hex
    url = f"{target.http.frontend_url}/api/users?netzops-sample={token}"
    with endpoints.client(target) as http:
        result = endpoints.sample(http, url, count=20, name="frontend_api", target=target)
    row = result.rows[0]
    lines = nginx_lines(token, 20)
    assert len(lines) == row["requests"] == 20  # every request reached nginx, once
    assert {m["status"] for m in lines} == {"200"} and row["errors"] == 0
    server_ms = sorted(float(m["rt"]) * 1000 for m in lines)
    # nginx's time is part of the client's (1 ms: nginx logs milliseconds)
    assert server_ms[-1] <= row["max_ms"] + 1
    assert percentile(server_ms, 50) <= row["p50_ms"] + 1
    assert row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"] <= row["max_ms"]
    for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms"):
        assert result.metrics[f"http.frontend_api.{key}"] == row[key]
    assert result.metrics["http.frontend_api.errors"] == 0
    slow = row["p95_ms"] > target.bands["api_response_ms"].warn
    assert bool(result.findings) == slow


def test_sample_agrees_with_curl(target: Target) -> None:
    url = f"{target.http.frontend_url}/api/users"
    curl_ms = [
        float(sh("curl", "-k", "-o", "/dev/null", "-s", "-w", "%{time_total}", url)) * 1000
        for _ in range(10)
    ]
    with endpoints.client(target) as http:
        row = endpoints.sample(http, url, count=10, target=target).rows[0]
    # curl opens a new TLS connection each time, the client keeps one: 100 ms covers that
    assert abs(statistics.median(curl_ms) - row["p50_ms"]) < 100
    assert row["name"] == "127_0_0_1_8443_api_users"


def test_http_errors_are_counted(target: Target) -> None:
    token = uuid.uuid4().hex
    url = f"{target.http.frontend_url}/api/netzops-test-missing?netzops-sample={token}"
    with endpoints.client(target) as http:
        result = endpoints.sample(http, url, count=5, name="missing", target=target)
    lines = nginx_lines(token, 5)
    row = result.rows[0]
    assert [m["status"] for m in lines] == ["404"] * 5
    assert row["errors"] == 5 and row["first_error"] == "HTTP 404"
    assert row["p50_ms"] is not None  # answered, just not successfully
    assert result.metrics["http.missing.error_rate_percent"] == 100
    assert [(f.priority, f.threshold) for f in result.findings] == [(Priority.P1, 5)]


def test_no_answer_is_p0_without_exception() -> None:
    url = f"http://127.0.0.1:{closed_port()}/api/users"
    start = time.monotonic()
    with httpx.Client(timeout=1.0) as http:
        result = endpoints.sample(http, url, count=3, name="down")
    assert time.monotonic() - start < 3 * 1.0 + 1
    row = result.rows[0]
    assert (row["errors"], row["p50_ms"], row["max_ms"]) == (3, None, None)
    assert "ConnectError" in row["first_error"]
    assert [f.priority for f in result.findings] == [Priority.P0]
    assert "http.down.p50_ms" not in result.metrics
    assert result.metrics["http.down.errors"] == 3


def test_budget_comes_from_the_target(target: Target) -> None:
    strict = Target.model_validate(
        {**target.model_dump(), "thresholds": {"api_response_ms": {"warn": 0.001}}}
    )
    with endpoints.client(target) as http:
        result = endpoints.sample(
            http, f"{target.http.frontend_url}/api/users", count=3, name="strict", target=strict
        )
        with pytest.raises(BadInput):
            endpoints.sample(http, target.http.frontend_url, count=0)
    assert [(f.priority, f.threshold) for f in result.findings] == [(Priority.P2, 0.001)]
    assert "p95 response time" in result.findings[0].summary


class Silent:
    """A local HTTP server that accepts and reads every request but never answers: what a
    hanging service looks like to the client. Counts the requests it received."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.requests = 0
        self.held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/api/users"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed
            self.held.append(conn)
            data = b""
            while b"\r\n\r\n" not in data and (chunk := conn.recv(4096)):
                data += chunk
            self.requests += data.count(b"GET /api/users ")
            self.answer(conn)

    def answer(self, conn: socket.socket) -> None:
        """Never: the connection is held open."""

    def close(self) -> None:
        for conn in [*self.held, self.sock]:
            conn.close()


@pytest.mark.parametrize(("give_up_after", "sent"), [(1, 1), (2, 2), (0, 4)])
def test_sampling_stops_after_the_first_timeouts(give_up_after: int, sent: int) -> None:
    server = Silent()
    timeout_s = 0.5
    try:
        start = time.monotonic()
        with httpx.Client(timeout=timeout_s) as http:
            result = endpoints.sample(
                http, server.url, 4, name="hang", give_up_after=give_up_after, budget_s=60
            )
        elapsed = time.monotonic() - start
        got = wait_for(lambda: server.requests if server.requests >= sent else None, 5, "requests")
    finally:
        server.close()
    row = result.rows[0]
    assert got == server.requests == row["requests"] == row["errors"] == sent
    assert sent * timeout_s <= elapsed < sent * timeout_s + 1.0, elapsed
    assert "ReadTimeout" in row["first_error"]
    assert [(f.priority, f.summary.split(":")[0]) for f in result.findings] == [
        (Priority.P0, f"no answer in {sent} requests")
    ]


class Crawling(Silent):
    """A local HTTP server that answers every request with a 500 after `delay_s`: a backend
    waiting on its database's own connect timeout. Counts the requests it received."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        super().__init__()

    def answer(self, conn: socket.socket) -> None:
        time.sleep(self.delay_s)
        conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
        conn.close()


@pytest.mark.parametrize(("timeout_s", "budget_s", "sent"), [(1.0, None, 5), (5.0, 1.1, 3)])
def test_slow_failures_stop_at_the_sampling_budget(
    timeout_s: float, budget_s: float | None, sent: int
) -> None:
    """Answers that come, but slowly (0.45 s each), never time out: the budget (twice the
    client's read timeout, or given) ends the sampling with a note saying how far it got."""
    server = Crawling(0.45)
    try:
        start = time.monotonic()
        with httpx.Client(timeout=timeout_s) as http:
            result = endpoints.sample(http, server.url, 20, name="slow", budget_s=budget_s)
        elapsed = time.monotonic() - start
    finally:
        server.close()
    row = result.rows[0]
    assert server.requests == row["requests"] == row["errors"] == sent
    assert sent * 0.45 <= elapsed < sent * 0.45 + 1.0, elapsed
    assert row["first_error"] == "HTTP 500"
    budget = budget_s or 2 * timeout_s
    (note,) = result.notes
    found = re.fullmatch(
        rf"slow: sampling stopped after ([\d.]+) s \(budget {budget:g} s\): {sent} of 20 "
        r"requests sent",
        note,
    )
    assert found and budget <= float(found[1]) < budget + 0.5, note
    with httpx.Client(timeout=timeout_s) as http, pytest.raises(BadInput, match="budget_s"):
        endpoints.sample(http, "http://127.0.0.1:9/", 3, budget_s=0)  # refused at once

"""Shared helpers of the record tests (tests/notebooks/test_records_*.py): run a notebook
headless the way `netzops run` does, read its side-car, and ask the usual tools (psql,
redis-cli, docker, openssl) about the same stack."""

from __future__ import annotations

import calendar
import json
import math
import os
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from netzops.findings import Priority
from netzops.results import MIME_TYPE
from netzops.runner import notebooks
from netzops.runner.execution import execute, prepare
from netzops.runner.parameters import parse_assignments
from netzops.sandbox import stack
from netzops.targets import load_target
from tests.conftest import ROOT, psql, redis_cli, sh

NETZOPS = str(ROOT / ".venv" / "bin" / "netzops")
PROJECT = "netzwaechter"
POSTGRES = "netzwaechter-postgres"
REDIS = "netzwaechter-redis"
TEST_KEYS = "netzops-nbtest:"  # prefix of the Redis keys these tests create (and remove)

Side = dict[str, Any]


# --- runs and their records -----------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """One headless run: its exit code, side-car, HTML and the wall-clock time around it."""

    exit: int
    side: Side
    html: Path
    notebook: Path
    before: float  # time.time() just before the run
    after: float  # time.time() just after it

    def metric(self, name: str) -> float:
        assert name in self.side["metrics"], f"no metric {name} in {sorted(self.side['metrics'])}"
        return float(self.side["metrics"][name])

    def results(self, check: str) -> list[Side]:
        return [r for r in self.side["results"] if r["check"] == check]

    def result(self, check: str) -> Side:
        found = self.results(check)
        assert found, f"no result {check}: {[r['check'] for r in self.side['results']]}"
        return found[0]

    def all_rows(self, check: str) -> list[Side]:
        """Every row of the first result `check` as the executed notebook holds it (the
        side-car keeps only the first ROWS_KEPT of each result)."""
        for cell in json.loads(self.notebook.read_text())["cells"]:
            for output in cell.get("outputs", []):
                data = output.get("data", {}).get(MIME_TYPE)
                if data and data["check"] == check:
                    return list(data.get("rows", []))
        raise AssertionError(f"no result {check} in {self.notebook}")

    def findings(self, check: str | None = None, priority: str | None = None) -> list[Side]:
        return [
            f
            for f in self.side["findings"]
            if check in (None, f["check"]) and priority in (None, f["priority"])
        ]

    @classmethod
    def load(cls, sidecar: Path) -> Record:
        """The record of a run made elsewhere (the CLI), from its side-car."""
        side = json.loads(sidecar.read_text())
        return cls(
            int(side["exit_code"]),
            side,
            sidecar.with_suffix(".html"),
            sidecar.with_suffix(".ipynb"),
            0.0,
            0.0,
        )

    @property
    def action(self) -> Side:
        assert len(self.side["actions"]) == 1, self.side["actions"]
        return dict(self.side["actions"][0])


def run(name: str, *pairs: str, fail_on: Priority = Priority.P1) -> Record:
    """Run notebook `name` headless with `-p key=value` pairs, as `netzops run` does."""
    target = load_target("sandbox")
    notebook = notebooks.load(name)
    params = prepare(notebook, target, [], parse_assignments(pairs))
    before = time.time()
    done = execute(notebook, target, params, fail_on, 300)
    return Record(
        int(done.exit),
        json.loads(done.sidecar.read_text()),
        done.html,
        done.notebook,
        before,
        time.time(),
    )


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The `netzops` command line (records go to the tests' NETZOPS_OUTPUTS)."""
    return subprocess.run(
        [NETZOPS, *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=os.environ.copy(),
        check=False,
    )


def printed_path(stdout: str, label: str) -> Path:
    """The path the CLI printed after `label:` (record, html, sidecar, summary)."""
    return Path(
        next(line.split(None, 1)[1] for line in stdout.splitlines() if line.startswith(f"{label}:"))
    )


def confirmation(action: Side) -> str:
    """The confirmation string of a dry run's audit entry: action@target#fingerprint."""
    return f"{action['action']}@{action['target']}#{action['fingerprint']}"


def within(value: float, expected: float, tolerance: float) -> bool:
    return abs(value - expected) <= tolerance


# --- PostgreSQL and Redis -------------------------------------------------------------------


def psql_rows(query: str) -> list[list[str]]:
    return [line.split("|") for line in psql(query).splitlines() if line]


def redis_scan(pattern: str) -> list[str]:
    return redis_cli("--scan", "--pattern", pattern).split()


def redis_info(section: str) -> dict[str, str]:
    lines = redis_cli("INFO", section).splitlines()
    return dict(line.split(":", 1) for line in lines if ":" in line)


# --- Docker ---------------------------------------------------------------------------------


def containers(service: str | None = None) -> list[str]:
    """Names of the project's running containers (of one service)."""
    label = ["--filter", f"label=com.docker.compose.service={service}"] if service else []
    return sorted(
        sh(
            "docker",
            "ps",
            "--filter",
            f"label=com.docker.compose.project={PROJECT}",
            *label,
            "--format",
            "{{.Names}}",
        ).split()
    )


def inspect(name: str, template: str) -> str:
    return sh("docker", "inspect", "-f", template, name).strip()


def docker_ps_health() -> dict[str, bool]:
    """service → every running replica is healthy, as `docker ps` shows it."""
    ps = sh(
        "docker",
        "ps",
        "--filter",
        f"label=com.docker.compose.project={PROJECT}",
        "--format",
        '{{.Label "com.docker.compose.service"}} {{.Status}}',
    )
    healthy: dict[str, bool] = {}
    for line in ps.splitlines():
        service = line.split()[0]
        healthy[service] = healthy.get(service, True) and "(healthy)" in line
    return healthy


_UNITS = {"B": 1, "kB": 1e3, "KiB": 2**10, "MB": 1e6, "MiB": 2**20, "GB": 1e9, "GiB": 2**30}


def docker_stats_memory() -> dict[str, float]:
    """container → memory usage in bytes, from `docker stats --no-stream`."""
    out = sh("docker", "stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}", *containers())
    found = {}
    for line in out.splitlines():
        name, usage = line.split(None, 1)
        size = re.fullmatch(r"([\d.]+)\s*([A-Za-z]+)", usage.split("/")[0].strip())
        assert size, line
        found[name] = float(size[1]) * _UNITS[size[2]]
    return found


def log_count(service: str, pattern: str, since: float, until: float) -> int:
    """`docker logs --since S --until U <container> | grep -c PATTERN`, every replica,
    both streams."""
    total = 0
    for name in containers(service):
        done = subprocess.run(
            ["docker", "logs", "--since", str(int(since)), "--until", str(int(until)), name],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        text = done.stdout + done.stderr
        total += sum(pattern in line for line in text.splitlines())
    return total


def hour_bracket(service: str, pattern: str, before: float, after: float) -> tuple[int, int]:
    """(fewest, most) lines with `pattern` that a one-hour window ending anywhere between
    `before` and `after` can hold: [after-1h, before] ⊆ window ⊆ [before-1h, after]."""
    low = log_count(service, pattern, math.ceil(after) - 3600 + 1, math.floor(before) - 1)
    high = log_count(service, pattern, math.floor(before) - 3600 - 1, math.ceil(after) + 1)
    return low, high


# --- faults and the certificate -------------------------------------------------------------


def backend_urls() -> list[str]:
    """Each backend replica by its published port (`docker port`)."""
    return [
        f"http://{sh('docker', 'port', name, '5000').split()[0]}" for name in containers("backend")
    ]


@contextmanager
def backend_faults(**faults: float) -> Iterator[list[str]]:
    """Set faults on every backend replica; reset them to 0 afterwards, whatever happens."""
    urls = backend_urls()
    with httpx.Client(timeout=10) as http:
        try:
            for url in urls:
                http.post(f"{url}/api/_sandbox/faults", json=faults).raise_for_status()
            yield urls
        finally:
            for url in urls:
                http.post(
                    f"{url}/api/_sandbox/faults", json=dict.fromkeys(faults, 0)
                ).raise_for_status()


def backend_error_rate_traffic(requests: int) -> int:
    """With error_rate 0.5 on every replica, `requests` GET /api/users straight to the
    backends; returns how many were answered 500."""
    failed = 0
    with backend_faults(error_rate=0.5) as urls, httpx.Client(timeout=10) as http:
        for i in range(requests):
            failed += http.get(f"{urls[i % len(urls)]}/api/users").status_code == 500
    return failed


@contextmanager
def expired_certificate() -> Iterator[None]:
    """nginx serves a certificate that expired a day ago; 90 days again afterwards."""
    engine = stack.engine()
    try:
        stack.set_certificate(-1, engine)
        yield
    finally:
        stack.set_certificate(90, engine)
        engine.close()


def served_certificate_end() -> float:
    """notAfter (epoch seconds) of the certificate nginx serves, read with openssl."""
    tls = load_target("sandbox").tls[0]
    pem = subprocess.run(
        [
            "openssl",
            "s_client",
            "-connect",
            f"{tls.host}:{tls.port}",
            "-servername",
            tls.server_name or tls.host,
        ],
        input="",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    ).stdout
    end = subprocess.run(
        ["openssl", "x509", "-noout", "-enddate", "-dateopt", "iso_8601"],
        input=pem,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    stamp = end.stdout.strip().split("=", 1)[1]
    return float(calendar.timegm(time.strptime(stamp, "%Y-%m-%d %H:%M:%SZ")))


@dataclass(frozen=True)
class Guarded:
    """A guarded action run twice through its notebook: the dry run, then confirmed with
    the dry run's confirmation string; `seen` holds what the usual tool said at each step
    (before, after_dry, after_done and, once the sandbox is put back, restored)."""

    dry: Record
    done: Record
    seen: dict[str, Any]

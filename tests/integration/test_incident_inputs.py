"""The incident notebook's library under careless and hostile input, against the real sandbox:
updates at the same moment, a record file cut short or not JSON, an update after the
resolution, a commander on two lines, terminal escapes and a pasted secret in a summary, the
Docker engine gone during an update. Each refusal is one BadInput line, before anything
changes; the record file is never lost."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from netzops.errors import BadInput
from netzops.incidents import incident as inc
from netzops.targets import Target
from tests.conftest import wait_for


def _record(target: Target, resolved: bool = False) -> dict[str, Any]:
    """An incident as opening one writes it (opened five minutes ago, 12 of 40 requests 5xx)."""
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    at = now.isoformat()
    ident = f"INC-{now:%Y%m%d-%H%M%S}"
    updates = [
        {"at": at, "status": "Investigating", "summary": "api 5xx", "commander": "alice",
         "next_update": (now + timedelta(minutes=30)).isoformat()},
    ]  # fmt: skip
    if resolved:
        updates.append(
            {"at": at, "status": "Resolved", "summary": "fixed", "commander": "alice",
             "next_update": None}
        )  # fmt: skip
    users = {"since": at, "requests": 40, "errors_5xx": 12, "first_5xx": at, "clients": 3,
             "clients_5xx": 2, "failing_endpoints": {"GET /api/users": 12}}  # fmt: skip
    return {
        "id": ident, "target": target.name, "severity": "P1", "severity_from": "sweep",
        "detected": at, "start": at, "status": updates[-1]["status"], "commander": "alice",
        "affected": {"services": ["backend"], "users": users}, "changes": [], "findings": [],
        "updates": updates, "resolved": at if resolved else None,
    }  # fmt: skip


@pytest.fixture()
def opened(sandbox: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """An incident of the sandbox in an outputs folder of this test: (id, its file)."""
    monkeypatch.setenv("NETZOPS_OUTPUTS", str(tmp_path))
    record = _record(sandbox)
    path = inc.path_of(record["id"])
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(record))
    return record["id"], path


# one update in a process of its own, started when the test says go (all at the same moment)
UPDATE = """
import sys, time
from pathlib import Path
from netzops.incidents import incident
from netzops.targets import load_target
ident, summary, folder = sys.argv[1:]
target = load_target("sandbox")
(Path(folder) / f"ready-{summary}").touch()
while not (Path(folder) / "go").exists():
    time.sleep(0.005)
incident.update_incident(target, ident, "Identified", summary)
"""


def test_updates_at_the_same_moment_all_land(opened: tuple[str, Path], tmp_path: Path) -> None:
    ident, path = opened
    gate = tmp_path / "gate"
    gate.mkdir()
    names = [f"w{i}" for i in range(4)]
    workers = [
        subprocess.Popen([sys.executable, "-c", UPDATE, ident, name, str(gate)]) for name in names
    ]
    try:
        wait_for(lambda: len(list(gate.glob("ready-*"))) == 4 or None, 60, "4 workers ready")
        (gate / "go").touch()
        codes = [w.wait(60) for w in workers]
    finally:
        for w in workers:
            w.kill()
    assert codes == [0, 0, 0, 0]
    record = json.loads(path.read_text())
    assert sorted(u["summary"] for u in record["updates"][1:]) == names
    assert not list(path.parent.glob("*.tmp")) and not list(path.parent.glob(".*.tmp"))


@pytest.mark.parametrize(
    "content",
    [
        b'{"id": "INC-2026',  # cut short (disk full, a kill during a copy)
        b"not json at all\n",
        b"\xff\xfe{}",  # not UTF-8
        b"[1, 2]",
        b'{"id": "x"}',
        b"status=Done",  # edited by hand: a status the phase clock does not know
        b"start=yesterday",
    ],
    ids=["truncated", "not-json", "not-utf8", "a-list", "no-fields", "status", "start"],
)
def test_a_broken_record_file_is_named_and_left_as_it_is(
    opened: tuple[str, Path], sandbox: Target, content: bytes
) -> None:
    ident, path = opened
    if content.startswith((b"status=", b"start=")):
        key, _, value = content.decode().partition("=")
        content = json.dumps(json.loads(path.read_text()) | {key: value}).encode()
    path.write_bytes(content)
    with pytest.raises(BadInput) as caught:
        inc.update_incident(sandbox, ident, "Monitoring", "still broken")
    message = str(caught.value)
    assert str(path) in message and "\n" not in message and "restore it" in message
    assert path.read_bytes() == content


def test_an_update_after_the_resolution_is_refused(
    sandbox: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETZOPS_OUTPUTS", str(tmp_path))
    record = _record(sandbox, resolved=True)
    path = inc.path_of(record["id"])
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(record))
    before = path.read_bytes()
    with pytest.raises(BadInput, match=r"was resolved at .*a new incident"):
        inc.update_incident(sandbox, record["id"], "Investigating", "it is back")
    assert path.read_bytes() == before
    note = inc.update_incident(sandbox, record["id"], "Resolved", "root cause: disk full")
    assert note["status"] == "Resolved" and note["resolved"] == record["resolved"]


def test_a_commander_on_two_lines_is_refused_before_anything_changes(
    opened: tuple[str, Path], sandbox: Target
) -> None:
    ident, path = opened
    before = path.read_bytes()
    for name in ("bob\nevil", "bob\x1b[31m", "x" * 101, "bob\u2028evil", "\u202eecila"):
        with pytest.raises(BadInput, match="commander"):
            inc.update_incident(sandbox, ident, "Identified", "db", commander=name)
    secret = sandbox.secret("postgres_password")  # pasted below a name: the refusal names
    with pytest.raises(BadInput) as caught:  # no part of it (a cut secret is not masked)
        inc.update_incident(sandbox, ident, "Identified", "db", commander=f"{'x' * 30}\n{secret}")
    shown = secret[:8] in str(caught.value)
    assert not shown
    assert path.read_bytes() == before


def test_terminal_escapes_and_a_pasted_secret_never_reach_the_record(
    opened: tuple[str, Path], sandbox: Target
) -> None:
    ident, path = opened
    secret = sandbox.secret("postgres_password")
    split = f"{secret[:5]}\x1b[0m{secret[5:]}"  # a coloured paste cuts the secret in two
    summary = f"\x1b[31mdb down\x1b[0m, pw {split}\r\nsecond line \x07\x9b\u2028\u202ethird\n\n"
    record = inc.update_incident(sandbox, f" {ident.lower()}\n", "Identified", summary)
    text = path.read_text()
    leaked = secret in text or secret in json.dumps(record)  # a bool: never shown on failure
    assert not leaked
    assert "\\u001b" not in text and "\\u0007" not in text
    assert record["updates"][-1]["summary"] == "db down, pw ********\nsecond line\nthird"
    lines = [str(r["line"]) for r in inc.communication(record).rows]
    assert "db down, pw ********" in lines
    assert all(ch >= " " or ch == "\t" for line in lines for ch in line)


def test_the_engine_gone_keeps_the_counts_and_says_so(
    opened: tuple[str, Path], sandbox: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    ident, path = opened
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    record = inc.update_incident(sandbox, ident, "Monitoring", "watching")
    users = record["affected"]["users"]
    assert (users["requests"], users["errors_5xx"]) == (40, 12)  # not 0 of 0
    assert "Docker engine" in users["unreadable"] and "as of before" in users["unreadable"]
    assert json.loads(path.read_text())["affected"]["users"] == users
    fresh = dict(record, affected={"services": ["backend"], "users": {}})
    fresh["affected"]["users"] = inc.affected_users(
        inc.containers.connect(sandbox), sandbox, datetime.now(UTC)
    )
    impact = inc.impact_text(fresh)
    assert impact.startswith("affected users unknown (frontend access log: Docker engine")

"""The event journal against the real engine: what `docker events` reports live is in the
journal, with the same nanosecond times, exactly once, across a recorder killed (-9) and
restarted, a recorder stopped and started, a broken event stream, and (gap entries) events
the daemon no longer has."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from docker import DockerClient

from netzops import incidents
from netzops.incidents import journal as jr
from netzops.incidents.journal import Recorder
from netzops.targets import Target
from tests.conftest import pause_unpause, sh

REDIS = "netzwaechter-redis"
LABEL = "label=com.docker.compose.project=netzwaechter"


def _wait(what: str, test: Callable[[], object], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not test():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@contextmanager
def live_events() -> Iterator[list[dict[str, Any]]]:
    """`docker events` for the project while the block runs (kept actions only)."""
    since = f"{time.time():.3f}"
    found: list[dict[str, Any]] = []
    proc = subprocess.Popen(
        [
            "docker",
            "events",
            "--since",
            since,
            "--filter",
            "type=container",
            "--filter",
            LABEL,
            "--format",
            "{{json .}}",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield found
    finally:
        time.sleep(0.5)  # the CLI's own stream lags the daemon a little
        proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=10)[0]
        for line in out.splitlines():
            event = json.loads(line)
            if event["Action"].partition(":")[0] in jr.ACTIONS:
                found.append(event)


def _keys_live(events: list[dict[str, Any]]) -> set[tuple[int, str, str]]:
    return {(int(e["timeNano"]), e["id"][:12], e["Action"].partition(":")[0]) for e in events}


def _journal_keys(path: Path) -> list[tuple[int, str, str]]:
    return [jr.key(x) for x in jr.read(path) if x["entry"] == "event"]


def _in_journal(path: Path, keys: set[tuple[int, str, str]]) -> Callable[[], bool]:
    return lambda: keys <= set(_journal_keys(path))


def test_recorder_killed_and_restarted_loses_nothing(sandbox: Target) -> None:
    first = incidents.start_recorder(sandbox)
    assert first.running and first.pid and first.journal
    assert incidents.start_recorder(sandbox).pid == first.pid, "idempotent: no second recorder"
    path = Path(first.journal)
    with live_events() as seen:
        os.kill(first.pid, signal.SIGKILL)
        _wait("the recorder to end", lambda: not incidents.recorder_status("sandbox").running)
        pause_unpause(REDIS)  # while no recorder runs
        second = incidents.start_recorder(sandbox)
        assert second.running and second.pid != first.pid
        pause_unpause(REDIS)  # while the new one streams
        incidents.stop_recorder("sandbox")  # SIGTERM: drains, then ends
        pause_unpause(REDIS)  # while stopped
        third = incidents.start_recorder(sandbox)
        assert third.running
    wanted = _keys_live(seen)
    assert len({k[2] for k in wanted} & {"pause", "unpause"}) == 2, seen
    _wait("every live event in the journal", _in_journal(path, wanted))
    keys = _journal_keys(path)
    assert len(keys) == len(set(keys)), "no event written twice"
    nanos = [int(x["time_nano"]) for x in jr.read(path)]
    assert nanos == sorted(nanos), "the journal is in time order"
    states = [x.get("state") for x in jr.read(path) if x["entry"] == "recorder"]
    assert "stopped" in states and states[-1] == "started"


class Held(Recorder):
    """A recorder whose reconnect waits until the test lets it go (so that events happen
    while its stream is down)."""

    release: threading.Event

    def catch_up(self, lost_at: int | None, extra: list[dict[str, Any]] | None = None) -> int:
        if lost_at is not None:
            self.release.wait(30)
        return super().catch_up(lost_at, extra)


def test_broken_stream_reconnects_and_replays_with_since(
    sandbox: Target, client: DockerClient, tmp_path: Path
) -> None:
    path = tmp_path / "events.jsonl"
    recorder = Held(client, sandbox, path)
    recorder.release = threading.Event()
    worker = threading.Thread(target=recorder.run)
    worker.start()
    try:
        _wait("the recorder streaming", lambda: recorder.stream is not None)
        with live_events() as seen:
            recorder.stream.close()  # the stream breaks, as when the engine goes away
            pause_unpause(REDIS)
            recorder.release.set()
            _wait(
                "the reconnect entry", lambda: any(x["entry"] == "reconnect" for x in jr.read(path))
            )
        wanted = _keys_live(seen)
        _wait("the missed events replayed", _in_journal(path, wanted))
    finally:
        recorder.stop = True
        recorder.release.set()
        if recorder.stream is not None:
            recorder.stream.close()
        worker.join(30)
    lines = list(jr.read(path))
    reconnect = next(x for x in lines if x["entry"] == "reconnect")
    assert reconnect["replayed"] >= 2
    assert not any(x["entry"] == "gap" for x in lines)


def test_gap_entry_when_the_daemon_no_longer_has_the_events(
    sandbox: Target, client: DockerClient, tmp_path: Path
) -> None:
    """A journal whose last event is older than the daemon's memory (256 events; health-check
    execs fill it in about a minute) and containers started since: the recorder writes a gap
    entry and reconstructs each start from container state."""
    started = {
        c.name: jr._nano_of(c.attrs["State"]["StartedAt"])
        for c in client.containers.list(filters={"label": LABEL.removeprefix("label=")})
    }
    oldest = min(started, key=lambda n: started[n])
    inspected = sh("docker", "inspect", "-f", "{{.State.StartedAt}}", oldest).strip()
    assert jr._nano_of(inspected) == started[oldest]

    def daemon_has_the_start() -> bool:
        replay = client.api.events(
            since=f"{started[oldest] // 10**9}",
            until=f"{time.time():.3f}",
            filters={"label": LABEL[6:]},
            decode=True,
        )
        return any(
            e["Action"] == "start" and e["Actor"]["Attributes"]["name"] == oldest for e in replay
        )

    # the daemon keeps its last 256 events: execs (3 events each) push that start out of them
    busy, deadline = client.containers.get("netzwaechter-redis"), time.monotonic() + 120
    while daemon_has_the_start():
        assert time.monotonic() < deadline, "the daemon still has that start after 2 min"
        for _ in range(30):
            busy.exec_run(["true"])
    path = tmp_path / "events.jsonl"
    last = started[oldest] - 1_000_000_000
    path.write_text(json.dumps(jr._line(last, "event", action="start", id="0" * 12)) + "\n")
    recorder = Recorder(client, sandbox, path)
    recorder.catch_up(lost_at=last + 1)
    lines = list(jr.read(path))
    gap = next(x for x in lines if x["entry"] == "gap")
    assert gap["reconstructed"] >= 1
    rebuilt = [x for x in lines if x["entry"] == "reconstructed" and x["container"] == oldest]
    assert [x["time_nano"] for x in rebuilt if x["action"] == "start"] == [started[oldest]]
    nanos = [int(x["time_nano"]) for x in lines]
    assert nanos == sorted(nanos)

"""The event recorder on odd input and odd surroundings, against the real engine: hostile
target names, journals holding garbage and a torn last line, two starts at once, a stale
pid file naming another process, and the journal renamed away (logrotate) or its folder
removed while the recorder runs. Each test has its own state folder and journal, so the
machine's own recorder is left alone."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from docker import DockerClient

from netzops.cli import main
from netzops.incidents import journal as jr
from netzops.incidents import recorder
from netzops.targets import Target
from tests.conftest import pause_unpause, sh, wait_for

REDIS = "netzwaechter-redis"


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state folder of the test's own (pid files), and its journal path."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "events" / "sandbox.jsonl"


def _recorders(journal: Path) -> list[int]:
    """Pids of the processes recording into `journal` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"record" in args and str(journal).encode() in args:
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize("name", ["../x", "a b", "sandbox;rm", ""])
def test_hostile_target_names_are_one_line_of_bad_input(name: str, state: Path) -> None:
    for command in ("start", "show", "stop", "status"):
        done = CliRunner().invoke(main, ["events", command, "--target", name])
        assert done.exit_code == 2, (command, done.output)
        assert done.output.strip().splitlines() == [
            f"netzops: invalid target name {name!r}: use lower-case letters, digits, - and _"
        ], command
    assert not (state.parent.parent / "state").exists(), "no file made for a bad name"


def _event(nano: int, action: str) -> dict[str, object]:
    return jr._line(nano, "event", action=action, service="redis", container=REDIS, id="a" * 12)


def test_show_and_read_skip_what_is_no_journal_line(state: Path) -> None:
    state.parent.mkdir(parents=True)
    good = [_event(1_796_000_000_000_000_000 + i, "pause") for i in range(2)]
    state.write_bytes(
        (json.dumps(good[0]) + "\n").encode()
        + b'42\n[]\n{"x": 1}\n{"time": "bogus", "entry": "event"}\n'
        + b'{"time": "t", "time_nano": "1", "entry": "event"}\n\xff\xfe not utf-8\n'
        + (json.dumps(good[1]) + "\n").encode()
        + b'{"time": "2026-12-01T11:0'  # torn by a kill
    )
    assert list(jr.read(state)) == good
    recorder._remember("sandbox", None, str(state))
    for args in ([], ["--since", "2026-01-01T00:00:00Z"]):
        done = CliRunner().invoke(main, ["events", "show", "--target", "sandbox", *args])
        assert done.exit_code == 0, done.output
        assert len(done.output.splitlines()) == 2 and "pause" in done.output


def test_a_line_after_a_torn_one_is_kept(
    sandbox: Target, client: DockerClient, tmp_path: Path
) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(_event(1_796_000_000_000_000_000, "pause")) + '\n{"time": "20')
    rec = jr.Recorder(client, sandbox, path)
    later = _event(1_796_000_000_000_000_001, "unpause")
    rec.write([later])
    assert [x["action"] for x in jr.read(path)] == ["pause", "unpause"]


def test_two_starts_at_once_are_one_recorder(sandbox: Target, state: Path) -> None:
    gate, results, errors = threading.Barrier(4), [], []

    def start() -> None:
        gate.wait()
        try:
            results.append(recorder.start(sandbox, state))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert not errors, errors
        assert len({r.pid for r in results}) == 1 and results[0].running
        assert _recorders(state) == [results[0].pid], "exactly one recorder"
        # a foreground recorder beside it writes nothing and says why
        done = subprocess.run(
            [sys.executable, "-m", "netzops.cli", "events", "record", "--journal", str(state)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 3
        assert f"another recorder (pid {results[0].pid}) writes {state}" in done.stderr
    finally:
        recorder.stop("sandbox")
    assert _recorders(state) == []
    states = [x["state"] for x in jr.read(state) if x["entry"] == "recorder"]
    assert states == ["started", "stopped"], "one recorder wrote, once"


def test_a_stale_pid_file_naming_another_process(sandbox: Target, state: Path) -> None:
    """The pid now belongs to another target's recorder (or anything else): not ours, so
    not running, and `stop` leaves it alone."""
    other = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "events", "record", "-t", "prod"]
    )
    try:
        recorder._remember("sandbox", other.pid, str(state))
        assert not recorder.status("sandbox").running
        done = CliRunner().invoke(main, ["events", "stop"])
        assert done.exit_code == 0
        assert done.output == "recorder for sandbox: not running (nothing to stop)\n"
        assert other.poll() is None, "stop killed a process that is no sandbox recorder"
        recorder._remember("prod", other.pid, str(state))
        assert recorder.status("prod").running
    finally:
        other.kill()
        other.wait()
    pid_file = recorder.pid_file("sandbox")
    for garbage in ("[]", '{"pid": "1"}', '{"pid": -1, "journal": 3}', "{"):
        pid_file.write_text(garbage)
        assert recorder.status("sandbox") == recorder.Status("sandbox", False, None, None, None)


def _pause_unpause() -> int:
    """Pause and unpause redis (healthy again after); the time before, in ns."""
    before = int(sh("date", "+%s%N").strip())
    pause_unpause(REDIS)
    return before


def _has_pause_unpause(path: Path, after: int) -> bool:
    actions = {
        x.get("action")
        for x in jr.read(path)
        if x["entry"] == "event" and x["time_nano"] > after and x.get("container") == REDIS
    }
    return {"pause", "unpause"} <= actions


def test_journal_rotated_away_or_its_folder_removed_while_recording(
    sandbox: Target, state: Path
) -> None:
    now = recorder.start(sandbox, state)
    try:
        assert now.running
        # logrotate, create mode: rename, then a new empty file of the same mode
        rotated = state.with_name(state.name + ".1")
        state.rename(rotated)
        state.touch(mode=0o644)
        mark = _pause_unpause()
        wait_for(lambda: _has_pause_unpause(state, mark), 30, "events in the new file")
        assert not _has_pause_unpause(rotated, mark), "nothing more in the rotated file"
        # the folder removed: it is made again and nothing is lost
        shutil.rmtree(state.parent)
        mark = _pause_unpause()
        wait_for(lambda: _has_pause_unpause(state, mark), 30, "events in a remade folder")
        assert recorder.status("sandbox").running
    finally:
        recorder.stop("sandbox")
    keys = [jr.key(x) for x in jr.read(state) if x["entry"] == "event"]
    assert len(keys) == len(set(keys)), "no event written twice"
    assert [x["state"] for x in jr.read(state) if x["entry"] == "recorder"][-1] == "stopped"


def test_an_unwritable_journal_is_said_in_the_log(
    sandbox: Target, client: DockerClient, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """(root writes through read-only modes, so a file where the folder should be stands
    in for a journal that cannot be written)"""
    blocker = tmp_path / "events"
    rec = jr.Recorder(client, sandbox, tmp_path / "ok.jsonl")
    rec.path = blocker / "sandbox.jsonl"
    blocker.write_text("not a folder")
    with pytest.raises(OSError):
        rec.write([_event(1_796_000_000_000_000_000, "pause")])
    rec._lost("NotADirectoryError: x")
    rec._lost("NotADirectoryError: x")
    err = capfd.readouterr().err
    assert err.count("recorder: NotADirectoryError: x; retrying") == 1
    os.remove(blocker)


def test_a_restart_after_rotation_writes_nothing_the_rotated_segment_has(
    sandbox: Target, state: Path
) -> None:
    """Stopped, rotated (create mode), started: the new live file is empty, so the recorder
    continues where the newest segment ends instead of replaying what the daemon still has."""
    recorder.start(sandbox, state)
    try:
        mark = _pause_unpause()
        wait_for(lambda: _has_pause_unpause(state, mark), 30, "the events journaled")
    finally:
        recorder.stop("sandbox")
    rotated = state.with_name(state.name + "-20261201")
    state.rename(rotated)
    state.touch(mode=0o644)
    recorder.start(sandbox, state)
    recorder.stop("sandbox")
    old = {jr.key(x) for x in jr.read(rotated) if x["entry"] == "event"}
    new = [jr.key(x) for x in jr.read(state) if x["entry"] == "event"]
    assert old and not old & set(new), "nothing written twice across the rotation"
    assert all(k[0] > max(old)[0] for k in new)


def test_rotated_segments_gzipped_or_cut_are_read_for_the_last_event(
    sandbox: Target, client: DockerClient, tmp_path: Path
) -> None:
    path = tmp_path / "sandbox.jsonl"
    newest = [_event(1_796_000_000_000_000_000 + i, "pause") for i in range(3)]
    with gzip.open(tmp_path / "sandbox.jsonl.1.gz", "wb") as fh:
        fh.write("".join(json.dumps(x) + "\n" for x in newest).encode())
    (tmp_path / "sandbox.jsonl.2.gz").write_bytes(b"\x1f\x8b cut")  # older, unreadable
    os.utime(tmp_path / "sandbox.jsonl.2.gz", (1, 1))
    path.write_text(json.dumps(jr._line(1, "recorder", state="stopped")) + "\n")
    rec = jr.Recorder(client, sandbox, path)
    assert rec.last_nano == newest[-1]["time_nano"] and rec.seen == {jr.key(newest[-1])}


def test_a_journal_or_state_folder_that_cannot_be_made_is_one_line(
    sandbox: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    journal = blocker / "events" / "sandbox.jsonl"
    done = CliRunner().invoke(main, ["events", "record", "--journal", str(journal)])
    assert done.exit_code == 3, done.output
    assert done.output.strip().splitlines() == [
        f"netzops events: cannot write the journal {journal}: "
        f"[Errno 20] Not a directory: '{journal.parent}'"
    ]
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
    done = CliRunner().invoke(main, ["events", "start"])
    assert done.exit_code == 3, done.output
    (line,) = done.output.strip().splitlines()
    assert line.startswith("netzops events: cannot start the event recorder for sandbox: ")
    assert blocker.read_text() == "a file where a folder should be"


def test_show_without_a_journal_says_where_it_looked(state: Path) -> None:
    recorder._remember("sandbox", None, str(state))
    done = CliRunner().invoke(main, ["events", "show"])
    assert done.exit_code == 3
    assert done.output.strip().splitlines() == [
        f"netzops events: no journal for sandbox at {state} (netzops events start)"
    ]
    state.mkdir(parents=True)  # a folder where the journal should be
    done = CliRunner().invoke(main, ["events", "show"])
    assert done.exit_code == 3 and "no journal for sandbox" in done.output

"""Where a recorder restarted right after logrotate continues: the newest rotated segment,
even while logrotate moves or compresses segments under it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from netzops.incidents import journal as jr


def test_segments_newest_first_and_one_gone_meanwhile_left_out(tmp_path: Path) -> None:
    older, newer, folder = tmp_path / "j.jsonl.2", tmp_path / "j.jsonl.1", tmp_path / "j.jsonl.d"
    older.write_text("a\n")
    newer.write_text("b\n")
    folder.mkdir()
    os.utime(older, (1_000, 1_000))
    os.utime(newer, (2_000, 2_000))
    gone = tmp_path / "j.jsonl.3"  # listed, then compressed away by logrotate
    assert jr._newest_first([older, gone, folder, newer]) == [newer, older]


def test_the_tail_comes_from_the_newest_segment_with_events(tmp_path: Path) -> None:
    live = tmp_path / "sandbox.jsonl"
    live.write_text("")
    event = jr._line(1_796_000_000 * 10**9, "event", action="start", id="ab", service="x")
    (tmp_path / "sandbox.jsonl.1").write_text(json.dumps(event) + "\n")
    (tmp_path / "sandbox.jsonl.2").write_text("not json\n")
    os.utime(tmp_path / "sandbox.jsonl.2", (1_000, 1_000))
    assert jr.rotated_tail(live) == [event]

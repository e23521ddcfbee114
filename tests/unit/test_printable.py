"""Text from outside, made safe to show: the same rules for an incident summary and a
post-mortem's log samples."""

from __future__ import annotations

import pytest

from netzops.incidents import timeline as tl
from netzops.printable import printable


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("\x1b[1;31mdb down\x1b[0m", "db down"),  # CSI colours
        ("\x1b]8;;https://evil.example\x07link\x1b]8;;\x07", "link"),  # OSC hyperlink
        ("\x1b]0;title\x1b\\text", "text"),  # OSC ended by ST
        ("a\x00b\x07c\x9bd", "abcd"),  # C0 and C1 controls
        ("admin\u202e\u2066txt.exe", "admintxt.exe"),  # bidirectional override, isolate
        ("tab\tand\nline", "tab\tand\nline"),
    ],
)
def test_escapes_and_controls_go_tabs_and_breaks_stay(raw: str, kept: str) -> None:
    assert printable(raw) == kept


def test_one_line_turns_breaks_and_tabs_into_spaces() -> None:
    assert printable("a\tb\nc\u2028d\u2029e", one_line=True) == "a b c d e"


def test_log_samples_follow_the_same_rules() -> None:
    payload = b"ERROR \x1b]8;;http://x\x07click\x1b]8;;\x07 \xe2\x80\xae reversed\tend"
    assert tl._message(payload, False) == "ERROR click  reversed end"

"""Text from outside (a pasted summary, a log line) made safe to show in a terminal, a
Markdown table or a template: no terminal escapes, no control characters, no invisible
reorderings of bidirectional text ("Trojan Source", CVE-2021-42574)."""

from __future__ import annotations

import re

#: CSI (colours, cursor moves), OSC (titles, hyperlinks; ended by BEL or ST) and the other
#: two-character ESC sequences (ECMA-48)
ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?")
#: C0 and C1 controls but tab and line feed, and the bidirectional marks and overrides
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str, one_line: bool = False) -> str:
    """`text` without escapes and controls; `one_line`: tabs and line breaks (also U+2028,
    U+2029) become spaces."""
    text = CONTROLS.sub("", ESCAPES.sub("", text))
    return re.sub(r"[\t\n\u2028\u2029]", " ", text) if one_line else text

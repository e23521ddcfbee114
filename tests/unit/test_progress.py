"""Progress off a terminal: one flushed line per finished step, "[2/5] name outcome 3.1 s"."""

from __future__ import annotations

import io

from netzops.progress import Steps, plain_line


def test_plain_lines_count_the_finished_steps() -> None:
    out = io.StringIO()  # not a terminal: isatty() is False
    with Steps(3, "report daily", out) as step:
        step("service-status", "completed", 1.234)
        step("monitoring", "completed P2", 3.05)
    assert out.getvalue().splitlines() == [
        "[1/3] service-status completed 1.2 s",
        "[2/3] monitoring completed P2 3.0 s",
    ]


def test_an_empty_outcome_leaves_no_double_space() -> None:
    assert plain_line(2, 5, "performance", "", 3.14) == "[2/5] performance 3.1 s"
    assert plain_line(2, 5, "performance", "ok", 3.14) == "[2/5] performance ok 3.1 s"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_each_finished_step_stays_above_the_bar() -> None:
    out = _Terminal()
    with Steps(2, "sandbox up", out) as step:
        step("assets", "unchanged", 0.1)
        step("health", "healthy", 2.0)
    text = out.getvalue()
    assert "[1/2] assets unchanged 0.1 s" in text and "[2/2] health healthy 2.0 s" in text

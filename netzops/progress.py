"""Progress of long work with a known number of steps (`netzops report`, `netzops sandbox
up`), on stderr so that stdout keeps results and --json.

On a terminal it is a rich progress bar, with each finished step printed above it; in a
pipe or a log file it is one flushed line per finished step:

    [2/5] performance ok 3.1 s
    [3/5] database completed P2 12.4 s

    with Steps(len(names), "report daily") as step:
        step("performance", "ok", 3.1)       # (name, outcome, seconds) as each one ends
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


def plain_line(done: int, total: int, name: str, outcome: str, seconds: float) -> str:
    """ "[2/5] performance ok 3.1 s": one finished step, for pipes and logs."""
    return f"[{done}/{total}] {name} {outcome} {seconds:.1f} s".replace("  ", " ")


class Steps:
    """Counts finished steps out of `total` and shows them: a rich bar when `stream` (default
    stderr) is a terminal, else plain lines (`plain_line`). Call it once per finished step
    with (name, outcome, seconds); thread-safe enough for steps ending in worker threads
    (one write per call)."""

    def __init__(self, total: int, title: str, stream: TextIO | None = None) -> None:
        self.total = total
        self.title = title
        self.done = 0
        self.stream = stream or sys.stderr
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        if self.stream.isatty():
            console = Console(file=self.stream)
            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )

    def __enter__(self) -> Steps:
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task(self.title, total=self.total)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, name: str, outcome: str, seconds: float) -> None:
        self.done += 1
        line = plain_line(self.done, self.total, name, outcome, seconds)
        if self._bar is not None and self._task is not None:
            self._bar.console.print(line, markup=False, highlight=False)
            self._bar.update(self._task, completed=self.done, description=f"{self.title}: {name}")
            return
        self.stream.write(line + "\n")
        self.stream.flush()

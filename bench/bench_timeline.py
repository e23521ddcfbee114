"""Timeline merge speed: the post-mortem's journal read (`incidents.timeline.journal_runs`:
each segment entered at the window's start by binary search, the segments block-merged by
`merge_runs` — see its docstring —, cut at the window's end, a line held by two segments
given once) against the named peer `LC_ALL=C sort -m` on the same pre-sorted files, in one run.

    .venv/bin/python bench/bench_timeline.py [--events 1000000] [--sources 6] [--repeat 3]

Prints the times (best of --repeat, the commands alternating so that load on the machine hits
them alike) of the journal read and of `merge_runs` alone, the ratios to sort -m (goal ≤ 2×),
peak memory (netzops: tracemalloc peak of a separate pass; sort: the child's max RSS), and,
for reference, the decoded path the post-mortem then takes for every line in its window
(`timeline.journal`: JSON → Entry objects).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from netzops.incidents import journal as jr
from netzops.incidents import timeline as tl

START_NANO = 1_796_000_000 * 10**9
ACTIONS = ("start", "die", "health_status", "kill", "stop", "create", "destroy")


def write_sources(folder: Path, events: int, sources: int, seed: int = 1) -> list[Path]:
    """`sources` journal files, each sorted by time, `events` lines in all."""
    rng = random.Random(seed)
    paths = []
    for n in range(sources):
        nano = START_NANO
        path = folder / f"source-{n}.jsonl"
        with path.open("w") as fh:
            for _ in range(events // sources):
                nano += rng.randint(1, 2_000_000_000)
                line = jr._line(
                    nano,
                    "event",
                    action=rng.choice(ACTIONS),
                    service=f"service{n}",
                    container=f"netzwaechter-service{n}",
                    id=f"{n:012x}",
                    exit_code=None,
                    health=None,
                )
                fh.write(json.dumps(line) + "\n")
        paths.append(path)
    return paths


START = datetime.fromtimestamp(START_NANO / 1e9, UTC) - timedelta(days=1)
END = START + timedelta(days=3650)  # a window that holds every event


def ours(paths: list[Path]) -> int:
    """The post-mortem's read of the window into /dev/null, as the peer writes its output."""
    with open("/dev/null", "wb") as sink:
        for run in tl.journal_runs(paths, START, END):
            sink.write(b"".join(run))
    return 0


def runs(paths: list[Path]) -> int:
    """`merge_runs` alone into /dev/null; returns the lines merged."""
    count = 0
    with open("/dev/null", "wb") as sink:
        for run in tl.merge_runs(paths):
            sink.write(b"".join(run))
            count += len(run)
    return count


def decoded(paths: list[Path]) -> int:
    return sum(1 for _ in tl.journal(paths, START, END))


def peer(paths: list[Path]) -> int:
    with open("/dev/null", "w") as sink:
        subprocess.run(
            ["sort", "-m", *map(str, paths)],
            stdout=sink,
            check=True,
            env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
        )
    return 0


def best_of(fns: list[Callable[[list[Path]], int]], paths: list[Path], repeat: int) -> list[float]:
    """The best time of each function, run alternately `repeat` times."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, seen in zip(fns, times, strict=True):
            t0 = time.perf_counter()
            fn(paths)
            seen.append(time.perf_counter() - t0)
    return [min(seen) for seen in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--sources", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_sources(Path(tmp), args.events, args.sources)
        size = sum(p.stat().st_size for p in paths) / 1e6
        merged = runs(paths)
        assert merged == args.events // args.sources * args.sources
        assert sum(1 for _ in tl.journal_lines(paths, START, END)) == merged
        t_ours, t_runs, t_peer = best_of([ours, runs, peer], paths, args.repeat)
        (t_decoded,) = best_of([decoded], paths, 1)
        tracemalloc.start()
        ours(paths)
        peak_ours = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        peak_sort = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{args.events:,} events from {args.sources} sorted sources ({size:.0f} MB)")
    print(f"journal_runs         {t_ours:6.2f} s   peak Python memory {peak_ours:6.1f} MiB")
    print(f"merge_runs alone     {t_runs:6.2f} s")
    print(f"sort -m (LC_ALL=C)   {t_peer:6.2f} s   peak RSS           {peak_sort:6.1f} MiB")
    print(f"ratio journal_runs / sort -m:  {t_ours / t_peer:.2f}x (goal <= 2x)")
    print(f"ratio merge_runs / sort -m:    {t_runs / t_peer:.2f}x")
    print(f"decoded (journal: JSON → Entry): {t_decoded:6.2f} s (reference)")


if __name__ == "__main__":
    main()

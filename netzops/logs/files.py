"""The log analysis of files: a file, or a folder of rotated and gzipped logs (evidence
archives, exported `docker logs -t` output, a service's own log files).

A big plain file is cut at line starts into one piece per usable core and the pieces are
scanned in worker processes at once (the scan is CPU-bound in CPython: threads would take
turns). Workers are forked, which is safe only from a process with one thread (a CLI; not a
notebook kernel, whose other threads may hold locks at the fork): a process with more
threads scans in one pass. Gzipped files cannot be entered in the middle, so each is one
piece. The pieces' tallies are merged in log order (`Tally.merge`), which gives the counts
of a single pass (`tests/unit/test_logs_scan.py`). Inputs under PARALLEL_MIN bytes stay in
this process.
"""

from __future__ import annotations

import gzip
import os
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from netzops.logs.scan import CHUNK, Scanner, Tally, line_pieces

PARALLEL_MIN = 64 << 20  # bytes: below this in all, one process scans everything
PIECE_MIN = 32 << 20  # bytes: a plain file is not cut into pieces smaller than this


@dataclass(frozen=True)
class Piece:
    """Bytes [start, end) of `path` (line starts; end None: to the end of the file)."""

    path: Path
    start: int = 0
    end: int | None = None


def file_chunks(
    path: Path, size: int = CHUNK, start: int = 0, end: int | None = None
) -> Iterator[bytes]:
    """A log file's bytes [start, end) in chunks; `.gz` files are decompressed as they are
    read (whole: `start`/`end` apply to plain files)."""
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as fh:
            while block := fh.read(size):
                yield block
        return
    with open(path, "rb", buffering=0) as fh:
        fh.seek(start)
        left = None if end is None else end - start
        while left is None or left > 0:
            block = fh.read(size if left is None else min(size, left))
            if not block:
                return
            if left is not None:
                left -= len(block)
            yield block


def log_files(paths: Iterable[Path]) -> list[Path]:
    """The files named, and the files in the folders named, oldest rotation first
    (`app.log.3.gz`, `app.log.2.gz`, `app.log.1`, `app.log`: higher numbers are older)."""
    found: list[Path] = []
    for path in paths:
        found += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]

    def age(p: Path) -> tuple[str, int]:
        name = p.name.removesuffix(".gz")
        stem, _, number = name.rpartition(".")
        if number.isdigit():
            return (str(p.parent / stem), -int(number))
        return (str(p.parent / name), 0)

    return sorted(found, key=age)


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, as `nproc` says)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def line_start_at_or_after(path: Path, offset: int) -> int:
    """The offset of the first line that starts at or after byte `offset` of `path` (its
    size if none)."""
    if offset == 0:
        return 0
    with open(path, "rb") as fh:
        fh.seek(offset - 1)
        while block := fh.read(1 << 16):
            cut = block.find(b"\n")
            if cut != -1:
                return fh.tell() - len(block) + cut + 1
    return path.stat().st_size


def pieces(files: list[Path], cores: int) -> list[Piece]:
    """`files` (oldest first) as pieces in log order: a plain file of at least 2×PIECE_MIN
    bytes is cut at line starts into up to `cores` pieces of about equal size."""
    found: list[Piece] = []
    for path in files:
        size = path.stat().st_size
        parts = min(cores, size // PIECE_MIN) if path.suffix != ".gz" else 1
        if parts < 2:
            found.append(Piece(path))
            continue
        cuts = sorted({line_start_at_or_after(path, size * i // parts) for i in range(parts)})
        found += [Piece(path, a, b) for a, b in zip(cuts, [*cuts[1:], None], strict=True)]
    return found


def scan_piece(
    piece: Piece, since: bytes | None, until: bytes | None, recent_from: bytes | None
) -> Tally:
    """One pass of the `Scanner` over a piece of a file."""
    scanner = Scanner(since, until, recent_from, piece.path.name)
    for block, start, end in line_pieces(file_chunks(piece.path, CHUNK, piece.start, piece.end)):
        scanner.feed(block, start, end)
    return scanner.tally


def scan_files(
    paths: Iterable[Path],
    since: bytes | None = None,
    until: bytes | None = None,
    recent_from: bytes | None = None,
    workers: int | None = None,
) -> Tally:
    """Every analysis over log files (plain or .gz, rotated sets oldest first; each file in
    time order, as a container's log is). `workers`: processes scanning at once (default:
    the usable cores when the files hold PARALLEL_MIN bytes or more, else 1; always 1 in a
    process with more than one thread)."""
    files = log_files(paths)
    if workers is None:
        big = sum(p.stat().st_size for p in files) >= PARALLEL_MIN
        workers = usable_cores() if big else 1
    if threading.active_count() > 1:
        workers = 1
    work = pieces(files, workers)
    total = Tally()
    if workers < 2 or len(work) < 2:
        for piece in work:
            total.merge(scan_piece(piece, since, until, recent_from))
        return total
    n = len(work)
    with ProcessPoolExecutor(min(workers, n), mp_context=get_context("fork")) as pool:
        for tally in pool.map(scan_piece, work, [since] * n, [until] * n, [recent_from] * n):
            total.merge(tally)
    return total

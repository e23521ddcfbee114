"""Volume archives for evidence, taken while the services still run (security breach: evidence
first, then stop). Files come and go under a live database or cache, so the archive is
built entry by entry: a file that vanished before it was read is left out, one that shrank
while read is padded to the size its header already promised (the archive stays valid),
and each is named in the notes returned, instead of one of them failing the whole
collection."""

from __future__ import annotations

import os
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from netzops.errors import NetzopsError


class _Padded:
    """A file read as exactly `size` bytes: NULs after an early end (it shrank meanwhile)."""

    def __init__(self, fh: BinaryIO, size: int) -> None:
        self.fh, self.left, self.short = fh, size, 0
        self.error = ""  # an I/O error that ended the read early (the rest is NULs too)

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        try:
            data = b"" if self.error else self.fh.read(n)
        except OSError as exc:  # the header is written already: keep the archive whole
            self.error, data = exc.strerror or str(exc), b""
        if len(data) < n:
            self.short += n - len(data)
            data += b"\0" * (n - len(data))
        self.left -= n
        return data


def entries(root: Path, notes: list[str]) -> Iterator[Path]:
    """Every directory, file and symlink below `root` (itself first), sorted within each
    folder; a symlink to a directory (PostgreSQL's `pg_tblspc/<oid>`) is kept as the link,
    not followed; a folder that vanished or cannot be listed is noted and passed over."""

    def noted(exc: OSError) -> None:
        notes.append(f"{_rel(root, Path(str(exc.filename)))}: {exc.strerror} (not listed)")

    for folder, dirs, files in os.walk(root, onerror=noted):
        dirs.sort()
        links = [name for name in dirs if os.path.islink(os.path.join(folder, name))]
        yield Path(folder)
        yield from (Path(folder) / name for name in sorted([*files, *links]))


def archive(root: Path, out: Path, listed: list[Path] | None = None) -> list[str]:
    """A gzip tar of the folder `root` (directories, regular files, symlinks; sockets and
    pipes left out) at `out`; returns the notes on files that changed while it was read.
    `listed`: the entries to archive (default: `entries(root)`, read as the archive is
    written). NetzopsError when `root` is no folder here (a remote engine's volume)."""
    if not root.is_dir():
        raise NetzopsError(f"volume folder {root} is not readable here (remote engine?)")
    notes: list[str] = []
    with tarfile.open(out, "w:gz", compresslevel=1) as tar:
        for path in entries(root, notes) if listed is None else listed:
            _add(tar, root, path, notes)
    return notes


def _add(tar: tarfile.TarFile, root: Path, path: Path, notes: list[str]) -> None:
    rel = _rel(root, path)
    try:
        info = tar.gettarinfo(str(path), arcname=rel)
        if info is None or not (info.isfile() or info.isdir() or info.issym()):
            return
        if not info.isfile():
            tar.addfile(info)
            return
        with path.open("rb") as fh:  # opened before the header is written: all or nothing
            padded = _Padded(fh, info.size)
            tar.addfile(info, padded)
    except OSError as exc:
        notes.append(f"{rel}: {exc.strerror or exc} (left out: gone before it was read)")
        return
    if padded.short:
        kept = info.size - padded.short
        why = f"read failed ({padded.error})" if padded.error else "shrank while read"
        notes.append(f"{rel}: {why}; {kept} of {info.size} bytes, the rest NULs")


def _rel(root: Path, path: Path) -> str:
    return "." if path == root else f"./{path.relative_to(root)}"

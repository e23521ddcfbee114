"""Volume archives of a live service: files that vanish before they are read are left out
and named, a file that shrinks while read keeps the archive valid, and the archive equals
the folder as GNU tar lists and extracts it."""

from __future__ import annotations

import errno
import io
import os
import socket
import subprocess
from pathlib import Path

from netzops.incidents import evidence


def _tree(root: Path) -> None:
    (root / "base" / "1").mkdir(parents=True)
    (root / "base" / "1" / "16384").write_bytes(os.urandom(70_000))
    (root / "pg_wal").mkdir()
    (root / "pg_wal" / "000000010000000000000001").write_bytes(b"w" * 5000)
    (root / "postmaster.pid").write_text("1\n")
    (root / "latest").symlink_to("base/1/16384")
    (root / "pg_tblspc").mkdir()  # a tablespace: a link to a folder elsewhere, kept as the link
    (root.parent / "tablespace").mkdir(exist_ok=True)
    (root.parent / "tablespace" / "PG_16").write_bytes(b"t")
    (root / "pg_tblspc" / "16385").symlink_to(root.parent / "tablespace")
    with socket.socket(socket.AF_UNIX) as sock:  # a socket is left out, as tar would warn
        sock.bind(str(root / ".s.PGSQL.5432"))


def _tar_list(out: Path) -> list[str]:
    listed = subprocess.run(["tar", "-tzf", str(out)], capture_output=True, text=True, check=True)
    return sorted(line.rstrip("/") for line in listed.stdout.splitlines())


def test_an_archive_equals_the_folder_as_tar_sees_it(tmp_path: Path) -> None:
    root, out = tmp_path / "volume", tmp_path / "volume.tar.gz"
    root.mkdir()
    _tree(root)
    assert evidence.archive(root, out) == []
    assert _tar_list(out) == [
        ".", "./base", "./base/1", "./base/1/16384", "./latest", "./pg_tblspc",
        "./pg_tblspc/16385", "./pg_wal", "./pg_wal/000000010000000000000001",
        "./postmaster.pid",
    ]  # fmt: skip
    back = tmp_path / "back"
    back.mkdir()
    subprocess.run(["tar", "-xzf", str(out), "-C", str(back)], check=True)
    relation = "base/1/16384"
    assert (back / relation).read_bytes() == (root / relation).read_bytes()
    assert os.readlink(back / "latest") == "base/1/16384"
    assert os.readlink(back / "pg_tblspc" / "16385") == str(tmp_path / "tablespace")


def test_files_gone_before_they_are_read_are_named_and_the_rest_archived(tmp_path: Path) -> None:
    root, out = tmp_path / "volume", tmp_path / "volume.tar.gz"
    root.mkdir()
    _tree(root)
    notes: list[str] = []
    listed = list(evidence.entries(root, notes))  # listed, then the service moves on
    (root / "pg_wal" / "000000010000000000000001").unlink()  # a WAL segment recycled
    (root / "postmaster.pid").unlink()
    notes = evidence.archive(root, out, listed)
    assert notes == [  # in the order the walk met them: the root's files first
        "./postmaster.pid: No such file or directory (left out: gone before it was read)",
        "./pg_wal/000000010000000000000001: No such file or directory (left out: gone before "
        "it was read)",
    ]
    assert "./base/1/16384" in _tar_list(out) and "./postmaster.pid" not in _tar_list(out)


def test_a_file_that_shrinks_while_read_keeps_the_archive_valid(tmp_path: Path) -> None:
    class Shrinking(evidence._Padded):
        """The file loses its tail after the first read, as a truncated table would."""

        def read(self, n: int = -1) -> bytes:
            data = super().read(n)
            os.truncate(path, 1000)
            return data

    root, out = tmp_path / "volume", tmp_path / "volume.tar.gz"
    root.mkdir()
    path = root / "table"
    path.write_bytes(b"r" * 200_000)
    original = evidence._Padded
    evidence._Padded = Shrinking  # type: ignore[misc]
    try:
        notes = evidence.archive(root, out)
    finally:
        evidence._Padded = original  # type: ignore[misc]
    assert len(notes) == 1 and notes[0].startswith("./table: shrank while read; ")
    assert notes[0].endswith("of 200000 bytes, the rest NULs")
    assert _tar_list(out) == [".", "./table"]  # tar reads it to the end: valid
    back = tmp_path / "back"
    back.mkdir()
    subprocess.run(["tar", "-xzf", str(out), "-C", str(back)], check=True)
    kept = (back / "table").read_bytes()
    assert len(kept) == 200_000 and kept.rstrip(b"\0") and set(kept.rstrip(b"\0")) == {ord("r")}


def test_a_read_error_mid_file_pads_the_rest_and_says_why() -> None:
    """An I/O error after the header was written: the promised size is still delivered
    (NULs), so the archive stays readable, and the error is kept for the note."""

    class Failing(io.RawIOBase):
        def __init__(self) -> None:
            self.calls = 0

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 1:
                raise OSError(errno.EIO, "Input/output error")
            return b"x" * min(n, 100)

    padded = evidence._Padded(Failing(), 1000)  # type: ignore[arg-type]
    data = padded.read(300) + padded.read(300) + padded.read(-1)
    assert data == b"x" * 100 + b"\0" * 900
    assert padded.short == 900 and padded.error == "Input/output error"

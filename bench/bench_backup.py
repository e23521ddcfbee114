"""Backup speed: netzops' make + verify against the named peer, a raw `pg_dump -Fc` to a
file and `pg_restore` of it into a fresh database (the tools by hand, through the docker
CLI, nothing checked), on the same database in the same run.

    flock /tmp/netzops-sandbox.lock .venv/bin/python bench/bench_backup.py [--repeat 3]

netzops does more: row counts in the dump's snapshot, a manifest, SHA-256, pg_restore
--list, row counts after the restore, amcheck on every B-tree index (also with
heapallindexed, which reads every table again), dropping the throwaway database. The
three take turns in each round; prints the best-of-N seconds of each, MB/s (dump size /
time) and the overhead ratio netzops / peer (the goal is ≤ 1.25).
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from netzops import backups, containers, load_target

CONTAINER = "netzwaechter-postgres"


def peer(folder: Path) -> tuple[float, int]:
    """Raw pg_dump -Fc + createdb + pg_restore + dropdb; (seconds, dump bytes)."""
    path = folder / "raw.dump"
    start = time.perf_counter()
    with path.open("wb") as fh:
        subprocess.run(
            ["docker", "exec", CONTAINER, "pg_dump", "-U", "postgres", "-Fc", "netzwaechter"],
            stdout=fh,
            check=True,
        )
    db = ["docker", "exec", CONTAINER, "psql", "-U", "postgres", "-qc"]
    subprocess.run([*db, "CREATE DATABASE bench_peer TEMPLATE template0"], check=True)
    try:
        with path.open("rb") as fh:
            subprocess.run(
                [
                    "docker",
                    "exec",
                    "-i",
                    CONTAINER,
                    "pg_restore",
                    "-U",
                    "postgres",
                    "--exit-on-error",
                    "-d",
                    "bench_peer",
                ],
                stdin=fh,
                check=True,
            )
    finally:
        subprocess.run([*db, "DROP DATABASE IF EXISTS bench_peer"], check=True)
    seconds = time.perf_counter() - start
    size = path.stat().st_size
    path.unlink()
    return seconds, size


def ours(heapallindexed: bool) -> tuple[float, int]:
    target = load_target("sandbox")
    docker = containers.connect(target)
    start = time.perf_counter()
    made = backups.make(docker, target)
    name = made.rows[0]["file"]
    checked = backups.verify(docker, target, name, heapallindexed=heapallindexed)
    seconds = time.perf_counter() - start
    assert not made.findings and not checked.findings, (made.findings, checked.findings)
    path = backups.backup_dir(target) / name
    size = path.stat().st_size
    for suffix in ("", ".manifest.json", ".verify.json"):
        Path(str(path).removesuffix(".dump") + (suffix or ".dump")).unlink(missing_ok=True)
    docker.close()
    return seconds, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[tuple[float, int]]] = {"peer": [], "lean": [], "full": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):  # in turns, so that load on the machine hits all three
            runs["peer"].append(peer(Path(tmp)))
            runs["lean"].append(ours(False))
            runs["full"].append(ours(True))
    raw, lean, full = (min(runs[k]) for k in ("peer", "lean", "full"))
    mb = raw[1] / 1e6
    print(f"dump size {mb:.1f} MB (custom format), best of {args.repeat}")
    print(f"peer    pg_dump -Fc + pg_restore             {raw[0]:6.2f} s  {mb / raw[0]:6.1f} MB/s")
    for label, (secs, size) in (
        ("netzops make + verify (heapallindexed)", full),
        ("netzops make + verify (default)       ", lean),
    ):
        print(
            f"{label} {secs:6.2f} s  {size / 1e6 / secs:6.1f} MB/s  "
            f"ratio {secs / raw[0]:.2f}x (goal <= 1.25x)"
        )


if __name__ == "__main__":
    main()

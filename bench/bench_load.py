"""pgbench TPS with and without the diagnostics loop (`database` and `performance` notebooks
run one after the other for as long as pgbench runs), on a throwaway database in the
sandbox's PostgreSQL.

    flock /tmp/netzops-sandbox.lock .venv/bin/python bench/bench_load.py [--seconds 30] [--rounds 3]

Peer: pgbench's own TPS without the loop, in the same script, alternating rounds. Prints
both TPS medians and the ratio (goal ≥ 0.98). The database `netzops_bench` is created with
`pgbench -i -s 10` and dropped at the end. Not a test.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NETZOPS = str(ROOT / ".venv" / "bin" / "netzops")
PG = ["docker", "exec", "netzwaechter-postgres"]
DB = "netzops_bench"


def psql(sql: str) -> None:
    subprocess.run([*PG, "psql", "-U", "postgres", "-Atc", sql], check=True, capture_output=True)


def pgbench(seconds: int) -> float:
    done = subprocess.run(
        [*PG, "pgbench", "-U", "postgres", "-c", "4", "-j", "2", "-T", str(seconds), DB],
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"tps = ([\d.]+)", done.stdout)
    assert found, done.stdout
    return float(found[1])


def diagnostics(stop: threading.Event, runs: list[str]) -> None:
    while not stop.is_set():
        for name in ("database", "performance"):
            if stop.is_set():
                return
            subprocess.run([NETZOPS, "run", name], capture_output=True)
            runs.append(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    psql(f"DROP DATABASE IF EXISTS {DB}")
    psql(f"CREATE DATABASE {DB}")
    try:
        subprocess.run(
            [*PG, "pgbench", "-U", "postgres", "-i", "-q", "-s", "10", DB],
            check=True,
            capture_output=True,
        )
        alone, loaded, runs = [], [], []
        for _ in range(args.rounds):
            alone.append(pgbench(args.seconds))
            stop = threading.Event()
            loop = threading.Thread(target=diagnostics, args=(stop, runs))
            loop.start()
            loaded.append(pgbench(args.seconds))
            stop.set()
            loop.join()
    finally:
        psql(f"DROP DATABASE IF EXISTS {DB}")
    a, b = statistics.median(alone), statistics.median(loaded)
    print(f"pgbench -c 4 -j 2 -T {args.seconds}, scale 10, {args.rounds} rounds (medians)")
    print(f"  without diagnostics  {a:8.1f} tps")
    print(f"  with the loop        {b:8.1f} tps   ratio {b / a:5.3f}   ({len(runs)} notebook runs)")


if __name__ == "__main__":
    main()

"""Trend history speed: netzops' one pass over the ledger and side-cars into one pandas
frame (`runner.trends.history`, then every headline figure's trend from it) against a named
baseline, the straightforward way: for each headline figure, open every side-car again and
pick its metric (what a per-figure helper would do). Same synthetic history, same process.

    .venv/bin/python bench/bench_trends.py [--days 30] [--per-day 6] [--repeat 3]

A history is `days × per-day` daily reports of 4 records each; side-cars carry the real
metric names and 200-row results (their size in practice). Prints the wall time of both,
the ratio baseline / netzops (> 1: netzops faster) and the summary page's own time.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from netzops.findings import thresholds
from netzops.runner import ledger, trends

NOTEBOOKS = ("service-status", "monitoring", "logs", "alerts")
SERVICES = ["frontend", "backend", "postgres", "redis"]


def metrics(rng: random.Random, day: int) -> dict[str, float]:
    found: dict[str, float] = {}
    for s in SERVICES:
        found |= {
            f"containers.{s}.healthy": 1.0,
            f"containers.{s}.cpu_percent": rng.uniform(0, 20),
            f"containers.{s}.memory_bytes": rng.uniform(1e7, 2e8),
            f"containers.{s}.memory_percent": rng.uniform(0, 10),
        }
    found |= {
        "host.disk./.percent": 40 + day * 0.3 + rng.uniform(-0.1, 0.1),
        "http.api.p95_ms": rng.uniform(5, 60),
        "logs.backend.error_rate_percent": rng.uniform(0, 2),
        "postgres.connections.total": rng.randint(1, 12),
        "redis.hit_rate_cumulative_percent": rng.uniform(90, 99),
        "redis.used_memory_bytes": rng.uniform(1e6, 5e6),
        "tls.frontend.days_left": 90 - day,
    }
    found |= {f"sweep.check{i}.seconds": rng.uniform(0, 2) for i in range(60)}
    return found


def write_history(root: Path, days: int, per_day: int, now: datetime) -> int:
    rng = random.Random(1)
    rows = [{"time": "2026-11-30T12:00:00+00:00", "message": "x" * 120, "n": i} for i in range(200)]
    count = 0
    for day in range(days):
        for k in range(per_day):
            started = now - timedelta(days=days - day, hours=k * 24 / per_day)
            folder = root / "sandbox" / started.strftime("%Y-%m-%d")
            folder.mkdir(parents=True, exist_ok=True)
            for nb in NOTEBOOKS:
                run_id = f"{count:012x}"
                side = folder / f"{started.strftime('%H%M%S')}-{nb}.json"
                side.write_text(
                    json.dumps(
                        {
                            "run_id": run_id,
                            "started": started.isoformat(),
                            "metrics": metrics(rng, day),
                            "results": [{"check": "c", "rows": rows}] * 4,
                        }
                    )
                )
                ledger.append(
                    root / "ledger.jsonl",
                    {
                        "run_id": run_id,
                        "notebook": nb,
                        "target": "sandbox",
                        "started": started.isoformat(),
                        "status": "completed",
                        "files": {str(side.relative_to(root)): "-"},
                    },
                )
                count += 1
    return count


def netzops_way(root: Path, now: datetime) -> int:
    frame = trends.history("sandbox", root, now=now)
    figures = trends.figures(thresholds(), SERVICES)
    return sum(len(trends.trend(f, frame, now).points) for f in figures)


def baseline(root: Path, now: datetime) -> int:
    """Per figure: every side-car of the target opened again, its metric picked."""
    total = 0
    for fig in trends.figures(thresholds(), SERVICES):
        points = []
        for entry in ledger.entries(root / "ledger.jsonl"):
            if datetime.fromisoformat(entry["started"]) < now - timedelta(days=30):
                continue  # the same 30-day window as trends.history
            side = next(k for k in entry["files"] if k.endswith(".json"))
            data = json.loads((root / side).read_text())["metrics"]
            values = [v for n, v in data.items() if re.fullmatch(fig.pattern, n)]
            if values:
                points.append((entry["started"], fig.combine(values)))
        total += len(points)
    return total


def timed(fn: object, *args: object, repeat: int) -> tuple[float, int]:
    runs, result = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args)  # type: ignore[operator]
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        count = write_history(root, args.days, args.per_day, now)
        size = sum(p.stat().st_size for p in root.rglob("*.json")) / 2**20
        ours, n1 = timed(netzops_way, root, now, repeat=args.repeat)
        theirs, n2 = timed(baseline, root, now, repeat=args.repeat)
        print(f"history: {count} side-cars, {size:.0f} MiB")
        print(f"netzops (one frame):        {ours:7.3f} s  ({n1} points)")
        print(f"baseline (per-figure scan): {theirs:7.3f} s  ({n2} points)")
        print(f"ratio baseline/netzops:     {theirs / ours:7.1f}")


if __name__ == "__main__":
    main()

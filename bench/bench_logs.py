"""Log analysis speed: netzops' bytes-level passes against a named baseline, the naive
per-line regex over decoded text, run in the same process on the same synthetic log.

    .venv/bin/python bench/bench_logs.py [--lines 500000] [--repeat 3]

Prints one line per check: MB/s of both, and the ratio baseline time / netzops time
(> 1 means netzops is faster). The log mimics `docker logs --timestamps` of the backend.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from collections import Counter
from collections.abc import Callable

from netzops.logs import parse as lp

STAMP = "2026-11-27T01:{m:02d}:{s:02d}.{f:09d}Z "


def synthetic(count: int, seed: int = 1) -> bytes:
    """`count` backend lines: requests (1 % 5xx), slow queries, failed logins, errors."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        stamp = STAMP.format(m=(i // 6000) % 60, s=(i // 100) % 60, f=i % 10**9)
        roll = rng.random()
        if roll < 0.90:
            status = 500 if rng.random() < 0.01 else 200
            level = "ERROR" if status >= 500 else "INFO"
            body = (
                f"{level} request method=GET path=/api/sites status={status} "
                f"latency_ms={rng.uniform(1, 300):.1f} ip=172.20.0.{rng.randint(1, 9)}"
            )
        elif roll < 0.95:
            body = f'WARN slow query duration_ms={rng.uniform(200, 900):.1f} query="SELECT 1"'
        elif roll < 0.99:
            body = (
                f"WARN failed login user=viewer{rng.randint(1, 40)} "
                f"ip=10.0.0.{rng.randint(1, 9)} reason=bad_password"
            )
        else:
            body = "ERROR database error: connection terminated unexpectedly"
        out.append(stamp + "2026-11-27T01:00:00.000Z " + body)
    return ("\n".join(out) + "\n").encode()


def naive_errors(blob: bytes) -> int:
    return sum(1 for line in blob.decode().splitlines() if re.search(r" ERROR ", line))


def naive_failed_logins(blob: bytes) -> Counter[tuple[str, str]]:
    pattern = re.compile(r"failed login user=(\S+) ip=(\S+)")
    found: Counter[tuple[str, str]] = Counter()
    for line in blob.decode().splitlines():
        match = pattern.search(line)
        if match:
            found[(match[1], match[2])] += 1
    return found


def ours_failed_logins(blob: bytes) -> Counter[tuple[str, str]]:
    """What logs.failed_logins does per container log."""
    found: Counter[tuple[str, str]] = Counter()
    for line in lp.lines_with(blob, b"failed login"):
        parsed = lp.failed_login(line)
        if parsed:
            found[parsed[:2]] += 1
    return found


def best(fn: Callable[[bytes], object], blob: bytes, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(blob)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    blob = synthetic(args.lines)
    mb = len(blob) / 1e6
    assert naive_errors(blob) == lp.count_lines_with(blob, b" ERROR ")
    assert naive_failed_logins(blob) == ours_failed_logins(blob)
    cases = [
        ("errors (grep -c ERROR)", naive_errors, lambda b: lp.count_lines_with(b, b" ERROR ")),
        ("failed logins by user, ip", naive_failed_logins, ours_failed_logins),
    ]
    print(f"{args.lines} lines, {mb:.1f} MB; baseline: naive per-line regex on decoded text")
    for name, baseline, ours in cases:
        t_base, t_ours = best(baseline, blob, args.repeat), best(ours, blob, args.repeat)
        print(
            f"{name:<28} baseline {mb / t_base:7.1f} MB/s  netzops {mb / t_ours:7.1f} MB/s  "
            f"ratio {t_base / t_ours:5.1f}x"
        )


if __name__ == "__main__":
    main()

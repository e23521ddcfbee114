"""Log analysis: the one-pass streaming scan against grep, on a generated log in the
backend's real line formats, and through the Docker API against `docker logs | grep`.

    .venv/bin/python bench/bench_logs_scan.py [--mb 1024] [--docker-mb 256] [--rounds 3]

Peers, run in the same script on the same bytes (medians of --rounds):
    grep -ciE 'ERROR|slow query|failed login|out of memory'   (the 4 runbook patterns)
    grep -c ERROR,   wc -l
    ours: `netzops logs scan FILE --json` (4 patterns + per-minute request/5xx buckets +
          slow-query and failed-login parsing + nginx fields, one pass)
Docker: a throwaway container prints --docker-mb of those lines; peers
    docker logs -t C | grep -c ERROR          (the runbook's way; RSS of `docker logs`)
    ours: logs.errors_last_hour + slow_queries + failed_logins + out_of_memory +
          request_rates on that container (one streamed read), in a fresh process
Prints throughput (MB/s), peak RSS (MB, /usr/bin/time %M) and the ratios. Not a test.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
NETZOPS = str(ROOT / ".venv" / "bin" / "netzops")
FOUR = "ERROR|slow query|failed login|out of memory"


def generate(path: Path, megabytes: int, seed: int = 1, docker_stamps: bool = True) -> None:
    """Backend lines (requests 1 % 5xx, slow queries, failed logins, errors, OOM)."""
    rng = random.Random(seed)
    block, written, i = [], 0, 0
    with path.open("w") as fh:
        while written < megabytes << 20:
            second = i // 200
            stamp = (
                f"2026-11-27T{second // 3600 % 24:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
            )
            prefix = f"{stamp}.{i % 10**9:09d}Z " if docker_stamps else ""
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
            elif roll < 0.999:
                body = "ERROR database error: connection terminated unexpectedly"
            else:
                body = "FATAL JavaScript heap out of memory"
            block.append(f"{prefix}{stamp}.000Z {body}\n")
            i += 1
            if len(block) == 10000:
                text = "".join(block)
                fh.write(text)
                written += len(text)
                block = []


def timed(command: str) -> tuple[float, float, str]:
    """(seconds, peak RSS MB of the slowest-growing process measured, stdout)."""
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M", "bash", "-c", command],
        capture_output=True,
        text=True,
    )
    seconds, kb = done.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kb) / 1024, done.stdout


def median_of(command: str, rounds: int) -> tuple[float, float, str]:
    runs = [timed(command) for _ in range(rounds)]
    return (
        statistics.median(r[0] for r in runs),
        max(r[1] for r in runs),
        runs[-1][2],
    )


def files(args: argparse.Namespace) -> None:
    log = Path(args.dir) / f"backend-{args.mb}mb.log"
    if not log.exists() or log.stat().st_size < args.mb << 20:
        generate(log, args.mb)
    mb = log.stat().st_size / 2**20
    subprocess.run(["cat", str(log)], stdout=subprocess.DEVNULL, check=True)  # page cache
    peers = {
        "grep -ciE (4 patterns)": f"grep -ciE '{FOUR}' {log}",
        "grep -c ERROR": f"grep -c ERROR {log}",
        "wc -l": f"wc -l {log}",
        "netzops logs scan": f"{NETZOPS} logs scan {log} --json",
    }
    results = {name: median_of(cmd, args.rounds) for name, cmd in peers.items()}
    ours_s = results["netzops logs scan"][0]
    print(f"log file: {mb:.0f} MB, {args.rounds} rounds, median seconds")
    for name, (seconds, rss, _) in results.items():
        print(
            f"  {name:<24} {seconds:6.2f} s  {mb / seconds:7.0f} MB/s  peak RSS {rss:6.1f} MB"
            f"  ours/peer throughput {seconds / ours_s:5.2f}x"
        )


def docker(args: argparse.Namespace) -> None:
    folder = Path(args.dir)
    log = folder / f"backend-plain-{args.docker_mb}mb.log"
    if not log.exists():
        generate(log, args.docker_mb, docker_stamps=False)
    name = f"netzops-bench-logs-{secrets.token_hex(3)}"
    subprocess.run(
        [
            "docker", "run", "-d", "--name", name, "--network", "none",
            "--label", f"com.docker.compose.project={name}",
            "--label", "com.docker.compose.service=backend",
            "--label", "com.docker.compose.container-number=1",
            "-v", "/usr:/usr:ro", "-v", f"{folder}:/t:ro",
            "netzwaechter/base:local", "/bin/sh", "-c", f"cat /t/{log.name}",
        ],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        subprocess.run(["docker", "wait", name], check=True, capture_output=True)
        script = (
            "from netzops import containers, load_target, logs\n"
            "t = load_target('sandbox')\n"
            f"compose = t.compose.model_copy(update={{'project': '{name}'}})\n"
            "t = t.model_copy(update={'compose': compose})\n"
            "c = containers.connect(t)\n"
            "for f in (logs.errors_last_hour, logs.request_rates):\n    f(c, t)\n"
            "for f in (logs.slow_queries, logs.failed_logins, logs.out_of_memory):\n"
            "    f(c, t, since='1h')\n"
        )
        (folder / "ours.py").write_text(script)
        read = f"docker logs -t {name} 2>&1 | grep -c ERROR"
        peers = {
            "docker logs | grep -c ERROR": read,
            "the 5 checks, old way (5 reads)": f"for i in 1 2 3 4 5; do {read}; done",
            "netzops: 5 checks, 1 read": f"NETZOPS_HEADLESS=1 {PY} {folder / 'ours.py'}",
        }
        results = {
            n: median_of(c, 1 if n.startswith("the 5") else args.rounds) for n, c in peers.items()
        }
        base_s, base_rss, _ = results["docker logs | grep -c ERROR"]
        print(f"docker API: {args.docker_mb} MB container log, {args.rounds} rounds")
        for n, (seconds, rss, _) in results.items():
            print(
                f"  {n:<34} {seconds:6.2f} s  peak RSS {rss:6.1f} MB  "
                f"time vs docker logs|grep {seconds / base_s:5.2f}x  RSS {rss / base_rss:5.2f}x"
            )
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=1024)
    parser.add_argument("--docker-mb", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", default="/tmp/netzops-bench")
    parser.add_argument("--skip-docker", action="store_true")
    parser.add_argument("--skip-files", action="store_true")
    args = parser.parse_args()
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    if not args.skip_files:
        files(args)
    if not args.skip_docker:
        docker(args)
    sys.stdout.flush()


if __name__ == "__main__":
    main()

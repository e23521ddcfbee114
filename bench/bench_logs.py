"""Log analysis: the one-pass streaming scan against grep on a generated log in the backend's
real line formats; the needle-finding engines side by side on the same bytes; and the logs
notebook's checks through the Docker API against `docker logs | grep`.

    .venv/bin/python bench/bench_logs.py [--mb 1024] [--engines-mb 100] [--docker-mb 256]
        [--rounds 3] [--skip-files] [--skip-engines] [--skip-docker] [--skip-five-reads]

Files (--mb), peers run in the same script on the same bytes from the page cache:
    grep -ciE 'ERROR|slow query|failed login|out of memory'   (the 4 runbook patterns)
    grep -c ERROR,   wc -l
    ours: `netzops logs scan FILE --json` (the 4 patterns + per-minute request/5xx buckets +
          slow-query and failed-login parsing + error kinds + nginx fields, one pass)
Engines (--engines-mb, in this process, chunks already in memory): the lines of every
needle of the scan counted (grep -c of each) by each matcher; optional ones (pyahocorasick,
google-re2, polars) are measured where installed, e.g. `pip install --target DIR ...` and
PYTHONPATH=DIR. Then the whole `Scanner` pass with each of netzops' two engines.
Docker (--docker-mb; run it under `flock /tmp/netzops-sandbox.lock`): a throwaway container
prints the lines; peers
    docker logs -t C | grep -c ERROR          (the runbook's way; RSS of `docker logs`)
    ours: logs.errors_last_hour + slow_queries + failed_logins + out_of_memory +
          request_rates on that container (one streamed read), in a fresh process
Prints seconds (medians of --rounds), throughput, peak RSS (/usr/bin/time %M) and ratios.
Not a test: it fails nothing.
"""

from __future__ import annotations

import argparse
import random
import re
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from netzops.logs import files as log_files  # noqa: E402
from netzops.logs import scan  # noqa: E402

PY = str(ROOT / ".venv" / "bin" / "python")
NETZOPS = str(ROOT / ".venv" / "bin" / "netzops")
FOUR = "ERROR|slow query|failed login|out of memory"
Counts = list[int]  # lines holding each of scan.NEEDLES


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
    """(seconds, peak RSS MB of the largest process of the command, stdout)."""
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M", "bash", "-c", command],
        capture_output=True,
        text=True,
    )
    seconds, kb = done.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kb) / 1024, done.stdout


def medians(commands: dict[str, str], rounds: int) -> dict[str, tuple[float, float]]:
    """(median seconds, max peak RSS MB) of each command, the commands interleaved per round
    so that a change of the machine's load hits them all alike."""
    runs: dict[str, list[tuple[float, float, str]]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, command in commands.items():
            runs[name].append(timed(command))
    return {
        name: (statistics.median(r[0] for r in got), max(r[1] for r in got))
        for name, got in runs.items()
    }


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
        "netzops logs scan -w 1": f"{NETZOPS} logs scan {log} --json --workers 1",
    }
    results = medians(peers, args.rounds)
    ours_s = results["netzops logs scan"][0]
    print(f"log file: {mb:.0f} MB, {args.rounds} rounds (interleaved), median seconds")
    for name, (seconds, rss) in results.items():
        print(
            f"  {name:<24} {seconds:6.2f} s  {mb / seconds:7.0f} MB/s  peak RSS {rss:6.1f} MB"
            f"  ours/peer throughput {seconds / ours_s:5.2f}x"
        )


# --- engines: lines of every needle, on chunks in memory ----------------------------------


def with_engine(find: Callable[[bytes], scan.Hits]) -> Callable[[list[bytes]], Counts]:
    def count(chunks: list[bytes]) -> Counts:
        totals = [0] * len(scan.NEEDLES)
        for chunk in chunks:
            for i, ends in enumerate(find(chunk)):
                totals[i] += len(scan.lines_at(chunk, ends))
        return totals

    return count


def by_regex(compile_: Callable[[bytes], object]) -> Callable[[list[bytes]], Counts]:
    """One alternation of every needle, each a named group, over the whole chunk."""
    names = [f"n{i}" for i in range(len(scan.NEEDLES))]
    alternatives = [
        f"(?P<{name}>{'(?i:' if fold else '(?:'}{re.escape(needle.decode())}))"
        for name, (needle, fold) in zip(names, scan.NEEDLES, strict=True)
    ]
    pattern: object = compile_("|".join(alternatives).encode())
    index: dict[object, int] = {}
    for i, name in enumerate(names):
        index[name] = index[name.encode()] = i  # re gives str group names, google-re2 bytes

    def count(chunks: list[bytes]) -> Counts:
        totals = [0] * len(scan.NEEDLES)
        for chunk in chunks:
            hits: scan.Hits = [[] for _ in scan.NEEDLES]
            for match in pattern.finditer(chunk):  # type: ignore[attr-defined]
                hits[index[match.lastgroup]].append(match.end())
            for i, ends in enumerate(hits):
                totals[i] += len(scan.lines_at(chunk, ends))
        return totals

    return count


def by_ahocorasick() -> Callable[[list[bytes]], Counts]:
    import importlib

    ahocorasick = importlib.import_module("ahocorasick")  # its wheel matches str: Latin-1

    automaton = ahocorasick.Automaton()
    for i, (needle, fold) in enumerate(scan.NEEDLES):
        word = needle.decode().lower() if fold else needle.decode()
        automaton.add_word(word, (i, len(word), fold))
    automaton.make_automaton()

    def count(chunks: list[bytes]) -> Counts:
        totals = [0] * len(scan.NEEDLES)
        for chunk in chunks:
            hits: scan.Hits = [[] for _ in scan.NEEDLES]
            text = chunk.decode("latin-1")
            for hay, folded in ((text, False), (text.lower(), True)):
                for end, (i, _, fold) in automaton.iter(hay):
                    if fold == folded:
                        hits[i].append(end + 1)
            for i, ends in enumerate(hits):
                ends.sort()
                totals[i] += len(scan.lines_at(chunk, ends))
        return totals

    return count


def by_polars() -> Callable[[list[bytes]], Counts]:
    import importlib

    pl = importlib.import_module("polars")

    def count(chunks: list[bytes]) -> Counts:
        totals = [0] * len(scan.NEEDLES)
        for chunk in chunks:
            lines = pl.Series(chunk.split(b"\n")).cast(pl.Binary)
            for i, (needle, fold) in enumerate(scan.NEEDLES):
                if fold:
                    text = lines.cast(pl.String, strict=False).str.to_lowercase()
                    totals[i] += int(text.str.contains(needle.decode(), literal=True).sum())
                else:
                    totals[i] += int(lines.bin.contains(needle).sum())
        return totals

    return count


def optional_engines() -> dict[str, Callable[[], Callable[[list[bytes]], Counts]]]:
    import importlib

    def re2_engine() -> Callable[[list[bytes]], Counts]:
        re2 = importlib.import_module("re2")
        return by_regex(re2.compile)

    return {
        "pyahocorasick (Latin-1 str, + lower)": by_ahocorasick,
        "google-re2: one alternation": re2_engine,
        "polars 2: lines, bin.contains": by_polars,
    }


def best_of(rounds: int, fn: Callable[[], object]) -> tuple[float, object]:
    times, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def engines(args: argparse.Namespace) -> None:
    log = Path(args.dir) / f"backend-{args.engines_mb}mb.log"
    if not log.exists() or log.stat().st_size < args.engines_mb << 20:
        generate(log, args.engines_mb)
    chunks = list(scan.whole_lines(log_files.file_chunks(log)))
    mb = sum(map(len, chunks)) / 2**20
    cases: dict[str, Callable[[list[bytes]], Counts]] = {
        "hyperscan (netzops default)": with_engine(scan.find_hyperscan),
        "bytes.find per needle + lower": with_engine(scan.find_bytes),
        "re: one alternation": by_regex(re.compile),
    }
    for name, make in optional_engines().items():
        try:
            cases[name] = make()
        except ImportError:
            print(f"  ({name}: not installed, skipped)")
    print(f"engines: {mb:.0f} MB in memory, lines of each of {len(scan.NEEDLES)} needles, median")
    reference: object = None
    base = 0.0
    for name, count in cases.items():
        seconds, found = best_of(args.rounds, lambda count=count: count(chunks))  # type: ignore[misc]
        reference = found if reference is None else reference
        base = base or seconds
        same = "same counts" if found == reference else f"DIFFERENT {found}"
        print(f"  {name:<38} {seconds:6.2f} s  {mb / seconds:7.0f} MB/s  {same}")
    for name, find in (("hyperscan", scan.find_hyperscan), ("bytes", scan.find_bytes)):

        def whole(find: Callable[[bytes], scan.Hits] = find) -> dict[str, object]:
            scanner = scan.Scanner(engine=find)
            for chunk in chunks:
                scanner.feed(chunk)
            return scan.summary(scanner.tally)

        seconds, _ = best_of(args.rounds, whole)
        print(f"  whole Scanner pass, {name:<19} {seconds:6.2f} s  {mb / seconds:7.0f} MB/s")


# --- Docker API ------------------------------------------------------------------------------


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
        results = medians(
            {
                "docker logs | grep -c ERROR": read,
                "netzops: 5 checks, 1 read": f"NETZOPS_HEADLESS=1 {PY} {folder / 'ours.py'}",
            },
            args.rounds,
        )
        if not args.skip_five_reads:
            results |= medians(
                {"the 5 checks, old way (5 reads)": f"for i in 1 2 3 4 5; do {read}; done"},
                1,
            )
        base_s, base_rss = results["docker logs | grep -c ERROR"]
        print(f"docker API: {args.docker_mb} MB container log, {args.rounds} rounds")
        for n, (seconds, rss) in results.items():
            print(
                f"  {n:<34} {seconds:6.2f} s  peak RSS {rss:6.1f} MB  "
                f"time vs docker logs|grep {seconds / base_s:5.2f}x  RSS {rss / base_rss:5.2f}x"
            )
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mb", type=int, default=1024)
    parser.add_argument("--engines-mb", type=int, default=100)
    parser.add_argument("--docker-mb", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", default="/tmp/netzops-bench")
    parser.add_argument("--skip-files", action="store_true")
    parser.add_argument("--skip-engines", action="store_true")
    parser.add_argument("--skip-docker", action="store_true")
    parser.add_argument("--skip-five-reads", action="store_true", help="not the old way (slow)")
    args = parser.parse_args()
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    if not args.skip_engines:
        engines(args)
    if not args.skip_files:
        files(args)
    if not args.skip_docker:
        docker(args)
    sys.stdout.flush()


if __name__ == "__main__":
    main()

"""The runner's fixed machinery and whole suites, against plain papermill.

    .venv/bin/python bench/bench_suite.py [--rounds 3] [--report weekly] [--skip-suite]

1. Fixed machinery per notebook: a trivial notebook (parameters cell, `import netzops`),
   so that everything measured is machinery (kernel, imports, papermill, record, ledger):
     - `netzops --help` (CLI start), peer: `python -c pass`
     - one `execute` in-process (a kernel started for it: what `netzops run` does after
       its imports), and N notebooks through one warm pool (`reports.execute_all`, serial
       and parallel) per notebook; peer: the `papermill` CLI on the same notebook
2. The suite (needs the sandbox; each command runs under flock /tmp/netzops-sandbox.lock):
   `netzops report REPORT`, a `netzops run` loop over its notebooks, and a plain
   `papermill` CLI loop over the same notebooks (converted to .ipynb beforehand).
Prints medians of --rounds and the ratios. Not a test: nothing fails.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
LOCK = "/tmp/netzops-sandbox.lock"
TRIVIAL = """# %% [markdown]
# # Trivial

# %% tags=["parameters"]
target: str = "sandbox"  # target

# %%
import netzops
"""


def wall(command: list[str], lock: bool = False) -> float:
    """Seconds `command` takes (under the sandbox lock when `lock`; waiting is not counted)."""
    wrapped = ["/usr/bin/time", "-f", "%e", *command]
    if lock:
        wrapped = ["flock", LOCK, *wrapped]
    done = subprocess.run(wrapped, capture_output=True, text=True, env=os.environ.copy())
    return float(done.stderr.strip().splitlines()[-1])


def median(values: list[float]) -> float:
    return statistics.median(values)


def machinery(rounds: int, count: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="netzops-bench-"))
    (folder / "trivial.py").write_text(TRIVIAL)
    subprocess.run(
        [BIN / "jupytext", "--to", "ipynb", str(folder / "trivial.py")], capture_output=True
    )
    spec = '{"name": "netzops", "display_name": "netzops", "language": "python"}'
    converted = (folder / "trivial.ipynb").read_text()
    converted = converted.replace('"metadata": {', f'"metadata": {{"kernelspec": {spec},', 1)
    (folder / "trivial.ipynb").write_text(converted)
    os.environ["NETZOPS_OUTPUTS"] = str(folder / "outputs")
    help_s = median([wall([str(BIN / "netzops"), "--help"]) for _ in range(rounds * 3)])
    pass_s = median([wall([str(BIN / "python"), "-c", "pass"]) for _ in range(rounds * 3)])
    papermill = [str(BIN / "papermill"), str(folder / "trivial.ipynb"), str(folder / "o.ipynb")]
    papermill += ["-k", "netzops", "--no-progress-bar"]
    paper_s = median([wall(papermill) for _ in range(rounds)])
    script = (
        "import sys, time\n"
        "from netzops import _startup\n_startup.decline()\n"
        "from pathlib import Path\n"
        "from netzops.findings import Priority\n"
        "from netzops.runner import notebooks, execution, reports\n"
        "from netzops.targets import load_target\n"
        f"folder = Path({str(folder)!r})\n"
        "nb = notebooks.load('trivial', folder); t = load_target('sandbox')\n"
        "params = execution.prepare(nb, t, [], {})\n"
        "s = time.perf_counter(); execution.execute(nb, t, params); one = time.perf_counter() - s\n"
        f"steps = [reports.Planned(nb, params)] * {count}\n"
        "s = time.perf_counter(); reports.execute_all(steps, t, Priority.P1, workers=1)\n"
        "serial = time.perf_counter() - s\n"
        "s = time.perf_counter(); reports.execute_all(steps, t, Priority.P1)\n"
        "parallel = time.perf_counter() - s\n"
        f"print(one, serial / {count}, parallel / {count})\n"
    )
    single = (
        "import sys, time\n"
        "from netzops import _startup\n_startup.decline()\n"
        "from pathlib import Path\n"
        "from netzops.runner import notebooks, execution\n"
        "from netzops.targets import load_target\n"
        f"folder = Path({str(folder)!r})\n"
        "nb = notebooks.load('trivial', folder); t = load_target('sandbox')\n"
        "params = execution.prepare(nb, t, [], {})\n"
        "s = time.perf_counter(); execution.execute(nb, t, params); one = time.perf_counter() - s\n"
        "print(one)\n"
    )
    from netzops.runner import resident

    server = resident.start()  # what `sandbox up` starts; idempotent
    (folder / "notebooks").mkdir()
    (folder / "notebooks" / "trivial.py").write_text(TRIVIAL)
    fresh = {**os.environ, "NETZOPS_KERNEL_SERVER": "off"}
    # `netzops run trivial` from a project folder holding only the trivial notebook, at the
    # priority the papermill peer runs at (NETZOPS_NICE=0: no CPU given away to others)
    root = [f"NETZOPS_ROOT={folder}", f"NETZOPS_TARGETS={ROOT / 'parameters' / 'targets'}"]
    trivial = ["env", *root, "NETZOPS_NICE=0", str(BIN / "netzops"), "run", "trivial"]
    runs, forked, cli, cli_fresh = [], [], [], []
    for _ in range(rounds):
        done = subprocess.run(
            [str(BIN / "python"), "-c", script], capture_output=True, text=True, env=fresh
        )
        runs.append([float(x) for x in done.stdout.split()])
        done = subprocess.run([str(BIN / "python"), "-c", single], capture_output=True, text=True)
        forked.append(float(done.stdout.split()[-1]))
        cli.append(wall(trivial))
        cli_fresh.append(wall(["env", "NETZOPS_KERNEL_SERVER=off", *trivial[1:]]))
    one, serial, parallel = (median([r[i] for r in runs]) for i in range(3))
    print(f"fixed machinery (trivial notebook, {rounds} rounds, medians, {os.cpu_count()} cores)")
    print(
        f"  {'netzops --help':<36} {help_s * 1000:6.0f} ms   python -c pass "
        f"{pass_s * 1000:4.0f} ms  ({help_s / pass_s:4.2f}x)"
    )
    print(f"  {'papermill CLI, one notebook':<36} {paper_s:6.2f} s")
    print(f"  (resident kernel server pid {server.pid}: `netzops kernels start`)")
    for label, value in (
        ("netzops run, fresh kernel", median(cli_fresh)),
        ("netzops run, handed to the server", median(cli)),
        ("execute(), fresh kernel", one),
        ("execute(), kernel from the server", median(forked)),
        (f"warm pool, serial, per notebook ({count})", serial),
        ("warm pool, parallel, per notebook", parallel),
    ):
        print(f"  {label:<36} {value:6.2f} s   vs papermill {value / paper_s:4.2f}x")


def suite(rounds: int, report: str) -> None:
    import yaml

    plan = yaml.safe_load((ROOT / "parameters" / "reports" / f"{report}.yaml").read_text())
    names = [step["notebook"] for step in plan["runs"]]
    folder = Path(tempfile.mkdtemp(prefix="netzops-bench-suite-"))
    os.environ["NETZOPS_OUTPUTS"] = str(folder / "outputs")
    for name in names:  # plain papermill needs .ipynb files with the kernel named
        source, converted = ROOT / "notebooks" / f"{name}.py", folder / f"{name}.ipynb"
        subprocess.run(
            [str(BIN / "jupytext"), "--to", "ipynb", "-o", str(converted), str(source)],
            capture_output=True,
            check=True,
        )
    loop_papermill = " ; ".join(  # every notebook, like the other loops, whatever it finds
        f"{BIN}/papermill {folder}/{n}.ipynb {folder}/{n}-out.ipynb -k netzops "
        f"-p target sandbox --no-progress-bar --cwd {ROOT} 2>/dev/null"
        for n in names
    )
    loop_netzops = " ; ".join(f"{BIN}/netzops run {n} >/dev/null" for n in names)
    measured: dict[str, list[float]] = {"papermill": [], "netzops run loop": [], "report": []}
    for _ in range(rounds):
        measured["papermill"].append(wall(["bash", "-c", loop_papermill], lock=True))
        measured["netzops run loop"].append(wall(["bash", "-c", loop_netzops], lock=True))
        measured["report"].append(wall([str(BIN / "netzops"), "report", report], lock=True))
    base = median(measured["papermill"])
    print(f"suite: report {report} ({len(names)} notebooks), {rounds} rounds, medians")
    for name, values in measured.items():
        value = median(values)
        print(f"  {name:<22} {value:7.2f} s   vs papermill loop {value / base:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=6, help="trivial notebooks per pool run")
    parser.add_argument("--report", default="weekly")
    parser.add_argument("--skip-suite", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    machinery(args.rounds, args.count)
    if not args.skip_suite:
        suite(args.rounds, args.report)
    print(f"(bench took {time.perf_counter() - start:.0f} s)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()

"""Triage speed: `netzops run alerts` and `netzops run service-status` against their slowest
probe (`docker stats --no-stream`, which samples for about 2 s) and against the runbook's
status commands typed one after the other (a shell script, printed below).

    flock /tmp/netzops-sandbox.lock .venv/bin/python bench/bench_triage.py [--rounds 3]

Goals (issue 13): alerts ≤ 1.2× its slowest probe and ≤ 0.5× the commands; service-status
≤ 1.0× the commands. Medians of --rounds, all in one script. Not a test. Runs fork their
kernel from the resident server (started here, as `sandbox up` does); "fresh kernel" is the
same run without it. "notebook only" is the side-car's duration (kernel ready to last cell),
"slowest check" the sweep's slowest check inside it (the docker stats sample).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NETZOPS = str(ROOT / ".venv" / "bin" / "netzops")
SECRETS = "~/.local/state/netzops/sandbox/secrets"
#: The runbook's status and alert checks, as an operator types them against the sandbox.
COMMANDS = f"""
docker ps --filter label=com.docker.compose.project=netzwaechter
for c in $(docker ps -q --filter label=com.docker.compose.project=netzwaechter); do
  docker inspect --format '{{{{.Name}}}} {{{{json .State.Health.Status}}}}' $c; done
docker stats --no-stream
curl -sk -o /dev/null -w '%{{http_code}} %{{time_total}}\\n' https://127.0.0.1:8443/
curl -sk -o /dev/null -w '%{{http_code}} %{{time_total}}\\n' https://127.0.0.1:8443/api/health
PGPASSWORD=$(cat {SECRETS}/postgres_password) psql -h 127.0.0.1 -p 15432 -U postgres -Atc \
  "select count(*) from pg_stat_activity where backend_type = 'client backend'"
redis-cli -p 16379 -a "$(cat {SECRETS}/redis_password)" --no-auth-warning info memory | head -3
df -h /
docker logs --since 1h $(docker ps -q --filter label=com.docker.compose.service=backend \
  --filter label=com.docker.compose.project=netzwaechter | head -1) 2>&1 | grep -c ERROR
"""


def seconds(command: list[str], inside: list[float] | None = None) -> float:
    """Wall seconds of `command`; with `inside`, a `netzops run --json` whose notebook time
    (side-car duration_s) and slowest sweep check are appended there."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    took = time.perf_counter() - start
    if inside is not None:
        side = json.loads(done.stdout)
        checks = [v for k, v in side["metrics"].items() if k.startswith("sweep.")]
        inside += [float(side["duration_s"]), max((float(v) for v in checks), default=0.0)]
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from netzops.runner import resident

    resident.start()  # what `sandbox up` starts: single runs fork their kernel from it
    measured: dict[str, list[float]] = {
        "docker stats --no-stream": [],
        "runbook commands (script)": [],
        "netzops run alerts": [],
        "  alerts: notebook only": [],
        "  alerts: slowest check": [],
        "alerts, fresh kernel": [],
        "netzops run service-status": [],
    }
    alerts = [NETZOPS, "run", "alerts", "--json"]
    for _ in range(args.rounds):
        measured["docker stats --no-stream"].append(seconds(["docker", "stats", "--no-stream"]))
        measured["runbook commands (script)"].append(seconds(["bash", "-c", COMMANDS]))
        inside: list[float] = []
        measured["netzops run alerts"].append(seconds(alerts, inside))
        measured["  alerts: notebook only"].append(inside[0])
        measured["  alerts: slowest check"].append(inside[1])
        fresh = ["env", f"{resident.ENV}=off", *alerts]
        measured["alerts, fresh kernel"].append(seconds(fresh))
        measured["netzops run service-status"].append(seconds([NETZOPS, "run", "service-status"]))
    m = {name: statistics.median(values) for name, values in measured.items()}
    probe, script = m["docker stats --no-stream"], m["runbook commands (script)"]
    print(f"triage, {args.rounds} rounds, medians (the script: see COMMANDS in this file)")
    for name, value in m.items():
        print(
            f"  {name:<28} {value:6.2f} s   vs slowest probe {value / probe:5.2f}x"
            f"   vs commands {value / script:5.2f}x"
        )


if __name__ == "__main__":
    main()

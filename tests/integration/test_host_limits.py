"""Issue 16: inode use and load per CPU, compared with df -i, nproc and /proc/loadavg."""

from __future__ import annotations

import os
from pathlib import Path

from netzops import host
from netzops.findings import Priority
from netzops.targets import Target
from tests.conftest import sh


def test_inodes_match_df_i_and_fire(target: Target) -> None:
    result = host.inodes(target)
    root = next(r for r in result.rows if r["mount"] == "/")
    fields = sh("df", "--output=itotal,iused,ipcent", "/").splitlines()[1].split()
    assert root["inodes"] == int(fields[0])
    assert abs(root["used"] - int(fields[1])) <= 200  # files come and go between the two
    assert abs(root["percent"] - float(fields[2].rstrip("%"))) <= 1  # df rounds up
    fired = host.inodes(target, warn_percent=0.0, critical_percent=100.0)
    assert any(f.subject == "/" and f.priority == Priority.P2 for f in fired.findings)


def test_load_per_cpu_matches_proc_loadavg_and_fires(target: Target) -> None:
    result = host.load(target)
    row = result.rows[0]
    assert row["cpus"] == int(sh("nproc", "--all").strip()) or row["cpus"] == os.cpu_count()
    five = float(Path("/proc/loadavg").read_text().split()[1])
    assert abs(row["load_5m"] - five) <= 0.5  # the 5-minute average moves slowly
    assert (
        row["per_cpu_5m"] == round(row["load_5m"] / row["cpus"], 3)
        or abs(row["per_cpu_5m"] - row["load_5m"] / row["cpus"]) < 0.01
    )
    fired = host.load(target, warn_per_cpu=0.0, critical_per_cpu=1e9)
    assert fired.findings and fired.findings[0].priority == Priority.P3

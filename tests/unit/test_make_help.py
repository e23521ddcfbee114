"""Issue 15: `make help` lists every documented target of the Makefile (a `## text` after
the target, as `grep` finds them) with its text, and the variables `make lab` takes."""

from __future__ import annotations

import re
import subprocess

from tests.conftest import ROOT


def test_make_help_lists_every_documented_target_and_the_lab_variables() -> None:
    makefile = (ROOT / "Makefile").read_text()
    documented = re.findall(r"^([a-z-]+):.*?## (.+)$", makefile, re.M)
    assert {"demo", "test", "lint", "lab", "clean-outputs"} <= {name for name, _ in documented}
    done = subprocess.run(
        ["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    shown = re.findall(r"^  make (\S+) +(.+)$", done.stdout, re.M)
    assert [(n, t.strip()) for n, t in shown if n != "lab PORT=8888"] == [
        (n, t.strip()) for n, t in documented
    ]
    assert "make lab PORT=8888 TOKEN=" in done.stdout

"""No secret value reaches any record: every notebook has a record (the ones earlier test
files left in this session's outputs count; the others are run here, one per core), plus one
that fails right after connecting with the secret in its error, and every file under
outputs/ is searched for every secret of the target (the sandbox's real passwords serve as
canaries)."""

from __future__ import annotations

import os
from pathlib import Path

from netzops.findings import Priority
from netzops.runner import ledger, notebooks
from netzops.runner.execution import Exit, execute, prepare
from netzops.runner.reports import Planned, execute_all
from netzops.targets import Target
from tests.conftest import sh

FAILS_AFTER_CONNECTING = """# %% tags=["parameters"]
target: str = "sandbox"  # target

# %%
from netzops import cache, load_target, postgres
stack = load_target(target)
postgres.ping(postgres.connect(stack, role="admin"))
cache.ping(cache.connect(stack))
print("connected with", stack.secret("postgres_password"), stack.secret("redis_password"))

# %%
raise ConnectionError("lost " + stack.secret("monitor_password"))
"""


def _recorded(outputs: Path) -> set[str]:
    """The notebooks with a record under `outputs` (per the ledger, its files still there)."""
    return {
        e["notebook"]
        for e in ledger.entries(outputs / "ledger.jsonl")
        if e.get("notebook") and all((outputs / f).exists() for f in e.get("files", {}))
    }


def test_no_secret_in_any_record(tmp_path: Path, target: Target) -> None:
    outputs = Path(os.environ["NETZOPS_OUTPUTS"])
    missing = [n for n in notebooks.catalog() if n not in _recorded(outputs)]
    steps = [Planned(nb, prepare(nb, target, [], {})) for nb in map(notebooks.load, missing)]
    execute_all(steps, target, Priority.P0)
    assert _recorded(outputs) >= set(notebooks.catalog())
    (tmp_path / "leaky.py").write_text(FAILS_AFTER_CONNECTING)
    leaky = notebooks.load("leaky", tmp_path)
    run = execute(leaky, target, prepare(leaky, target, [], {}), Priority.P0, 120)
    assert run.exit == Exit.FAILED
    assert "********" in run.notebook.read_text()  # the printed secrets were masked
    secrets = [target.secret(name) for name in target.secrets]
    assert len(secrets) == 3 and all(len(s) >= 16 for s in secrets)
    for secret in secrets:
        found = sh("grep", "-rlF", "--", secret, str(outputs), check=False)
        assert found == "", f"a secret leaked into: {found}"

"""Issue 11, kind G, end to end: a run whose target has secrets with non-ASCII characters,
quotes and backslashes (the issue's `Grüße\\2026`, `Grüße"2026`, `ab\\cd99xy`) prints them,
shows their repr in text and HTML, and fails with one in its traceback; no file under
outputs/ holds any of them in any encoding a reader decodes (raw, JSON strings, HTML,
URL, repr)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from netzops.findings import Priority
from netzops.runner import notebooks
from netzops.runner.execution import Exit, execute, prepare
from netzops.secrets import SecretRef
from netzops.targets import Target
from tests.unit.test_secrets_encodings import survivors

HOSTILE = {
    "NETZOPS_TEST_SECRET_A": "Grüße\\2026",
    "NETZOPS_TEST_SECRET_B": 'Grüße"2026',
    "NETZOPS_TEST_SECRET_C": "ab\\cd99xy",
}

LEAKY = """# %% tags=["parameters"]
target: str = "sandbox"  # target

# %%
import os
from IPython.display import HTML, display
values = [os.environ[k] for k in sorted(os.environ) if k.startswith("NETZOPS_TEST_SECRET_")]
print("values:", *values)
display(HTML("".join(f"<p>{v!r}</p>" for v in values)))
values

# %%
raise ValueError(f"bad password {values[0]!r} / {values!r}")
"""


def test_hostile_secrets_survive_in_no_file_under_outputs(
    tmp_path: Path, target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETZOPS_OUTPUTS", str(tmp_path / "outputs"))  # this run's files only
    for name, value in HOSTILE.items():
        monkeypatch.setenv(name, value)
    refs = {name.lower(): SecretRef(env=name) for name in HOSTILE}
    hostile = target.model_copy(update={"secrets": {**target.secrets, **refs}})
    (tmp_path / "leaky.py").write_text(LEAKY)
    leaky = notebooks.load("leaky", tmp_path)
    run = execute(leaky, hostile, prepare(leaky, hostile, [], {}), Priority.P0, 120)
    assert run.exit == Exit.FAILED
    assert "********" in run.notebook.read_text()
    files = [p for p in Path(os.environ["NETZOPS_OUTPUTS"]).rglob("*") if p.is_file()]
    assert run.notebook in files and run.html in files and run.sidecar in files
    for path in files:
        for secret in HOSTILE.values():
            assert survivors(path, secret) == [], f"{secret!r} in {path}"

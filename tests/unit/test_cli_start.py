"""The CLI starts lean: `netzops --help` and `import netzops` load none of the heavy
libraries (the time itself is measured by bench/, not here)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("jupytext", "papermill", "nbconvert", "nbformat", "docker", "pandas", "matplotlib")


def _loaded(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_cli_help_imports_no_heavy_library() -> None:
    code = (
        "from click.testing import CliRunner\nfrom netzops.cli import main\n"
        "r = CliRunner().invoke(main, ['--help'])\nassert r.exit_code == 0, r.output\n"
        "assert 'sandbox' in r.output and 'run' in r.output"
    )
    assert _loaded(code) == []


def test_package_import_is_lazy_but_complete() -> None:
    assert _loaded("import netzops") == []
    assert _loaded("from netzops import Priority, load_target") == []  # pydantic, yaml only

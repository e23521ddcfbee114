"""Hostile `netzops run` input is refused before any kernel starts: exit 2, one clear line on
stderr, no record, no kernel folder.

The CLI gets a private TMPDIR (other test runs on this machine start kernels too), and a
`sitecustomize` hook on its PYTHONPATH logs every `netzops-kernel-*` folder it creates:
such folders are removed at exit, so the log is what proves that no kernel started. A
normal run shows that the hook sees kernel starts.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from netzops.runner.execution import Exit
from tests.conftest import ROOT, psql

NETZOPS = str(ROOT / ".venv" / "bin" / "netzops")
HOOK = """
import os, tempfile
_log, _mkdtemp = os.environ.get("NETZOPS_TEST_KERNEL_LOG"), tempfile.mkdtemp
def _logged(suffix=None, prefix=None, dir=None):
    path = _mkdtemp(suffix, prefix, dir)
    if _log and prefix and prefix.startswith("netzops-kernel-"):
        with open(_log, "a") as log:
            log.write(path + "\\n")
    return path
tempfile.mkdtemp = _logged
"""
EVIL_YAML = "tail: !!python/object/apply:os.system ['touch /tmp/netzops-test-pwned']\n"


@pytest.fixture(scope="module")
def hook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hook")
    (folder / "sitecustomize.py").write_text(HOOK)
    (folder / "evil.yaml").write_text(EVIL_YAML)
    (folder / "tmp").mkdir()
    return folder


def netzops(hook: Path, *args: str | bytes) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run the CLI with the hook; its result and the kernel folders it created."""
    log = hook / "kernels.log"
    log.unlink(missing_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(hook),
        "NETZOPS_TEST_KERNEL_LOG": str(log),
        "TMPDIR": str(hook / "tmp"),
    }
    done = subprocess.run(
        [NETZOPS, *args], capture_output=True, text=True, timeout=300, env=env, cwd=ROOT
    )
    return done, log.read_text().splitlines() if log.exists() else []


def _files() -> set[Path]:
    return set(Path(os.environ["NETZOPS_OUTPUTS"]).rglob("*"))


def _users() -> str:
    return psql("SELECT count(*), md5(string_agg(u::text, '|' ORDER BY id)) FROM users u")


CASES: list[tuple[Sequence[str | bytes], str]] = [
    (
        ["run", "database", "-p", "long_query_minutes=__import__('os').system('id')"],
        "parameter long_query_minutes: expected int",
    ),
    (
        ["run", "restart-scale", "-p", "service=backend; docker rm -f netzwaechter-postgres"],
        "unknown service 'backend; docker rm -f netzwaechter-postgres'",
    ),
    (["run", "restart-scale", "-p", "service="], "unknown service ''"),
    (["run", "cache", "-p", "monitor_seconds=inf"], "parameter monitor_seconds: expected float"),
    (["run", "users", "-p", b"username=\xff"], "parameter username: expected str"),
    (["run", "users", "-p", "new_role='; DROP TABLE users; --"], "is not one of"),
    (["run", "service-status", "-p", "tar\nget=sandbox"], "invalid parameter name 'tar\\nget'"),
    (["run", "logs", "-f", "evil.yaml"], "is not valid YAML: could not determine a constructor"),
]


@pytest.mark.parametrize(
    ("args", "message"),
    CASES,
    ids=[
        "code-as-int",
        "shell-in-service",
        "empty-service",
        "inf-float",
        "non-utf8",
        "sql-in-choice",
        "newline-in-name",
        "python-yaml-tag",
    ],
)
def test_hostile_cli_input_is_refused_before_any_kernel(
    hook: Path, args: Sequence[str | bytes], message: str
) -> None:
    args = [str(hook / a) if a == "evil.yaml" else a for a in args]
    files, users = _files(), _users()
    done, started = netzops(hook, *args)
    assert done.returncode == Exit.BAD_INPUT, done.stderr[-2000:]
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("netzops: "), done.stderr[-2000:]
    assert message in lines[0] and len(lines[0]) < 600
    assert done.stdout == ""
    assert started == [], "a kernel was started"
    assert _files() == files and not list((hook / "tmp").glob("netzops-kernel-*"))
    assert _users() == users
    assert not Path("/tmp/netzops-test-pwned").exists()


def test_the_hook_sees_the_kernel_of_a_real_run(hook: Path) -> None:
    done, started = netzops(hook, "run", "service-status")
    assert done.returncode in (Exit.OK, Exit.FINDINGS), done.stderr[-2000:]
    assert len(started) == 1 and Path(started[0]).parent == hook / "tmp"
    assert not Path(started[0]).exists()  # removed at exit: why the log is needed

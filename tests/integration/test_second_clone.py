"""The sandbox belongs to the machine, not the clone: a second clone's `make demo` leaves the
running containers alone, and a clone whose sandbox differs is refused, naming the
difference and `--recreate`, before anything changes.

The clone is a real `git clone` of this repository (its committed code); its sandbox files
are then made equal to this working tree's, whose `stack.up` (the session fixture) brought
the running stack up, so the clone describes exactly the running stack. The `make demo`
test bootstraps the clone's own .venv (about 1.5 min here, pip from its cache) and runs
the real demo (about 40 s).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from netzops.sandbox import assets, stack, traffic
from netzops.targets import Target
from tests.conftest import ROOT, sh

PROJECT = "netzwaechter"


def containers_now() -> dict[str, tuple[str, str]]:
    """{name: (id, State.StartedAt)} of the project's containers, as docker inspect says."""
    ids = sh("docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={PROJECT}")
    fmt = "{{.Name}} {{.Id}} {{.State.StartedAt}}"
    out = sh("docker", "inspect", "--format", fmt, *ids.split())
    rows = (line.split() for line in out.splitlines() if line.strip())
    return {name.lstrip("/"): (cid, started) for name, cid, started in rows}


def clean_env() -> dict[str, str]:
    """This environment without the test session's NETZOPS_* settings (outputs, root)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("NETZOPS_")}


@pytest.fixture
def clone(tmp_path: Path) -> Iterator[Path]:
    """A git clone of this repository whose sandbox files equal this working tree's; its
    warm kernel server (started by its `make demo`) is stopped afterwards."""
    where = tmp_path / "other"
    sh("git", "clone", "-q", str(ROOT), str(where))
    tracked = sh("git", "-C", str(ROOT), "ls-files", "sandbox").split()
    for rel in tracked:
        if (ROOT / rel).is_file():
            shutil.copy2(ROOT / rel, where / rel)
    yield where
    own = where / ".venv" / "bin" / "netzops"
    if own.exists():
        subprocess.run([str(own), "kernels", "stop"], cwd=where, env=clean_env(), check=False)


def test_second_clone_make_demo_leaves_the_stack_alone(sandbox: Target, clone: Path) -> None:
    before = containers_now()
    assert len(before) == 4
    done = subprocess.run(
        ["make", "demo"], cwd=clone, env=clean_env(), capture_output=True, text=True, timeout=170
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert containers_now() == before  # same ids, not restarted
    for name in before:
        assert f"{name}: left running" in done.stdout
    # the non-terminal progress of `sandbox up`: one line per step on stderr
    for i, step in enumerate(stack.STEPS, 1):
        assert f"[{i}/{len(stack.STEPS)}] {step} " in done.stderr
    assert (clone / "outputs" / "sandbox").is_dir()  # the demo's records are the clone's
    assert_mounts_outside_any_clone(clone)


def assert_mounts_outside_any_clone(*clones: Path) -> None:
    """No container bind-mounts a folder of a checkout: deleting one breaks nothing."""
    ids = sh("docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={PROJECT}")
    fmt = '{{range .Mounts}}{{if eq .Type "bind"}}{{.Source}}\n{{end}}{{end}}'
    sources = [Path(p) for p in sh("docker", "inspect", "--format", fmt, *ids.split()).split()]
    assert sources
    for checkout in (ROOT, *clones):
        assert not [p for p in sources if p.is_relative_to(checkout.resolve())], checkout


def clone_up(clone: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`netzops sandbox up` of this environment's netzops, run on the clone's files."""
    env = {**clean_env(), "NETZOPS_ROOT": str(clone)}
    netzops = str(Path(ROOT / ".venv" / "bin" / "netzops"))
    return subprocess.run(
        [netzops, "sandbox", "up", *args],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_clone_with_a_changed_asset_is_refused(sandbox: Target, clone: Path) -> None:
    before = containers_now()
    installed = assets.target_dir(stack.state(sandbox)) / assets.MANIFEST
    manifest = installed.read_text()
    conf = clone / "sandbox" / "frontend" / "nginx.conf"
    conf.write_text(conf.read_text() + "\n# changed in a second clone\n")
    done = clone_up(clone)
    assert done.returncode == 3, done.stdout + done.stderr
    (line,) = done.stderr.strip().splitlines()[-1:]
    assert "frontend/nginx.conf changed" in line
    assert "--recreate" in line and "frontend" in line
    assert len(done.stderr.strip().splitlines()) <= 4  # progress lines, then the refusal
    assert containers_now() == before
    assert installed.read_text() == manifest  # nothing installed
    assert json.loads(manifest)["files"] == assets.manifest(ROOT / "sandbox")


def test_a_clone_with_a_changed_compose_file_is_refused(sandbox: Target, clone: Path) -> None:
    before = containers_now()
    compose = clone / "sandbox" / "docker-compose.yml"
    text = compose.read_text()
    changed = text.replace("${NW_REDIS_MAXMEMORY:-0}", "${NW_REDIS_MAXMEMORY:-64mb}")
    assert changed != text
    compose.write_text(changed)
    done = clone_up(clone)
    assert done.returncode == 3, done.stdout + done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert "compose configuration of redis" in line and "--recreate" in line
    assert containers_now() == before


def test_recreate_installs_the_clones_assets_and_recreates_only_their_service(
    sandbox: Target, clone: Path
) -> None:
    """`--recreate` with a changed nginx.conf: the frontend is recreated and reads the new
    file, the other containers are left alone; this tree's `up --recreate` restores it."""
    before = containers_now()
    conf = clone / "sandbox" / "frontend" / "nginx.conf"
    conf.write_text(conf.read_text() + "\n# changed by test_second_clone\n")
    installed = assets.target_dir(stack.state(sandbox))
    try:
        done = clone_up(clone, "--recreate")
        assert done.returncode == 0, done.stderr[-2000:]
        after = containers_now()
        assert after["netzwaechter-frontend"][0] != before["netzwaechter-frontend"][0]
        assert {n: v for n, v in after.items() if n != "netzwaechter-frontend"} == {
            n: v for n, v in before.items() if n != "netzwaechter-frontend"
        }
        assert "netzwaechter-frontend: recreated" in done.stdout
        assert done.stdout.count(": left running") == 3
        shown = sh(
            "docker",
            "exec",
            "netzwaechter-frontend",
            "tail",
            "-n",
            "1",
            "/sandbox/frontend/nginx.conf",
        )
        assert shown.strip() == "# changed by test_second_clone"
        assert assets.installed_manifest(installed) == assets.manifest(clone / "sandbox")
    finally:
        restore = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "netzops"), "sandbox", "up", "--recreate"],
            cwd=ROOT,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        traffic.generate(sandbox.http.frontend_url, seconds=6, verify=False, seed=7)
    assert restore.returncode == 0, restore.stderr[-2000:]
    assert "netzwaechter-frontend: recreated" in restore.stdout
    assert assets.installed_manifest(installed) == assets.manifest(ROOT / "sandbox")

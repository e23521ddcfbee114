"""Issue 8, no hidden state: the secrets a text is scrubbed of are explicit state with one
owner (`Target.scrubber()`, a `Scrubber`), not a module-global set filled as a side effect
of resolving. Two targets in one process do not see each other's values, resolving one
teaches no scrubber anything, and a fresh process scrubs a value it resolved."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from netzops.paths import parameters_dir, project_root
from netzops.runner.records import write_sidecar
from netzops.secrets import MASK, Scrubber
from netzops.targets import Target, parse_target

A_ENV, B_ENV = "NETZOPS_TEST_OWNER_A", "NETZOPS_TEST_OWNER_B"
A_VALUE, B_VALUE = "alpha-Sekret-4711", "bravo-Sekret-0815"


def _data(name: str, env: str) -> dict[str, Any]:
    """The sandbox target renamed, its secrets all read from the one variable `env`."""
    data = yaml.safe_load((parameters_dir() / "targets" / "sandbox.yaml").read_text())
    data["name"] = name
    data["secrets"] = {key: {"env": env} for key in data["secrets"]}
    return dict(data)


@pytest.fixture
def pair(monkeypatch: pytest.MonkeyPatch) -> tuple[Target, Target]:
    monkeypatch.setenv(A_ENV, A_VALUE)
    monkeypatch.setenv(B_ENV, B_VALUE)
    return parse_target(_data("owner-a", A_ENV)), parse_target(_data("owner-b", B_ENV))


def test_two_targets_in_one_process_do_not_leak_each_others_values(
    pair: tuple[Target, Target], tmp_path: Path
) -> None:
    a, b = pair
    text = f"a={A_VALUE} b={B_VALUE} a-json={json.dumps(A_VALUE)}"
    before = a.scrubber()  # made before b resolved anything
    assert b.secret("redis_password") == B_VALUE  # resolving b's secret …
    assert a.secret("redis_password") == A_VALUE
    for scrub in (before, a.scrubber()):  # … teaches a's scrubber nothing
        assert scrub(text) == f"a={MASK} b={B_VALUE} a-json={json.dumps(MASK)}"
    assert b.scrubber()(text) == f"a={A_VALUE} b={MASK} a-json={json.dumps(A_VALUE)}"
    side = tmp_path / "a.json"  # a record written for a: a's value masked, b's untouched
    write_sidecar(side, {"a": A_VALUE, "b": B_VALUE}, a.scrubber())
    assert json.loads(side.read_text()) == {"a": MASK, "b": B_VALUE}


def test_resolving_has_no_side_effect_on_any_scrubber(pair: tuple[Target, Target]) -> None:
    a, _ = pair
    empty = Scrubber()
    a.resolve_secrets()
    assert empty(f"x {A_VALUE}") == f"x {A_VALUE}"  # a Scrubber knows only what it was given
    assert Scrubber([A_VALUE])(f"x {A_VALUE}") == f"x {MASK}"


def test_a_fresh_process_scrubs_a_value_it_resolved(tmp_path: Path) -> None:
    """A new interpreter loads the target by name, resolves one secret and scrubs a text
    quoting it; a second target's scrubber in the same process leaves that value alone."""
    folder = tmp_path / "targets"
    folder.mkdir()
    for name, env in (("owner-a", A_ENV), ("owner-b", B_ENV)):
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(_data(name, env)))
    script = (
        "from netzops.targets import load_target\n"
        "a, b = load_target('owner-a'), load_target('owner-b')\n"
        "value = a.secret('redis_password')\n"
        "print(a.scrubber()(f'pw={value}'))\n"
        "print(b.scrubber()(f'pw={value}'))\n"
    )
    env = {**os.environ, "NETZOPS_TARGETS": str(folder), A_ENV: A_VALUE, B_ENV: B_VALUE}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=project_root(),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"pw={MASK}", f"pw={A_VALUE}"]

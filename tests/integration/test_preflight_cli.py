"""`netzops run` with input a notebook checks itself (an unknown incident, a wildcard key
pattern): one line on stderr, exit 2, and nothing kept — no record, no ledger entry, no
incident file changed, no key deleted — because the notebook's preflight cell runs before
the kernel starts."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from netzops.targets import Target
from tests.integration.test_cache import redis_cli
from tests.integration.test_incident_inputs import _record
from tests.notebooks.helpers import NETZOPS


def _run(outputs: Path, *pairs: str, name: str = "incident") -> subprocess.CompletedProcess[str]:
    args = [NETZOPS, "run", name, "--target", "sandbox"]
    for pair in pairs:
        args += ["-p", pair]
    env = {**os.environ, "NETZOPS_OUTPUTS": str(outputs)}
    return subprocess.run(args, capture_output=True, text=True, timeout=300, env=env, check=False)


@pytest.mark.parametrize(
    ("pairs", "says"),
    [
        (["incident=INC-20200101-000000"], "no incident INC-20200101-000000"),
        (["incident=../../etc/passwd"], "not an incident id"),
        (["next_update_minutes=0"], "next_update_minutes must be in (0, 1440]"),
        (["commander=alice\nbob"], "commander must be one line"),
        (["procedure=security_breach", "address=1.2.3.4; rm -rf /"], "not an IP address"),
        (["incident={resolved}", "status=Investigating"], "was resolved at"),
    ],
)
def test_bad_input_is_one_line_and_keeps_nothing(
    sandbox: Target, tmp_path: Path, pairs: list[str], says: str
) -> None:
    resolved = _record(sandbox, resolved=True)
    folder = tmp_path / "incidents"
    folder.mkdir()
    kept = folder / f"{resolved['id']}.json"
    kept.write_text(json.dumps(resolved))
    pairs = [pair.format(resolved=resolved["id"]) for pair in pairs]
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    done = _run(tmp_path, *pairs)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stdout == ""
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert json.loads(kept.read_text()) == resolved


@pytest.mark.parametrize(
    ("pair", "says"),
    [
        ("delete_pattern=*", "refusing key pattern '*'"),
        ("delete_pattern=[a-z]*", "it matches every key"),
        ("maxmemory_policy=lru-everything", "unknown maxmemory-policy 'lru-everything'"),
    ],
)
def test_cache_refuses_a_wildcard_before_the_kernel(
    sandbox: Target, tmp_path: Path, pair: str, says: str
) -> None:
    marker = f"netzops-test:preflight:{tmp_path.name}"  # the app's keys come and go meanwhile
    redis_cli(sandbox, "set", marker, "kept", "ex", "600")
    policy = redis_cli(sandbox, "config", "get", "maxmemory-policy")
    done = _run(tmp_path, pair, f"confirm=delete_keys@{sandbox.name}#0", name="cache")
    assert done.returncode == 2, done.stderr
    assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert list(tmp_path.iterdir()) == []  # no record, no ledger
    assert redis_cli(sandbox, "get", marker) == "kept\n"
    assert redis_cli(sandbox, "config", "get", "maxmemory-policy") == policy
    redis_cli(sandbox, "del", marker)


@pytest.mark.parametrize("name", ["incident", "postmortem"])
def test_a_secret_pasted_into_a_refused_parameter_is_masked_in_the_error(
    sandbox: Target, tmp_path: Path, name: str
) -> None:
    """The wrong window's password pasted into `incident=` (what a 3 a.m. paste does): the
    one-line refusal names the parameter, never the value, in no case form."""
    secret = sandbox.secret("postgres_password")
    done = _run(tmp_path, f"incident={secret}", name=name)
    assert done.returncode == 2, done.stderr
    assert "not an incident id" in done.stderr and done.stdout == ""
    for form in (secret, secret.upper(), secret.lower(), secret[:8].upper()):
        assert form not in done.stderr
    assert list(tmp_path.iterdir()) == []

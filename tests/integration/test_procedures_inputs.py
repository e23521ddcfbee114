"""The emergency procedures on odd input, against the real sandbox (dry runs and refusals
only, nothing stops): addresses that are no single host, or hostile text, are one line of
bad input before anything runs; good ones give firewall commands for their family that
block forwarded traffic to the published ports too; confirmations naming another target or
another plan are refused; evidence folders are never shared; the evidence holds no secret
value, not even inside the volume archives."""

from __future__ import annotations

import tarfile
from datetime import UTC, datetime, timedelta

import pytest
from docker import DockerClient

from netzops import incidents
from netzops.errors import BadInput, GuardRefused
from netzops.incidents import actions
from netzops.paths import outputs_dir
from netzops.targets import Target
from tests.conftest import sh

PROJECT = "label=com.docker.compose.project=netzwaechter"


def _state() -> str:
    """`docker ps -a` of the project: names, ids, status (started-at in the status text)."""
    return sh(
        "docker", "ps", "-a", "--no-trunc", "--filter", PROJECT, "--format", "{{.Names}} {{.ID}}"
    ) + sh(
        "docker",
        "inspect",
        "-f",
        "{{.Name}} {{.State.Status}} {{.State.StartedAt}}",
        *sh("docker", "ps", "-aq", "--filter", PROJECT).split(),
    )


def _evidence() -> set[str]:
    folder = outputs_dir() / "incidents" / "evidence"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


@pytest.mark.parametrize(
    "address",
    [
        "1.2.3.4; rm -rf /",
        "$(reboot)",
        "0.0.0.0/0",
        "203.0.113.0/24",
        "999.1.1.1",
        "db.example.org",
        "0.0.0.0",
        "::",
        "127.0.0.1",
        "::1",
        "::ffff:127.0.0.1",
        "224.0.0.1",
        "255.255.255.255",
        "fe80::1%eth0",
    ],
)
def test_an_address_that_is_no_single_host_is_bad_input(
    sandbox: Target, client: DockerClient, address: str
) -> None:
    before, evidence = _state(), _evidence()
    with pytest.raises(BadInput) as caught:
        incidents.security_breach(client, sandbox, address=address)
    assert "\n" not in str(caught.value) and repr(address) in str(caught.value)
    with pytest.raises(BadInput):
        incidents.check_procedure("security_breach", address)
    assert _state() == before and _evidence() == evidence, "nothing ran"


@pytest.mark.parametrize(
    ("address", "tables", "written"),
    [
        ("203.0.113.7", "iptables", "203.0.113.7"),
        (" 203.0.113.7 ", "iptables", "203.0.113.7"),
        ("::ffff:203.0.113.7", "iptables", "203.0.113.7"),
        ("2001:DB8::1", "ip6tables", "2001:db8::1"),
        ("2001:db8:0:0:0:0:0:7", "ip6tables", "2001:db8::7"),
        ("10.1.2.3", "iptables", "10.1.2.3"),
    ],
)
def test_isolation_is_planned_for_the_family_and_the_published_ports(
    sandbox: Target, client: DockerClient, address: str, tables: str, written: str
) -> None:
    before = _state()
    incidents.check_procedure("security_breach", address)
    result = incidents.security_breach(client, sandbox, address=address)
    assert _state() == before, "a dry run changes nothing"
    steps = [r["step"] for r in result.rows if written in r["step"]]
    assert any(f"sudo {tables} -I DOCKER-USER 1 -s {written} -j DROP" in s for s in steps)
    assert any(f"sudo ufw prepend deny from {written}" in s for s in steps)
    other = "iptables" if tables == "ip6tables" else "ip6tables"
    assert not any(f"sudo {other} " in s for s in steps)
    assert result.actions[0]["details"]["address"] == written


def test_confirmation_for_another_target_or_plan_is_refused(
    sandbox: Target, client: DockerClient
) -> None:
    before, evidence = _state(), _evidence()
    dry = incidents.security_breach(client, sandbox, address="203.0.113.7")
    entry = dry.actions[0]
    elsewhere = f"{entry['action']}@production#{entry['fingerprint']}"
    with pytest.raises(GuardRefused):
        incidents.security_breach(client, sandbox, address="203.0.113.7", confirm=elsewhere)
    reviewed = f"{entry['action']}@{entry['target']}#{entry['fingerprint']}"
    with pytest.raises(GuardRefused):  # the plan reviewed isolated another address
        incidents.security_breach(client, sandbox, address="203.0.113.8", confirm=reviewed)
    with pytest.raises(GuardRefused):
        incidents.complete_outage(client, sandbox, confirm=reviewed)
    assert _state() == before and _evidence() == evidence


def test_an_address_for_another_procedure_is_bad_input() -> None:
    with pytest.raises(BadInput, match="security_breach only"):
        incidents.check_procedure("complete_outage", "203.0.113.7")
    incidents.check_procedure("complete_outage", "")


def test_evidence_folders_are_never_shared(sandbox: Target) -> None:
    """Collections in the same second get folders of their own (-2, -3 …)."""
    base = outputs_dir() / "incidents" / "evidence"
    base.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    taken = [
        base / f"{sandbox.name}-breach-{now + timedelta(seconds=s):%Y%m%dT%H%M%S}" for s in range(3)
    ]
    for folder in taken:
        folder.mkdir(exist_ok=True)
        (folder / "manifest.sha256").write_text("kept\n")
    first = actions._evidence_dir(sandbox, "breach")
    second = actions._evidence_dir(sandbox, "breach")
    assert first != second and first not in taken and second not in taken
    assert not any(first.iterdir()) and not any(second.iterdir())
    assert all((f / "manifest.sha256").read_text() == "kept\n" for f in taken)


def test_evidence_holds_no_secret_value(sandbox: Target, client: DockerClient) -> None:
    """Every file of the evidence and every file inside its volume archives, against the
    sandbox's secrets resolved as the project resolves them."""
    secrets = [s.encode() for s in sandbox.resolve_secrets() if len(s) >= 4]
    assert len(secrets) == len(sandbox.secrets)
    folder = incidents.collect_evidence(client, sandbox)
    blobs: dict[str, bytes] = {}
    for path in folder.iterdir():
        if path.name.endswith(".tar.gz"):
            with tarfile.open(path) as tar:
                for member in tar.getmembers():
                    data = tar.extractfile(member) if member.isfile() else None
                    if data is not None:
                        blobs[f"{path.name}:{member.name}"] = data.read()
        else:
            blobs[path.name] = path.read_bytes()
    assert any(name.endswith("PG_VERSION") for name in blobs), "the archives were read"
    leaks = [name for name, blob in blobs.items() if any(s in blob for s in secrets)]
    assert leaks == []

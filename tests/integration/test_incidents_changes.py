"""The incident's "recent changes" (issue 9) against what docker and the ledger say: a
service's container created twice from one tag that a rebuild moved to another image (built
offline from netzwaechter/base:local, never pulled) is an image change told by image ID, both
creations at the times `docker events` reports; a confirmed guarded action (delete_keys on a
test key) is listed at the time its ledger line holds."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from netzops import cache, incidents
from netzops.incidents import journal as jr
from netzops.incidents import timeline as tl
from netzops.incidents.incident import recent_changes
from netzops.paths import outputs_dir
from netzops.runner import sessions
from netzops.targets import Target
from tests.conftest import redis_cli, sh, wait_for

TAG = "netzops-test/retag:same"


@dataclass
class Changes:
    service: str
    ids: list[str]  # the two containers (full IDs)
    images: list[str]  # their images as docker inspect gives them (sha256:…)
    created: list[int]  # timeNano of each create, from `docker events`
    action: dict[str, Any]  # the confirmed delete_keys audit entry
    rows: list[dict[str, str]]  # recent_changes right afterwards
    journal: Path


def _build(folder: Path, content: str) -> str:
    (folder / "content").write_text(content)
    env = "DOCKER_BUILDKIT=0"  # the classic builder: FROM a local image, nothing pulled
    return sh("env", env, "docker", "build", "-q", "-t", TAG, str(folder)).strip()


def labels(service: str) -> tuple[str, ...]:
    """Labels that make a bare container one of the sandbox project's (what the recorder
    follows), as a service of its own."""
    return (
        *("--label", "com.docker.compose.project=netzwaechter"),
        *("--label", f"com.docker.compose.service={service}"),
    )


def _journaled(journal: Path, container: str) -> dict[str, Any] | None:
    return next(
        (
            x
            for x in jr.read(journal)
            if x.get("action") == "create" and container.startswith(x["id"])
        ),
        None,
    )


@pytest.fixture(scope="module")
def changes(sandbox: Target, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Changes]:
    incidents.stop_recorder(sandbox.name)  # the recorder runs this checkout's code
    journal = Path(str(incidents.start_recorder(sandbox).journal))
    folder = tmp_path_factory.mktemp("retag")
    (folder / "Dockerfile").write_text("FROM netzwaechter/base:local\nCOPY content /content\n")
    service = f"zz-retag-{uuid.uuid4().hex[:8]}"
    since = f"{time.time():.3f}"
    ids: list[str] = []
    images: list[str] = []
    key = f"netzops-test:changes:{uuid.uuid4().hex[:8]}"
    try:
        for content in ("first build\n", "second build\n"):
            images.append(_build(folder, content))
            ids.append(sh("docker", "create", *labels(service), TAG, "/bin/true").strip())
            wait_for(lambda: _journaled(journal, ids[-1]), 10, "the create in the journal")
        redis_cli("SET", key, "1")
        client = cache.connect(sandbox)
        dry = cache.delete_keys(client, key)
        (note,) = [n for n in dry.notes if n.startswith("To do this, confirm with: ")]
        done = cache.delete_keys(client, key, note.rsplit(" ", 1)[-1])
        action = done.actions[0]
        sessions.audit_line(action, "test-changes", "test_incidents_changes", True)  # as a kernel
        rows = recent_changes(sandbox, datetime.now(UTC))
        until = f"{time.time():.3f}"
        events = sh(
            "docker",
            "events",
            *("--since", since, "--until", until, "--filter", "event=create"),
            *("--filter", f"label=com.docker.compose.service={service}", "--format", "{{json .}}"),
        )
        created = {json.loads(e)["id"]: json.loads(e)["timeNano"] for e in events.splitlines()}
        yield Changes(service, ids, images, [created[i] for i in ids], action, rows, journal)
    finally:
        if ids:
            sh("docker", "rm", "-f", *ids)
        if images:
            sh("docker", "rmi", "-f", *images, check=False)
        redis_cli("DEL", key)


def test_the_journal_holds_each_creation_with_its_image_id(changes: Changes) -> None:
    for container, image in zip(changes.ids, changes.images, strict=True):
        line = _journaled(changes.journal, container)
        assert line is not None
        assert line["image"] == TAG and line["service"] == changes.service
        assert (
            line["image_id"]
            == image
            == sh("docker", "inspect", "-f", "{{.Image}}", container).strip()
        )
    assert changes.images[0] != changes.images[1]


def test_a_rebuilt_image_under_the_same_tag_is_an_image_change(changes: Changes) -> None:
    mine = [r for r in changes.rows if r["service"] == changes.service]
    assert [r["source"] for r in mine] == ["journal", "journal"]
    first, second = mine
    assert first["change"].startswith("create ")
    a, b = (i.removeprefix("sha256:")[:12] for i in changes.images)
    assert second["change"].startswith(f"image change {TAG} ({a}) → {TAG} ({b}) ")
    for row, nano in zip(mine, changes.created, strict=True):
        reported = jr.parse_time(jr.iso_nano(nano)).timestamp()
        assert abs(jr.parse_time(row["time"] + "Z").timestamp() - reported) < 0.001


def test_a_guarded_action_from_the_ledger_is_a_recent_change(changes: Changes) -> None:
    action = changes.action
    assert action["dry_run"] is False and action["verified"] is True
    ledger = [json.loads(x) for x in (outputs_dir() / "ledger.jsonl").read_text().splitlines()]
    (line,) = [x for x in ledger if x.get("run_id") == "test-changes"]
    at = line["actions"][0]["at"]
    (row,) = [r for r in changes.rows if r["source"] == "ledger" and r["time"] == at[:23]]
    assert row["change"].startswith(f"delete_keys by {action['who']}: unlinked 1 of 1 keys")
    assert row["service"] == action["subject"]
    when = jr.parse_time(at)  # the post-mortem's timeline reads the same line
    (entry,) = tl.ledger(tl.ledger_lines(outputs_dir() / "ledger.jsonl"), when, when)
    assert entry.event.startswith(f"guarded delete_keys on {action['subject']} (done) by ")
    times = [r["time"] for r in changes.rows]
    assert times == sorted(times)

"""Issue 11, kind G, for the files a JupyterLab session and a report write: the session
record (`sessions.Recorder`: .ipynb, .html, side-car, ledger line), a guarded action's audit
line, the session notebook `sessions.create` writes, JupyterLab's own saves of a notebook
under outputs/ (`lab.ContentsManager.save`) and the report's summary page. The secrets are
the target's (resolved by name, as a session's server process never does) and survive in
no file under outputs/ in any encoding; every JSON file is strict (no NaN)."""

from __future__ import annotations

import asyncio
import html
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from netzops import secrets
from netzops.paths import parameters_dir
from netzops.runner import sessions
from netzops.runner.execution import Exit, RunResult
from netzops.targets import load_target
from tests.unit.test_secrets_encodings import survivors

HOSTILE = ["Grüße\\2026", 'Grüße"2026', "ab\\cd99xy", "50%25off+'\"<&>", "line\nbreak\there"]
ENV = "NETZOPS_TEST_SESSION_SECRET"


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A target `hostile` (the sandbox's file, with one secret read from ENV) and an empty
    outputs folder; this process has resolved no secret (as a Lab server has not)."""
    data = yaml.safe_load((parameters_dir() / "targets" / "sandbox.yaml").read_text())
    data["name"] = "hostile"
    data["secrets"] = {**data["secrets"], "session_token": {"env": ENV}}
    targets = tmp_path / "targets"
    targets.mkdir()
    (targets / "hostile.yaml").write_text(yaml.safe_dump(data))
    monkeypatch.setenv("NETZOPS_TARGETS", str(targets))
    monkeypatch.setenv("NETZOPS_OUTPUTS", str(tmp_path / "outputs"))
    yield tmp_path / "outputs"


def _strict(text: str) -> Any:
    def refuse(token: str) -> None:
        raise AssertionError(f"not strict JSON: {token}")

    return json.loads(text, parse_constant=refuse)


def _check(outputs: Path, secret: str) -> list[Path]:
    files = [p for p in outputs.rglob("*") if p.is_file()]
    for path in files:
        assert survivors(path, secret) == [], f"{secret!r} in {path.name}"
        if path.suffix in (".json", ".ipynb"):
            _strict(path.read_text())
        if path.suffix == ".jsonl":
            for line in path.read_text().splitlines():
                for value in _values(_strict(line)):
                    assert secret not in value, f"{secret!r} in {path.name}"
    return files


def _values(data: Any) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for k, v in data.items():
            yield k
            yield from _values(v)
    elif isinstance(data, list):
        for v in data:
            yield from _values(v)


def _session(secret: str) -> sessions.Recorder:
    """A session's transcript: the secret typed in a cell, printed, shown as repr, HTML and
    JSON (with a NaN beside it), and raised."""
    rec = sessions.Recorder()
    rec.notebook, rec.target = "cache", "hostile"
    rec.begin(f"token = {secret!r}\ntoken", 1)
    rec.output({"output_type": "stream", "name": "stdout", "text": f"token={secret}\n"})
    rec.display({"text/plain": repr(secret), "text/html": f"<td>{html.escape(secret)}</td>"}, None)
    rec.result({"application/json": {"token": secret, "ratio": float("nan")}}, 1)
    rec.error(ValueError(f"bad token {secret!r}"))
    rec.end()
    return rec


@pytest.mark.parametrize("secret", HOSTILE)
def test_session_record_and_ledger_hold_no_secret(
    hostile: Path, monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv(ENV, secret)
    path = _session(secret).save(final=True)
    assert path is not None
    files = _check(hostile, secret)
    assert {".ipynb", ".html", ".json", ".jsonl"} <= {p.suffix for p in files}
    nb = nbformat.reads(path.read_text(), as_version=4)
    assert nb.cells[0].outputs[0]["text"] == f"token={secrets.MASK}\n"
    side = _strict(path.with_suffix(".json").read_text())
    assert side["status"] == "ended" and side["errors"] == 1


@pytest.mark.parametrize("secret", HOSTILE)
def test_audit_line_holds_no_secret(
    hostile: Path, monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv(ENV, secret)
    entry: dict[str, Any] = {"target": "hostile", "at": datetime.now(UTC).isoformat()}
    entry["action"] = "delete_keys"
    entry |= {"plan": f"DEL session:{secret}", "fingerprint": repr(secret), "seconds": 1e309}
    sessions.audit_line(entry, "abc123", "cache", interactive=True)
    _check(hostile, secret)


def test_session_notebook_created_with_a_secret_parameter_holds_none(
    hostile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = HOSTILE[0]
    monkeypatch.setenv(ENV, secret)
    path = sessions.create("logs", "hostile", {"pattern": secret})
    assert path.is_file()
    _check(hostile, secret)
    assert secrets.MASK in path.read_text()


def _lab_save(root: Path, rel: str, content: dict[str, Any]) -> None:
    from netzops.runner.lab import ContentsManager

    manager = ContentsManager(root_dir=str(root))
    model = {"type": "notebook", "format": "json", "content": content}
    asyncio.run(manager.save(model, rel))


@pytest.mark.parametrize("secret", HOSTILE)
def test_lab_saves_under_outputs_hold_no_secret(
    hostile: Path, monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    """Ctrl+S (or Lab's autosave) of a session notebook whose outputs show the secret; also
    a notebook saved into a target's folder with no netzops metadata (the path names it)."""
    monkeypatch.setenv(ENV, secret)
    folder = hostile / "hostile" / "2026-11-30"
    folder.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(f"print({secret!r})")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"{secret}\n")]
    nb.cells.append(cell)
    tagged = json.loads(json.dumps(nb))
    tagged["metadata"]["netzops"] = {"target": "hostile", "session": "s1"}
    _lab_save(hostile.parent, "outputs/hostile/2026-11-30/100000-cache-session.ipynb", tagged)
    _lab_save(
        hostile.parent, "outputs/hostile/2026-11-30/scratch.ipynb", json.loads(json.dumps(nb))
    )
    files = _check(hostile, secret)
    assert len([p for p in files if p.suffix == ".ipynb"]) >= 2  # and Lab's checkpoints


def test_summary_page_scrubbed_though_its_inputs_are_not(
    hostile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A side-car written before scrubbing existed (or by hand) and a report description
    quoting the secret: the page holds neither."""
    from netzops.runner.reports import Report, Step, write_summary

    secret = HOSTILE[3]
    monkeypatch.setenv(ENV, secret)
    folder = hostile / "hostile" / "2026-11-29"
    folder.mkdir(parents=True)
    side = folder / "090000-cache.json"
    finding: dict[str, Any] = {"priority": "P1", "check": "cache.memory"}
    finding["subject"] = f"login {secret}"
    finding |= {"summary": f"token {secret!r}", "value": secret, "threshold": None}
    side.write_text(json.dumps({"status": "completed", "findings": [finding], "metrics": {}}))
    report = Report(name="daily", description=f"run with {secret}", runs=[Step(notebook="cache")])
    run = RunResult("r1", "cache", "completed", Exit.FINDINGS, side, side, side, "P1")
    page = write_summary(report, load_target("hostile"), datetime.now(UTC), [run])
    assert page.is_file() and secrets.MASK in page.read_text()
    assert survivors(page, secret) == []
    os.unlink(side)  # the unscrubbed input was the test's own; the page is what is checked
    _check(hostile, secret)


SECRET = st.text(
    alphabet=st.one_of(
        st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
        st.sampled_from(list("\"'\\&<>%+;#/ \n")),
    ),
    min_size=4,
    max_size=14,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(secret=SECRET)
def test_property_session_records_hold_no_secret(hostile: Path, secret: str) -> None:
    """Secrets from all of Unicode (no NUL: an environment variable cannot hold one)."""
    assume("*" not in secret and secret.strip() == secret and len(secret.strip()) >= 4)
    placeholder = _session("xyzzy-placeholder")
    placeholder.save(final=True)  # the boilerplate, with no secret known
    assert placeholder.base is not None
    for suffix in (".ipynb", ".html", ".json"):
        assume(not survivors(placeholder.base.with_suffix(suffix), secret))
    os.environ[ENV] = secret
    try:
        rec = _session(secret)
        rec.save(final=True)
        base = rec.base
        assert base is not None
        for suffix in (".ipynb", ".html", ".json"):
            assert survivors(base.with_suffix(suffix), secret) == [], suffix
        _strict(base.with_suffix(".ipynb").read_text())
    finally:
        os.environ.pop(ENV, None)


@pytest.mark.parametrize("secret", HOSTILE)
def test_incident_record_and_postmortem_hold_no_secret(
    hostile: Path, monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    """The incident record and the post-mortem Markdown under outputs/incidents/: a status
    summary pasted with the secret in it, and timeline entries quoting log lines that hold it
    (raw, URL-encoded as in an access log, repr'd); this process resolved no secret."""
    from urllib.parse import quote

    from netzops.incidents import incident as inc
    from netzops.incidents import postmortem as pm
    from netzops.incidents import timeline as tl

    monkeypatch.setenv(ENV, secret)
    target = load_target("hostile")
    now = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    record: dict[str, Any] = {"id": "INC-20261130-100000", "target": "hostile"}
    record |= {"summary": f"rotated {secret}", "ratio": float("nan"), "updates": []}
    inc._save(record, target)
    entries = [
        tl.Entry(now, "nginx", "frontend", f'"GET /login?pw={quote(secret)} HTTP/1.1" 500'),
        tl.Entry(now, "container", "backend", f"connect failed password={secret!r}"),
        tl.Entry(now, "postgres", "postgres", f"statement: ALTER ROLE app PASSWORD '{secret}'"),
    ]
    mortem = pm.PostMortem("INC", now, now, None, entries, {}, [], pm.Impact(), [])
    written = pm.write_markdown(mortem, target.scrubber())
    assert written.is_file() and secrets.MASK in written.read_text()
    _check(hostile, secret)


@pytest.mark.parametrize("secret", HOSTILE)
def test_maintenance_log_note_holds_no_secret(
    hostile: Path, monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    """A person marks an item done with a note that quotes the secret (maintenance-log.jsonl
    under outputs/<target>/): the note is kept, masked; the line is strict JSON."""
    import importlib

    schedule = importlib.import_module("netzops.maintenance.schedule")
    monkeypatch.setenv(ENV, secret)
    target = load_target("hostile")
    entry = schedule.mark_done(target, "Check disk space", note=f"used token {secret!r} here")
    assert entry["note"].startswith("used token ") and secret not in entry["note"]
    _check(hostile, secret)

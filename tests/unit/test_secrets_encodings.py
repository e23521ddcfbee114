"""Issue 11, kind G: a secret written into a notebook's outputs, tracebacks or metadata never
survives in any record file (.ipynb, .html, side-car), in any encoding: JSON (ASCII or
UTF-8), repr, HTML, URL and their combinations. The files are read back and decoded
independently of how netzops scrubs."""

from __future__ import annotations

import contextlib
import html
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_plus

import nbformat
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from netzops import secrets
from netzops.runner.records import scrub_notebook, write_html, write_sidecar


def _notebook(secret: str) -> Any:
    """Where a kernel puts a value: injected parameters, stream, repr, HTML, JSON, a
    traceback, metadata."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"parameters": {"password": secret}}
    params = nbformat.v4.new_code_cell(f"password = {secret!r}")
    params.metadata["tags"] = ["injected-parameters"]
    shown = nbformat.v4.new_code_cell("show(password)")
    shown.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=f"password={secret}\n"),
        nbformat.v4.new_output(
            "execute_result",
            data={
                "text/plain": repr({"password": secret}),
                "text/html": f"<table><td>{html.escape(secret)}</td><td>{html.escape(repr(secret))}"
                "</td></table>",
                "application/json": {"password": secret, "url": f"https://x/?p={secret}"},
            },
            execution_count=1,
        ),
        nbformat.v4.new_output(
            "error",
            ename="ValueError",
            evalue=f"bad password {secret!r}",
            traceback=[f"\x1b[0;31mValueError\x1b[0m: bad password {secret!r}"],
        ),
    ]
    return nbformat.v4.new_notebook(cells=[params, shown], metadata=nb.metadata)


def _records(folder: Path, secret: str) -> list[Path]:
    ipynb, page, side = folder / "run.ipynb", folder / "run.html", folder / "run.json"
    nbformat.write(_notebook(secret), str(ipynb))
    scrub = secrets.Scrubber([secret])  # only this test's secret is known
    nb = scrub_notebook(ipynb, scrub)
    write_html(nb, page, scrub)
    write_sidecar(side, {"failed": {"evalue": f"bad {secret!r}"}, "rows": [{"pw": secret}]}, scrub)
    return [ipynb, page, side]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)


def _views(text: str) -> Iterator[str]:
    """The text as a reader may decode it: raw, HTML-unescaped, URL-unquoted, and every
    string of it when it is JSON (each also unescaped)."""
    texts = [text]
    with contextlib.suppress(ValueError):
        texts += list(_strings(json.loads(text)))
    with contextlib.suppress(Exception):  # not a notebook
        texts += list(_strings(nbformat.reads(text, as_version=4)))  # multi-line joined
    for t in texts:
        yield from (t, html.unescape(t), unquote(t), unquote_plus(t), html.unescape(unquote(t)))


def survivors(path: Path, secret: str) -> list[str]:
    """The forms of `secret` found in `path`: itself, its repr and ascii bodies."""
    wanted = {secret, repr(secret)[1:-1], ascii(secret)[1:-1], repr(secret + '"')[1:-2]}
    text = path.read_bytes().decode("utf-8", "surrogateescape")  # backups under outputs/ too
    return sorted({w for view in _views(text) for w in wanted if w in view})


@pytest.mark.parametrize(
    "secret",
    ["Grüße\\2026", 'Grüße"2026', "ab\\cd99xy", "p'w\"d\\x<&>%20+/é€😀", "tab\there\nnew"],
)
def test_issue_examples_survive_nowhere(tmp_path: Path, secret: str) -> None:
    for path in _records(tmp_path, secret):
        assert survivors(path, secret) == [], path.name
    nb = nbformat.read(str(tmp_path / "run.ipynb"), as_version=4)  # still a valid notebook
    assert nb.cells[1].outputs[0]["text"] == f"password={secrets.MASK}\n"


SECRET = st.text(
    alphabet=st.one_of(
        st.characters(exclude_categories=["Cs"]), st.sampled_from(list("\"'\\&<>%+;#/ "))
    ),
    min_size=4,
    max_size=14,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(secret=SECRET)
def test_no_secret_survives_in_any_record_file(
    tmp_path_factory: pytest.TempPathFactory, secret: str
) -> None:
    assume("*" not in secret and secret.strip() == secret)
    baseline = tmp_path_factory.mktemp("baseline")
    for path in _records(baseline, "xyzzy-placeholder"):  # the boilerplate, no secret known
        assume(not survivors(path, secret))
    folder = tmp_path_factory.mktemp("records")
    for path in _records(folder, secret):
        assert survivors(path, secret) == [], path.name

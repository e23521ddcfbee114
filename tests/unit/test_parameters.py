from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netzops.errors import BadInput
from netzops.runner.parameters import declared, merge, parse_assignments, read_file

CELL = """
target: str = "sandbox"  # target file
window_minutes: int = 60  # how far back
ratio: float = 0.5
verbose: bool = False  # more output
services: list[str] = ["backend", "frontend"]  # which services
"""


def test_declared_reads_types_defaults_and_help() -> None:
    params = {p.name: p for p in declared(CELL)}
    assert list(params) == ["target", "window_minutes", "ratio", "verbose", "services"]
    assert params["window_minutes"].type == "int"
    assert params["window_minutes"].default == 60
    assert params["window_minutes"].help == "how far back"
    assert params["ratio"].help == ""
    assert params["services"].default == ["backend", "frontend"]


def test_merge_layers_in_order_and_coerces_strings() -> None:
    params = declared(CELL)
    cli = parse_assignments(["window_minutes=15", "verbose=yes", "services=redis, postgres"])
    merged = merge(params, {"window_minutes": 30}, cli)
    assert merged["window_minutes"] == 15
    assert merged["verbose"] is True
    assert merged["services"] == ["redis", "postgres"]
    assert merged["ratio"] == 0.5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("window_minutes", "ten"),
        ("window_minutes", 1.5),
        ("window_minutes", True),
        ("verbose", "maybe"),
        ("ratio", "x"),
        ("target", ["a"]),
        ("target", "a\x00b"),
    ],
)
def test_wrong_types_are_refused(name: str, value: object) -> None:
    with pytest.raises(BadInput, match=name):
        merge(declared(CELL), {name: value})


def test_unknown_name_is_refused_with_the_known_ones() -> None:
    with pytest.raises(BadInput, match=r"unknown parameter 'windw'.*window_minutes"):
        merge(declared(CELL), {"windw": 5})


def test_assignment_without_equals_is_refused() -> None:
    with pytest.raises(BadInput, match="key=value"):
        parse_assignments(["window_minutes"])


def test_unsupported_annotation_is_refused() -> None:
    with pytest.raises(BadInput, match="unsupported type"):
        declared("x: dict = {}")


def test_parameter_files_must_be_mappings(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a\n- b\n")
    with pytest.raises(BadInput, match="mapping"):
        read_file(bad)
    evil = tmp_path / "evil.yaml"
    evil.write_text("x: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(BadInput, match="not valid YAML"):
        read_file(evil)


@given(st.text(min_size=1, max_size=40))
def test_hostile_names_never_pass(name: str) -> None:
    params = declared(CELL)
    if name in {p.name for p in params}:
        return
    with pytest.raises(BadInput):
        merge(params, {name: "1"})


def test_literal_parameters_take_only_their_choices() -> None:
    cell = (
        'from typing import Literal\n\nmode: Literal["a",\n              "b"] = "a"  # pick one\n'
    )
    (param,) = declared(cell)
    assert param.choices == ("a", "b") and param.help == "pick one"
    assert merge([param], {"mode": "b"}) == {"mode": "b"}
    with pytest.raises(BadInput, match="not one of a, b"):
        merge([param], {"mode": "c"})

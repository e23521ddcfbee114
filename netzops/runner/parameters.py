"""Notebook parameters: read from the typed `parameters` cell, merged and checked before
any kernel starts.

A parameters cell declares one parameter per line, papermill style:

    window_minutes: int = 60  # how far back to look
"""

from __future__ import annotations

import ast
import math
import re
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netzops.errors import BadInput
from netzops.paths import read_mapping
from netzops.times import TIME_PARAMETERS, check_time
from netzops.yamltext import TextKeepingLoader, Written

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")  # used with fullmatch
INT_RANGE = (-(2**63), 2**63 - 1)  # a signed 64-bit integer (PostgreSQL bigint)
TYPES = ("str", "int", "float", "bool", "list[str]", "list[int]")
_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()  # for Literal["a", "b"] parameters


def _choices(annotation: ast.expr) -> tuple[str, ...] | None:
    """The values of a `Literal["a", "b"]` annotation, or None for other annotations."""
    if not (isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value) == "Literal"):
        return None
    values = ast.literal_eval(annotation.slice)
    values = values if isinstance(values, tuple) else (values,)
    if not values or not all(isinstance(v, str) for v in values):
        raise BadInput("Literal parameters take strings only")
    return values


def declared(source: str) -> list[Parameter]:
    """The parameters declared in the source of a parameters cell."""
    lines = source.splitlines()
    found = []
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        kind = ast.unparse(node.annotation)
        choices = _choices(node.annotation)
        if choices:
            kind = "str"
        elif kind not in TYPES:
            raise BadInput(f"parameter {node.target.id}: unsupported type {kind}; use {TYPES}")
        default = ast.literal_eval(node.value) if node.value is not None else None
        line = lines[(node.end_lineno or node.lineno) - 1]
        help_text = line.split("#", 1)[1].strip() if "#" in line[node.end_col_offset or 0 :] else ""
        found.append(Parameter(node.target.id, kind, default, help_text, choices or ()))
    return found


def coerce(param: Parameter, value: Any) -> Any:
    """`value` as the parameter's type; strings from the command line are parsed."""
    kind = param.type
    try:
        if kind.startswith("list["):
            items = value
            if isinstance(value, str):
                items = [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(items, list):
                raise TypeError
            return [_scalar(kind[5:-1], v) for v in items]
        value = _scalar(kind, value)
        if param.choices and value not in param.choices:
            raise BadInput(
                f"parameter {param.name}: {_show(value)} is not one of {', '.join(param.choices)}"
            )
        if kind in ("int", "float") and value < 0:  # counts, durations, sizes: never below 0
            raise BadInput(f"parameter {param.name}: must be 0 or more, not {_show(value)}")
        return value
    except (TypeError, ValueError, OverflowError):
        raise BadInput(f"parameter {param.name}: expected {kind}, got {_show(value)}") from None


_SHORT = reprlib.Repr()  # bounded even for huge or deeply shared (YAML alias) values
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict = 2, 4, 4
_SHORT.maxstring, _SHORT.maxlong, _SHORT.maxother = 60, 40, 60


def _show(value: Any) -> str:
    """`value` for an error message: on one line and short."""
    text = _SHORT.repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _scalar(kind: str, value: Any) -> Any:
    if isinstance(value, Written):  # from a parameter file: its text for str, else YAML's
        value = str(value) if kind == "str" else value.typed
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if not isinstance(value, str | int):
            raise TypeError
        text = str(value).strip().lower()
        if text in _TRUE | _FALSE:
            return text in _TRUE
        raise ValueError
    if kind == "int":
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError
        number = int(value)
        if not INT_RANGE[0] <= number <= INT_RANGE[1]:
            raise ValueError
        return number
    if kind == "float":
        if isinstance(value, bool) or not math.isfinite(real := float(value)):
            raise ValueError  # nan and inf would be injected as calls, float('nan')
        return real
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise TypeError
    text = str(value)
    if "\x00" in text or len(text) > 4096:
        raise ValueError
    text.encode("utf-8")  # UnicodeEncodeError (a ValueError) for lone surrogates
    return text


def merge(params: list[Parameter], *layers: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults, then each layer in turn; unknown names and wrong types are BadInput."""
    by_name = {p.name: p for p in params}
    merged = {p.name: p.default for p in params}
    for layer in layers:
        for name, value in layer.items():
            if not isinstance(name, str) or not IDENTIFIER.fullmatch(name):
                raise BadInput(f"invalid parameter name {_show(name)}")
            if name not in by_name:
                known = ", ".join(sorted(by_name)) or "none"
                raise BadInput(f"unknown parameter {_show(name)}; this notebook takes: {known}")
            merged[name] = coerce(by_name[name], value)
    for name in TIME_PARAMETERS & merged.keys():  # a bad time is refused before any kernel
        if by_name[name].type == "str" and merged[name] is not None:
            check_time(name, merged[name])
    return merged


def parse_assignments(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """`-p key=value` pairs as a mapping (values stay strings until coerced)."""
    result = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise BadInput(f"-p expects key=value, got {_show(pair)}")
        result[name.strip()] = value
    return result


def read_file(path: Path) -> dict[str, Any]:
    """A YAML parameter file (safe loader), which must be a mapping. Plain scalars keep their
    written text for `str` parameters (`since: 2026-11-27T10:00:00Z`, `pattern: off`)."""
    return read_mapping(path, "parameter file", TextKeepingLoader)

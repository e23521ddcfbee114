"""YAML that keeps what was written: plain scalars YAML would type implicitly
(`2026-11-27T10:00:00Z` a datetime, `off` a boolean, `0777` an int) come back as `Written`,
a str of the written text with YAML's value in `typed`. A `str` parameter takes the text,
other types take `typed` — as papermill does for its own YAML files (issue 11, kind E)."""

from __future__ import annotations

from typing import Any

import yaml


class Written(str):
    """A plain scalar's written text; YAML's value of it in `typed`."""

    typed: Any

    def __new__(cls, text: str, typed: Any) -> Written:
        made = super().__new__(cls, text)
        made.typed = typed
        return made


class TextKeepingLoader(yaml.SafeLoader):
    """The safe loader, but implicitly typed plain scalars come back as `Written`."""


def _keeping(tag: str) -> None:
    typed_constructor = yaml.SafeLoader.yaml_constructors[tag]

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        typed = typed_constructor(loader, node)
        plain = isinstance(node, yaml.ScalarNode) and node.style is None
        return Written(str(node.value), typed) if plain else typed

    TextKeepingLoader.add_constructor(tag, construct)


for _tag in ("bool", "int", "float", "timestamp"):
    _keeping(f"tag:yaml.org,2002:{_tag}")


def typed(value: Any) -> Any:
    """`value` with every `Written` replaced by YAML's value (what `yaml.safe_load` gives)."""
    if isinstance(value, Written):
        return value.typed
    if isinstance(value, list):
        return [typed(v) for v in value]
    if isinstance(value, dict):
        return {typed(k): typed(v) for k, v in value.items()}
    return value

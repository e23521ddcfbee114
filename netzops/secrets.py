"""Secrets are referenced by name (an environment variable or a file) and resolved in memory.

Resolving a secret has no side effect: nothing in this module remembers a value. The set of
secrets a text is scrubbed of is explicit state with one owner, a `Scrubber` made from exactly
those values — usually `Target.scrubber()`, the target's own secrets — and passed to whatever
writes records, HTML, side-cars, the ledger, mails or logs. So no function depends on what
another call happened to resolve earlier in the process.
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Callable, Iterable
from itertools import product
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from pydantic import BaseModel, ConfigDict, model_validator

from netzops.errors import BadInput

MASK = "********"


class SecretRef(BaseModel):
    """Where a secret lives: the environment variable wins over the file when both are set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str | None = None
    file: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> SecretRef:
        if not self.env and not self.file:
            raise ValueError("a secret reference needs `env` or `file`")
        if self.env and not self.env.replace("_", "").isalnum():
            raise ValueError(f"not an environment variable name: {self.env!r}")
        return self

    def resolve(self, base: Path) -> str:
        """The secret's value; raises BadInput naming the reference (never the value)."""
        if self.env and os.environ.get(self.env):
            return os.environ[self.env]
        if self.file:
            path = Path(self.file).expanduser()
            path = path if path.is_absolute() else base / path
            try:
                return path.read_text().strip()
            except OSError as exc:
                raise BadInput(f"secret file {path} cannot be read: {exc.strerror}") from None
        raise BadInput(f"secret not set: environment variable {self.env} is empty")


def _markup(value: str) -> str:
    """HTML escaping as Jinja/markupsafe (nbconvert's templates) write it."""
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
    )


#: Every way a string is encoded on its way into a record file: JSON strings (ASCII-only and
#: UTF-8, as json and nbformat write them), Python's repr/ascii (either quote style: the
#: quote a repr picks depends on the whole string), HTML (html.escape, markupsafe, text
#: only) and URLs (path and form encoding).
ENCODINGS: dict[str, Callable[[str], str]] = {
    "json": lambda v: json.dumps(v)[1:-1],
    "json-utf8": lambda v: json.dumps(v, ensure_ascii=False)[1:-1],
    "repr": lambda v: repr(v)[1:-1],
    "repr-single": lambda v: repr(v + '"')[1:-2],
    "ascii": lambda v: ascii(v)[1:-1],
    "ascii-single": lambda v: ascii(v + '"')[1:-2],
    "html": html.escape,
    "html-text": lambda v: html.escape(v, quote=False),
    "markup": _markup,
    "url": lambda v: quote(v, safe=""),
    "url-path": quote,
    "url-form": lambda v: quote_plus(v, safe=""),
}
DEPTH = 3  # encodings applied in a row (repr in HTML in JSON: a notebook's HTML output)


def encoded_forms(value: str, depth: int = DEPTH) -> set[str]:
    """`value` and every encoding of it by up to `depth` of `ENCODINGS` in a row."""
    found = {value}
    layer = {value}
    for _ in range(depth):
        layer = {encode(v) for v, encode in product(layer, ENCODINGS.values())} - found
        found |= layer
    return found


#: The shortest base64 or hex form masked: shorter runs of those alphabets occur by chance.
MIN_BINARY_FORM = 8


def binary_forms(value: str) -> set[str]:
    """`value`'s UTF-8 bytes as text of binary encodings, wherever they sit inside a longer
    encoded string: hex (either case) and base64 (standard and URL-safe alphabets) at each of
    the three byte alignments, cut to the characters the value alone decides (so
    `user:password` in an `Authorization: Basic` header is found by the password's forms).
    The method of secret scanners (e.g. truffleHog's base64 "shifts"); forms shorter than
    `MIN_BINARY_FORM` are left out."""
    raw = value.encode()
    found = {raw.hex(), raw.hex().upper()}
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        core = encoded[-(-8 * shift // 6) : 8 * (shift + len(raw)) // 6]  # ceil(8s/6) : floor
        found |= {core, core.replace("+", "-").replace("/", "_")}
    return {form for form in found if len(form) >= MIN_BINARY_FORM}


def _forms(value: str) -> set[str]:
    forms = encoded_forms(value)
    for form in binary_forms(value):  # base64's + and / in a URL too
        forms |= encoded_forms(form, depth=1)
    return forms


class Scrubber:
    """Masks a given set of secret values (and their JSON-, HTML- and URL-escaped, base64 and
    hex forms) in text: `target.scrubber()(text)` or `Scrubber([value, …])(text)`. Values
    shorter than 4 characters are ignored (they would mask ordinary text). `Scrubber()`
    masks nothing."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        forms: set[str] = set()
        for value in values:
            if len(value) >= 4:
                forms |= _forms(value)
        self._forms = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._forms:
            if value in text:
                text = text.replace(value, MASK)
        return text


def scrub_tree(value: Any, scrub: Callable[[str], str]) -> Any:
    """`value` (parsed JSON: dicts, lists, strings, numbers) with `scrub` applied to every
    string and key, so secrets go before the tree is serialised again."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [scrub_tree(v, scrub) for v in value]
    if isinstance(value, dict):
        return {scrub(str(k)): scrub_tree(v, scrub) for k, v in value.items()}
    return value

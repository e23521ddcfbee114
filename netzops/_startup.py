"""Imported first by the CLI: start-up costs we decline.

jsonschema (under nbformat) imports rfc3987_syntax when it is installed, which compiles a
grammar for IRI format checks at import time: about 3 s on every start. Notebook schemas
use no IRI formats, so the CLI goes without it.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

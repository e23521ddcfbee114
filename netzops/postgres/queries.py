"""SQL lives in netzops/postgres/sql/, one file per query and server version.

`<name>.sql` serves every version; `<name>_post_<num>.sql` serves servers whose
server_version_num is at least <num> (e.g. activity_post_130000.sql). The newest
applicable file wins.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_VERSIONED = re.compile(r"^(?P<name>[a-z0-9_]+?)(?:_post_(?P<num>\d{6}))?\.sql$")


@cache
def _catalog() -> dict[str, list[tuple[int, str]]]:
    catalog: dict[str, list[tuple[int, str]]] = {}
    for entry in resources.files("netzops.postgres").joinpath("sql").iterdir():
        match = _VERSIONED.match(entry.name)
        if match:
            since = int(match["num"] or 0)
            catalog.setdefault(match["name"], []).append((since, entry.read_text()))
    for versions in catalog.values():
        versions.sort(reverse=True)
    return catalog


def get(name: str, server_version_num: int = 999999) -> str:
    """The text of query `name` for a server of `server_version_num`."""
    try:
        versions = _catalog()[name]
    except KeyError:
        raise KeyError(f"no SQL file for query {name!r}") from None
    for since, text in versions:
        if server_version_num >= since:
            return text
    raise KeyError(f"query {name!r} has no version for server {server_version_num}")

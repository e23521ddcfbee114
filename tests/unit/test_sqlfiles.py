"""The SQL files: named and versioned as sqlfiles expects, one statement each, values as
%(name)s, identifiers only as {name} for psycopg.sql, every file used and every use found."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from netzops.postgres import queries

SQL_DIR = Path(str(resources.files("netzops.postgres").joinpath("sql")))
SOURCES = sorted(SQL_DIR.parent.glob("*.py")) + sorted(  # the postgres and backups modules
    SQL_DIR.parent.parent.joinpath("backups").glob("*.py")
)
FILES = sorted(SQL_DIR.glob("*.sql"))
#: Queries whose {name} placeholders are filled with psycopg.sql.Identifier.
WITH_IDENTIFIERS = {
    "slow_queries",
    "statements_answer",
    "vacuum_table",
    "row_count",
    "create_database",
    "drop_database",
}
#: Calls naming a query by a literal: db.rows("name", ...), _step(db, "name", b) ...
USE = re.compile(
    r"""\b(?:rows|execute|render|_step|_signal|_change)\((?:db, )?"""
    r"""["']([a-z0-9_]+)["']"""
)


def _name(path: Path) -> str:
    return re.sub(r"_post_\d{6}$", "", path.stem)


def _body(path: Path) -> str:
    """The SQL without its comment lines."""
    return "\n".join(
        line for line in path.read_text().splitlines() if not line.lstrip().startswith("--")
    )


def _sources() -> str:
    return "\n".join(source.read_text() for source in SOURCES)


def test_there_are_sql_files_and_sources() -> None:
    assert len(FILES) > 20
    assert any(s.name == "client.py" for s in SOURCES)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_file_is_named_documented_and_one_statement(path: Path) -> None:
    assert re.fullmatch(r"[a-z0-9_]+?(_post_\d{6})?\.sql", path.name)
    assert path.read_text().startswith("-- "), "start with a comment saying what it is for"
    body = _body(path)
    assert body.strip() and ";" not in body, "one statement, no trailing semicolon"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_placeholders_are_named_and_percent_signs_fit_the_call(path: Path) -> None:
    body = _body(path)
    if "%(" in body:  # run with parameters: every other % must be doubled
        assert re.sub(r"%\([a-z_]+\)s|%%", "", body).count("%") == 0
    else:  # run without parameters: psycopg leaves % alone, so %% would reach the server
        assert "%%" not in body
    assert not re.search(r"%s\b|\$\d", body), "values as %(name)s only"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_braces_only_for_identifiers(path: Path) -> None:
    braces = re.findall(r"[{}]", _body(path))
    if _name(path) in WITH_IDENTIFIERS:
        assert re.findall(r"\{([a-z_]+)\}", _body(path)), "an identifier placeholder"
        assert len(braces) == 2 * len(re.findall(r"\{[a-z_]+\}", _body(path)))
    else:
        assert braces == []


def test_every_query_serves_postgres_12_and_up() -> None:
    for name in {_name(p) for p in FILES}:
        assert queries.get(name, 120000)
        assert queries.get(name, 170000)


@pytest.mark.parametrize(
    ("name", "version", "present", "absent"),
    [
        ("slow_queries", 120000, "s.mean_time", "mean_exec_time"),
        ("slow_queries", 130000, "s.mean_exec_time", "s.mean_time "),
        ("slow_queries", 170000, "s.total_exec_time", "s.total_time "),
        ("index_usage", 150018, "NULL::timestamptz AS last_idx_scan", "s.last_idx_scan"),
        ("index_usage", 160000, "s.last_idx_scan", "NULL::timestamptz"),
        ("checkpoints", 160009, "pg_stat_bgwriter", "pg_stat_checkpointer"),
        ("checkpoints", 170000, "pg_stat_checkpointer", "pg_stat_bgwriter"),
    ],
)
def test_version_picks_the_columns_that_exist(
    name: str, version: int, present: str, absent: str
) -> None:
    text = queries.get(name, version)
    assert present in text
    assert absent not in text


def test_client_backends_only_where_connections_are_counted() -> None:
    for name in ("connections", "activity"):
        assert "backend_type = 'client backend'" in queries.get(name)
        assert "pid <> pg_backend_pid()" in queries.get(name)


def test_every_file_is_used_and_every_use_has_a_file() -> None:
    names = {_name(p) for p in FILES}
    text = _sources()
    uses = set(USE.findall(text))
    assert len(uses) > 15
    assert uses - names == set(), "queries used in the code without a SQL file"
    literals = set(re.findall(r"[\"']([a-z0-9_]+)[\"']", text))
    assert names - literals == set(), "SQL files no code names"

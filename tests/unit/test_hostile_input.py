"""Hostile input is refused (BadInput) or arrives as a literal, never as code.

Parameters: papermill's injected cell must hold only `name = <literal>` assignments whose
values are exactly the checked ones. SQL: values reach PostgreSQL as quoted literals and
names as quoted identifiers, which the server itself reads back (md5, parse_ident).
Redis key patterns that select every key are refused. Database calls are dry runs only.
"""

from __future__ import annotations

import ast
import copy
import hashlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import nbformat
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook
from papermill.translators import translate_parameters
from psycopg import sql

from netzops import postgres
from netzops.cache.actions import check_pattern
from netzops.errors import BadInput, UnknownService
from netzops.runner import kernels, notebooks
from netzops.runner.execution import prepare
from netzops.runner.parameters import declared, merge, parse_assignments, read_file
from netzops.targets import Target, load_target
from tests.conftest import psql

CELL = """
target: str = "sandbox"
name: str = ""
count: int = 1
ratio: float = 0.5
flag: bool = False
names: list[str] = []
numbers: list[int] = []
mode: Literal["a", "b"] = "a"
"""
PARAMS = declared(CELL)
KINDS = {"str": str, "int": int, "float": float, "bool": bool}
FAST = settings(derandomize=True, max_examples=150, deadline=None)
DB = settings(derandomize=True, max_examples=40, deadline=None)

CODE = [
    "__import__('os').system('x')",
    '"; DROP TABLE users; --',
    "'; DROP TABLE users; --",
    '"""\nimport os\n"""',
    "x\ny = 1",
    "\\",
    '\\"',
    "{target}",
    "%(target)s",
    "%s",
    "${HOME}",
    "$(touch /tmp/pwned)",
    "`id`",
    "a\x00b",
    "\ud800",
    "\udcff",
    "é" * 5000,
    "\r\n",
    "\u2028",
    "\x1b[31m",
    "1e999",
    "nan",
    "-inf",
    "9" * 5000,
    "0x10",
    " 12 ",
    "true",
    "yes",
    "[1, 2]",
    "a,b,,c",
    "\t",
    "",
]
CHARS = st.one_of(
    st.characters(),
    st.integers(0xD800, 0xDFFF).map(chr),
    st.sampled_from("\x00\n\r'\"\\%{}$`;-=#,"),
)
TEXT = st.one_of(st.sampled_from(CODE), st.text(CHARS, max_size=40))
NUMBER = st.one_of(
    st.integers(),
    st.sampled_from([2**63, -(2**63) - 1, 10**400, 2**63 - 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)
SCALAR = st.one_of(TEXT, NUMBER, st.none())
VALUE = st.one_of(
    SCALAR,
    st.lists(st.one_of(SCALAR, st.lists(SCALAR, max_size=2)), max_size=4),
    st.dictionaries(st.text(max_size=5), SCALAR, max_size=2),
)
NAMES = st.one_of(
    st.sampled_from(
        [
            "__class__",
            "__import__",
            "__builtins__",
            "target\n",
            "tar=get",
            "x'y",
            "a" * 65,
            "ünïcode",
            "1abc",
            "",
            " target",
            "target ",
            "count;",
            "os.system",
            "na\x00me",
            "\ud800",
        ]
    ),
    st.text(CHARS, max_size=70),
)
LITERAL_NODES = (ast.Constant, ast.List, ast.UnaryOp, ast.USub, ast.Load)
LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"  # where str.splitlines() splits


def _same(a: Any, b: Any) -> bool:
    """Equal and of exactly the same type, list items included."""
    if isinstance(a, list):
        return type(b) is list and len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and a == b


def _literals(source: str) -> dict[str, Any]:
    """The values an injected cell assigns; AssertionError unless it holds nothing but
    `name = <literal>` lines (no calls, names, attributes: nothing that runs)."""
    found = {}
    for node in ast.parse(source).body:
        assert isinstance(node, ast.Assign) and len(node.targets) == 1, ast.dump(node)
        assert isinstance(node.targets[0], ast.Name)
        bad = [n for n in ast.walk(node.value) if not isinstance(n, LITERAL_NODES)]
        assert not bad, f"not a literal: {ast.unparse(node.value)[:200]}"
        found[node.targets[0].id] = ast.literal_eval(node.value)
    return found


def _check_injected(params: dict[str, Any], source: str) -> None:
    seen = _literals(source)
    assert seen.keys() == params.keys()
    for name, value in params.items():
        assert _same(seen[name], value), (name, value, seen[name])


def _refused_clearly(exc: BadInput) -> None:
    text = str(exc)
    assert "\n" not in text and len(text) < 600, text[:200]


# --- parameters ------------------------------------------------------------------------


@FAST
@given(NAMES)
def test_hostile_parameter_names_are_refused(name: str) -> None:
    if name in {p.name for p in PARAMS}:
        return
    with pytest.raises(BadInput) as caught:
        merge(PARAMS, {name: "1"})
    _refused_clearly(caught.value)


@FAST
@given(st.sampled_from([p.name for p in PARAMS]), VALUE)
def test_hostile_values_are_refused_or_injected_as_literals(name: str, value: Any) -> None:
    try:
        merged = merge(PARAMS, {name: value})
    except BadInput as exc:
        _refused_clearly(exc)
        event("refused")
        return
    event("injected")
    param = next(p for p in PARAMS if p.name == name)
    got = merged[name]
    if param.type.startswith("list["):
        assert type(got) is list and all(type(v) is KINDS[param.type[5:-1]] for v in got)
    else:
        assert type(got) is KINDS[param.type]
    assert not param.choices or got in param.choices
    _check_injected(merged, translate_parameters("python", "python", merged, "Parameters"))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ratio", "nan"),
        ("ratio", float("inf")),
        ("ratio", "-inf"),
        ("ratio", "1e999"),
        ("ratio", 10**400),
        ("count", 2**63),
        ("count", "9" * 5000),
        ("count", float("nan")),
        ("name", "\udcff"),
        ("name", "a\x00b"),
        ("names", ["ok", None]),
        ("names", [["x"]]),
        ("numbers", [1, True]),
        ("flag", [True]),
        ("mode", "__import__('os')"),
        ("name", {"a": 1}),
    ],
)
def test_values_papermill_would_inject_as_calls_or_crash_on_are_refused(
    name: str, value: Any
) -> None:
    with pytest.raises(BadInput, match=name) as caught:
        merge(PARAMS, {name: value})
    _refused_clearly(caught.value)


@cache
def _notebook(name: str) -> tuple[notebooks.Notebook, Any]:
    nb = notebooks.load(name)
    return nb, nb.read()


def _injected_cell(name: str, params: dict[str, Any]) -> str:
    """The injected cell as papermill's execute_notebook would write it."""
    node = load_notebook_node(copy.deepcopy(_notebook(name)[1]))
    nb = parameterize_notebook(node, params, kernel_name=kernels.NAME)
    nbformat.writes(nb).encode("utf-8")  # what papermill saves must be writable
    return next(
        str(c.source) for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])
    )


NOTEBOOKS = ["cache", "users", "logs", "restart-scale", "database"]
PLAUSIBLE = st.one_of(
    st.sampled_from(
        ["backend", "all", "sandbox", "restart", "viewer", "true", "5", "0.5", "1e3", "session:*"]
    ),
    st.integers().map(str),
)


@FAST
@given(st.sampled_from(NOTEBOOKS), st.data())
def test_command_line_pairs_through_prepare(notebook: str, data: st.DataObject) -> None:
    """`-p key=value` strings as the CLI passes them: refused, or injected as literals."""
    known = st.sampled_from([p.name for p in _notebook(notebook)[0].parameters])
    name = st.integers(0, 9).flatmap(lambda i: NAMES if i == 0 else known)  # mostly known
    pair = st.tuples(name, st.one_of(TEXT, PLAUSIBLE))
    pairs = data.draw(st.lists(pair.map("=".join), min_size=1, max_size=2))
    target = load_target("sandbox")
    try:
        params = prepare(_notebook(notebook)[0], target, [], parse_assignments(pairs))
    except BadInput as exc:
        _refused_clearly(exc)
        event("refused")
        return
    event("injected")
    assert params["target"] == "sandbox"
    _check_injected(params, _injected_cell(notebook, params))


@FAST
@given(TEXT)
def test_hostile_service_names_are_unknown_services(service: str) -> None:
    target = load_target("sandbox")
    if service in (*target.services, "all"):
        return
    with pytest.raises(UnknownService):
        target.check_service(service)
    usable = _encodable(service) and len(service) <= 4096  # else refused as a bad str
    for name in ("logs", "restart-scale"):
        with pytest.raises(UnknownService if usable else BadInput) as caught:
            prepare(_notebook(name)[0], target, [], {"service": service})
        _refused_clearly(caught.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name: !!python/object/apply:os.system ['touch /tmp/pwned']\n", "not valid YAML"),
        ("name: [unclosed\n  x: {\n", "not valid YAML"),
        (f"count: {'9' * 5000}\n", "not valid YAML"),
        (
            "a: &a [x, x, x, x, x, x, x, x, x]\n"
            "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
            "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
            "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
            "names: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
            "names",
        ),
    ],
)
def test_hostile_parameter_files_are_refused_on_one_line(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_text(content)
    with pytest.raises(BadInput, match=message) as caught:
        layer = read_file(path)
        merge(PARAMS, {"names": layer["names"]})  # the alias bomb: refused, quickly
    _refused_clearly(caught.value)
    assert not Path("/tmp/pwned").exists()


# --- SQL values and identifiers (sandbox, dry runs only) ----------------------------------


@pytest.fixture(scope="module")
def admin(sandbox: Target) -> Iterator[postgres.Database]:
    db = postgres.connect(sandbox, role="admin")
    yield db
    db.close()


@pytest.fixture(scope="module")
def monitor(sandbox: Target) -> Iterator[postgres.Database]:
    db = postgres.connect(sandbox)
    yield db
    db.close()


def _users_digest() -> str:
    return psql("SELECT md5(string_agg(u::text, '|' ORDER BY id)) FROM users u")


def _server_md5(monitor: postgres.Database, literal: str) -> str:
    """md5 of a SQL literal as the server reads it (prepared: one statement or an error;
    read-only monitor session)."""
    row = monitor.connection().execute(f"SELECT md5({literal})", prepare=True).fetchone()
    assert row is not None
    return str(row[0])


def _encodable(text: str) -> bool:
    return "\x00" not in text and not any("\ud800" <= c <= "\udfff" for c in text)


# what psycopg can send at all (NUL and lone surrogates: test_unencodable_usernames_…)
SQL_TEXT = st.one_of(
    st.sampled_from([c for c in CODE if c and _encodable(c)]),
    st.text(st.characters(exclude_characters="\x00"), min_size=1, max_size=40),
)
UPDATE = (
    "UPDATE users SET role = {} WHERE username = {} RETURNING id, username, email, role, "
    "is_active, created_at"
)


def test_hostile_usernames_and_roles_are_refused(admin: postgres.Database) -> None:
    before = _users_digest()
    existing = set(psql("SELECT string_agg(username, chr(10)) FROM users").splitlines())

    @DB
    @given(SQL_TEXT.filter(lambda u: u not in existing))
    def hostile_user(username: str) -> None:
        with pytest.raises(BadInput, match="no user named"):
            postgres.set_user_role(admin, username, "viewer")
        with pytest.raises(BadInput, match="no user named"):
            postgres.set_user_active(admin, username, False)

    @DB
    @given(TEXT.filter(lambda r: r not in postgres.ROLES))
    def hostile_role(role: str) -> None:
        with pytest.raises(BadInput, match="unknown role"):
            postgres.set_user_role(admin, "admin", role)

    hostile_user()
    hostile_role()
    assert _users_digest() == before


def test_user_plan_shows_values_as_quoted_literals(admin: postgres.Database) -> None:
    before = _users_digest()
    username = psql("SELECT username FROM users WHERE role = 'operator' ORDER BY id LIMIT 1")
    result = postgres.set_user_role(admin, username, "viewer")  # no confirm: a dry run
    entry = result.actions[0]
    assert entry["dry_run"] is True and entry["outcome"].startswith("dry run")
    assert entry["steps"] == [UPDATE.format("'viewer'", f"'{username}'")]
    assert _users_digest() == before


@DB
@given(SQL_TEXT, SQL_TEXT)
def test_rendered_values_are_literals_the_server_reads_back(
    admin: postgres.Database, monitor: postgres.Database, role: str, username: str
) -> None:
    text = admin.render("set_user_role", {"role": role, "username": username})
    quote = [sql.Literal(v).as_string(admin.connection()) for v in (role, username)]
    assert text == UPDATE.format(*quote)
    for value, literal in zip((role, username), quote, strict=True):
        assert _server_md5(monitor, literal) == hashlib.md5(value.encode()).hexdigest()


def test_rendered_multiline_values_stay_exact(
    admin: postgres.Database, monitor: postgres.Database
) -> None:
    username = "a\n  -- hidden\nb"
    text = admin.render("set_user_role", {"role": "viewer", "username": username})
    assert text == UPDATE.format("'viewer'", sql.Literal(username).as_string(admin.connection()))


@pytest.mark.parametrize("username", ["a\x00b", "\udcff"])
def test_unencodable_usernames_are_bad_input(admin: postgres.Database, username: str) -> None:
    with pytest.raises(BadInput):
        postgres.set_user_role(admin, username, "viewer")


def _vacuums() -> str:
    return psql(
        "SELECT sum(vacuum_count)::text || '/' || sum(analyze_count)::text FROM pg_stat_user_tables"
    )


def test_hostile_table_names_are_refused(admin: postgres.Database) -> None:
    before = _vacuums()
    tables = set(psql("SELECT string_agg(relname, chr(10)) FROM pg_class").splitlines())

    @DB
    @given(SQL_TEXT.filter(lambda t: t not in tables))
    def hostile(table: str) -> None:
        with pytest.raises(BadInput, match=r"no table|empty table name"):
            postgres.vacuum(admin, table)
        with pytest.raises(BadInput, match=r"no table|empty table name"):
            postgres.vacuum(admin, "measurements", schema=table)

    hostile()
    assert _vacuums() == before


def test_vacuum_plan_quotes_the_table(admin: postgres.Database) -> None:
    before = _vacuums()
    entry = postgres.vacuum(admin, "measurements").actions[0]
    assert entry["dry_run"] is True
    assert entry["steps"][1] == 'VACUUM (ANALYZE) "public"."measurements"'
    assert _vacuums() == before


IDENT = st.text(
    st.characters(exclude_characters="\x00" + LINE_BREAKS), min_size=1, max_size=20
).filter(lambda s: len(s.encode()) <= 63)


@DB
@given(
    st.one_of(st.just("public"), IDENT),
    st.one_of(
        st.sampled_from(['x"; DROP TABLE users; --', 'a"."b', "measurements", '"', "Mixed Case"]),
        IDENT,
    ),
)
def test_rendered_table_names_are_identifiers_the_server_reads_back(
    admin: postgres.Database, monitor: postgres.Database, schema: str, table: str
) -> None:
    text = admin.render("vacuum_table", None, {"table": (schema, table)})
    prefix = "VACUUM (ANALYZE) "
    assert text.startswith(prefix)
    row = monitor.connection().execute("SELECT parse_ident(%s)", [text[len(prefix) :]]).fetchone()
    assert row is not None and row[0] == [schema, table]


# --- Redis key patterns -----------------------------------------------------------------

# wildcards, classes and blanks only: refused (most match every key; `?`, `[]` are refused
# as well, being no narrower a name than `*` to review)
WILDCARDS_ONLY = [
    "*",
    "",
    " ",
    "\t\n",
    "**",
    "?*",
    "*?",
    "[*]",
    "[a-z]*",
    "*?*",
    "[^]*",
    "[]",
    " * ",
    "[!x]*",
    "***?",
    "?",
    "\u3000*",
    "[\\]]*",
]
NARROW = [
    "session:*",
    "cache:stats",
    "user:?:x",
    "\\*",
    "a*",
    "*:x",
    "*\\?",
    "[ab]c*",
    "sess?on:*",
    "*ü*",
]
WILD_PIECE = st.sampled_from(["*", "?", "[a-z]", "[^x]", "[*]", " ", "\t", "[]"])


@pytest.mark.parametrize("pattern", WILDCARDS_ONLY)
def test_wildcard_only_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(BadInput, match="matches every key"):
        check_pattern(pattern)


@pytest.mark.parametrize("pattern", NARROW)
def test_narrow_patterns_are_accepted(pattern: str) -> None:
    assert check_pattern(pattern) == pattern


@FAST
@given(st.lists(WILD_PIECE, max_size=6).map("".join))
def test_any_mix_of_wildcards_is_refused(pattern: str) -> None:
    with pytest.raises(BadInput):
        check_pattern(pattern)


@FAST
@given(
    st.lists(WILD_PIECE, max_size=3).map("".join),
    st.characters(exclude_characters="*?[]\\", exclude_categories=("Z", "Cc")),
    st.lists(WILD_PIECE, max_size=3).map("".join),
)
def test_a_literal_character_makes_a_pattern_narrow(head: str, char: str, tail: str) -> None:
    pattern = head + char + tail
    assert check_pattern(pattern) == pattern

"""The layout's rules, read from the source with `ast`: a broken rule fails here, not in review.

- every mutation lives in a `*/actions.py`, and only those import `netzops.guard`: a call of
  a mutating SDK method (docker-py, redis-py, psycopg through `postgres.Database` with SQL
  that changes data, the compose CLI with a verb that changes containers) appears only in
  `*/actions.py` modules, apart from the short, documented `MUTATION_ALLOWED` list;
- no domain imports `triage/`, `runner/` or `incidents/` (they compose the domains, not the
  other way round), and `triage/` does not import `runner/`;
- notebooks import neither `runner/` nor an SDK, `subprocess` or SQL, and every cell fits on
  a screen.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "netzops"
NOTEBOOKS = PACKAGE.parent / "notebooks"
COMPOSING = ("triage", "runner", "incidents")  # layers that compose the domains
EDGE = ("cli.py", "_startup.py", "sandbox")  # the command line and the sandbox drive everything
SDKS = ("docker", "psycopg", "redis", "httpx", "requests", "subprocess", "sqlalchemy")
SCREEN_LINES = 25  # a notebook cell longer than this does more than import, call, display


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, as dotted names (`from netzops import guard` → both
    `netzops` and `netzops.guard`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _layer(path: Path) -> str:
    """The first path part under netzops/: a package name or a top-level module file."""
    return path.relative_to(PACKAGE).parts[0]


def _within(imports: set[str], package: str) -> set[str]:
    return {name for name in imports if re.match(rf"netzops\.{package}(\.|$)", name)}


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_actions_modules_use_the_guard(path: Path) -> None:
    uses_guard = "netzops.guard" in _imports(path) and path.name != "__init__.py"
    sets_policy = _layer(path) == "runner"  # the runner tells the guard a run is headless
    if path.name != "actions.py" and _layer(path) not in EDGE and not sets_policy:
        assert not uses_guard, f"{path.name} imports the guard: mutations belong in */actions.py"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_domains_do_not_import_the_composing_layers(path: Path) -> None:
    layer = _layer(path)
    if layer in EDGE or layer == "runner":
        return
    allowed = {"incidents": ("triage",), "triage": ()}.get(layer, ())
    for other in COMPOSING:
        if other != layer and other not in allowed:
            assert not _within(_imports(path), other), f"{layer} imports {other}/"


# --- every mutation lives in a */actions.py -------------------------------------------------

#: Types whose objects reach a store or the engine: docker-py, redis-py (and `cache.Redis`),
#: psycopg and `postgres.Database` (annotations are matched by their last dotted name).
SDK_TYPES = {
    "DockerClient", "APIClient", "Container", "Network", "Volume", "Image",
    "Redis", "StrictRedis", "Pipeline", "Database", "Connection", "Cursor",
}  # fmt: skip
#: Expressions that hand out such objects: `x = client.containers.get(…)`, `for c in
#: project_containers(…)`, `with db.connect() as conn`, `admin = Database(…)`.
SDK_SOURCE = re.compile(
    r"(^|\W)(Database|project_containers|connect|cursor|pipeline|from_env"
    r"|(containers|networks|volumes|images)\.(get|list|run|create|pull))\("
)
#: The attributes of a client that lead to SDK objects (`client.containers.prune()`).
SDK_PARTS = {"containers", "networks", "volumes", "images", "api"}
DOCKER_MUTATORS = {
    "restart", "stop", "kill", "remove", "scale", "update", "exec_run", "start", "pause",
    "unpause", "prune", "put_archive", "rename", "commit", "connect", "disconnect", "create",
    "run", "pull",
}  # fmt: skip
REDIS_MUTATORS = {
    "delete", "unlink", "flushdb", "flushall", "config_set", "config_resetstat", "set",
    "setex", "psetex", "setnx", "mset", "msetnx", "getset", "getdel", "expire", "pexpire",
    "expireat", "persist", "hset", "hdel", "hmset", "lpush", "rpush", "lpop", "rpop", "sadd",
    "srem", "zadd", "zrem", "incr", "incrby", "decr", "decrby", "client_kill", "slowlog_reset",
    "script_flush", "acl_setuser", "acl_deluser", "save", "bgsave", "bgrewriteaof", "shutdown",
    "eval", "evalsha", "move", "copy", "restore", "migrate",
}  # fmt: skip
REDIS_COMMANDS = {m.upper().replace("_", " ") for m in REDIS_MUTATORS} | {"CONFIG SET"}
SQL_RUNNERS = {"execute", "executemany", "rows", "one"}  # psycopg and `postgres.Database`
COMPOSE_VERBS = {"up", "down", "stop", "start", "restart", "rm", "kill", "scale", "create",
                 "pause", "unpause", "exec", "run"}  # fmt: skip
SQL_DIR = PACKAGE / "postgres" / "sql"
MUTATING_SQL = re.compile(
    r"(?is)^\s*(insert|update|delete|merge|create|drop|alter|truncate|grant|revoke|vacuum"
    r"|analyze|reindex|cluster|comment|copy\s+\S+\s+from|lock|refresh)\b"
    r"|\b(pg_cancel_backend|pg_terminate_backend|pg_stat_reset\w*|pg_reload_conf)\s*\("
)
#: Mutations outside */actions.py on purpose, each with its reason: (module, function, the
#: method or SQL name) — only that call in that function, nothing else there.
MUTATION_ALLOWED = {
    ("backups/verify.py", "_create", "create_database"): "its own throwaway restore database",
    ("backups/verify.py", "_drop", "drop_database"): "drops that throwaway database again",
    ("backups/verify.py", "_amcheck", "create_amcheck"): "amcheck in the throwaway database",
    ("containers/status.py", "_node_memory", "exec_run"): "read-only: process.memoryUsage()",
    ("maintenance/window.py", "_program_versions", "exec_run"): "read-only: node/nginx version",
}
#: Layers that manage netzops's own state, not a target's: the sandbox builds and breaks its
#: replica on purpose, the runner starts and stops its own kernels and servers, the command
#: line drives both.
MUTATION_EXEMPT = ("sandbox", "runner", "cli.py")


def _sql_mutates(text: str) -> bool:
    """Whether SQL text (comments dropped) changes data, schema or sessions of others."""
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return bool(MUTATING_SQL.search(body))


def _named_sql_mutates(name: str) -> bool:
    """A `Database` query name (`create_database`, with its `_post_NNNNNN` variants) or, when
    no such file exists, the literal as SQL text."""
    files = [SQL_DIR / f"{name}.sql", *SQL_DIR.glob(f"{name}_post_*.sql")]
    found = [f for f in files if f.is_file()] if re.fullmatch(r"\w+", name) else []
    if found:
        return any(_sql_mutates(f.read_text()) for f in found)
    return _sql_mutates(name)


def _literal(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    return None


def _root(node: ast.expr) -> ast.expr:
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call | ast.Starred):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node


class _Mutations(ast.NodeVisitor):
    """Calls of mutating SDK methods, as (line, function, what, call text) — `what` the
    method, the SQL name or the compose verb — with a scope per function that knows which
    names hold SDK objects."""

    def __init__(self) -> None:
        self.found: list[tuple[int, str, str, str]] = []
        self.scopes: list[tuple[str, set[str]]] = [("<module>", set())]

    def _sdk_names(self) -> set[str]:
        return set().union(*(names for _, names in self.scopes))

    def _is_sdk(self, node: ast.expr) -> bool:
        if SDK_SOURCE.search(ast.unparse(node)) and isinstance(node, ast.Call | ast.ListComp):
            return True
        root = _root(node)
        if not (isinstance(root, ast.Name) and root.id in self._sdk_names()):
            return False
        parts = [n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)]
        return isinstance(node, ast.Name | ast.Subscript) or bool(SDK_PARTS & set(parts))

    def _bind(self, target: ast.expr, value: ast.expr) -> None:
        if self._is_sdk(value) or (
            isinstance(value, ast.Call) and SDK_SOURCE.search(ast.unparse(value))
        ):
            for node in ast.walk(target):
                if isinstance(node, ast.Name):
                    self.scopes[-1][1].add(node.id)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        names = {
            a.arg
            for a in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
            if a.annotation is not None
            and SDK_TYPES & set(re.findall(r"\w+", ast.unparse(a.annotation)))
        }
        outer = self.scopes[-1][0]
        self.scopes.append((node.name if outer == "<module>" else outer, names))
        self.generic_visit(node)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._bind(target, node.value)
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        self._bind(node.target, node.iter)
        self.generic_visit(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self._bind(node.target, node.iter)
        self.generic_visit(node)

    def visit_withitem(self, node: ast.withitem) -> None:
        if node.optional_vars is not None:
            self._bind(node.optional_vars, node.context_expr)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Attribute) and self._mutates(node, node.func):
            args = [_literal(a) for a in node.args[:2]]
            what = {"run": args[-1] if len(args) > 1 else None}.get(node.func.attr)
            what = args[0] if node.func.attr in SQL_RUNNERS and args else what
            call = ast.unparse(node)[:80]
            self.found.append((node.lineno, self.scopes[-1][0], what or node.func.attr, call))
        self.generic_visit(node)

    def _mutates(self, call: ast.Call, func: ast.Attribute) -> bool:
        method, first = func.attr, call.args[0] if call.args else None
        if method == "run" and ast.unparse(func.value).endswith("compose"):
            verb = _literal(call.args[1]) if len(call.args) > 1 else None
            return verb in COMPOSE_VERBS  # the compose CLI: `compose.run(target, "stop", …)`
        if not self._is_sdk(func.value):
            return False
        if method in SQL_RUNNERS and (sql := _literal(first)) is not None:
            return _named_sql_mutates(sql)
        if method == "execute_command" and (command := _literal(first)) is not None:
            second = _literal(call.args[1]) if len(call.args) > 1 else ""
            return f"{command} {second}".upper().strip() in REDIS_COMMANDS or (
                command.upper() in REDIS_COMMANDS
            )
        return method in DOCKER_MUTATORS | REDIS_MUTATORS


def _mutations(source: str) -> list[tuple[int, str, str, str]]:
    """(line, top-level function, method or SQL name, call) for every mutating SDK call."""
    finder = _Mutations()
    finder.visit(ast.parse(source))
    return sorted(finder.found)


def _actions_modules() -> Iterator[Path]:
    return (p for p in _modules() if p.name == "actions.py")


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_mutations_live_in_actions_modules(path: Path) -> None:
    """A call of a mutating SDK method outside */actions.py skips the guard's plan,
    confirmation, audit entry and verification (issue 8)."""
    rel = path.relative_to(PACKAGE).as_posix()
    if path.name == "actions.py" or _layer(path) in MUTATION_EXEMPT:
        return
    stray = [
        f"line {line} in {function}(): {call}"
        for line, function, what, call in _mutations(path.read_text())
        if (rel, function, what) not in MUTATION_ALLOWED
    ]
    assert not stray, f"{rel} mutates outside */actions.py (and the guard): {stray}"


def test_the_mutation_finder_sees_the_guarded_actions() -> None:
    """Not vacuous: every kind of mutation the actions modules hold is found there."""
    found = {
        path.relative_to(PACKAGE).parts[0]: " ".join(m[-1] for m in _mutations(path.read_text()))
        for path in _actions_modules()
    }
    assert ".restart(" in found["containers"] and "compose.run(" in found["incidents"]
    assert ".unlink(" in found["cache"] and ".flushdb(" in found["cache"]
    assert "terminate_database_sessions" in found["backups"] and ".prune(" in found["maintenance"]
    named = {name for _, name in _sql_names((PACKAGE / "postgres" / "actions.py").read_text())}
    assert {"cancel_backend", "terminate_backend", "vacuum_table", "set_user_role"} <= named


def _mutating_sql() -> set[str]:
    """The names of the SQL files under postgres/sql/ that change something."""
    return {
        re.sub(r"_post_\d+$", "", f.stem)
        for f in SQL_DIR.glob("*.sql")
        if _sql_mutates(f.read_text())
    }


def _sql_names(source: str) -> Iterator[tuple[str, str]]:
    """(top-level function, name) for every string literal naming a mutating SQL file; a
    query name passed through a variable (`db.rows(query, …)`) is caught here."""
    names = _mutating_sql()
    for top in ast.parse(source).body:
        function = top.name if isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef) else ""
        for node in ast.walk(top):
            if isinstance(node, ast.Constant) and node.value in names:
                yield function or "<module>", str(node.value)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_mutating_sql_is_named_only_in_actions(path: Path) -> None:
    rel = path.relative_to(PACKAGE).as_posix()
    if path.name in ("actions.py", "__init__.py") or _layer(path) in MUTATION_EXEMPT:
        return  # an __init__ names `cancel_backend` in its __all__ (the call, not the SQL)
    stray = sorted(
        f"{function}(): {name}"
        for function, name in _sql_names(path.read_text())
        if (rel, function, name) not in MUTATION_ALLOWED
    )
    assert not stray, f"{rel} runs mutating SQL outside */actions.py: {stray}"


def test_the_mutation_finder_tells_reads_from_writes() -> None:
    source = (
        "def f(client: DockerClient, r: Redis, db: Database, path: Path) -> None:\n"
        "    c = client.containers.get('x')\n"
        "    c.restart()\n"
        "    r.set('k', 1)\n"
        "    db.execute('drop_database')\n"
        "    db.rows('slow_queries', Statement)\n"
        "    db.execute('SELECT 1')\n"
        "    r.get('k'); c.logs(); path.unlink(); {}.update(); compose.run(t, 'ps')\n"
        "    r.execute_command('CONFIG', 'SET', 'x', 'y'); compose.run(t, 'stop', 'backend')\n"
    )
    assert sorted(m[-1].split("(")[0] for m in _mutations(source)) == [
        "c.restart",
        "compose.run",
        "db.execute",
        "r.execute_command",
        "r.set",
    ]


def test_allowed_mutations_still_exist() -> None:
    """An allow-list entry whose mutation went away is removed, not kept as a loophole."""
    for rel, function, what in MUTATION_ALLOWED:
        found = {(f, w) for _, f, w, _ in _mutations((PACKAGE / rel).read_text())}
        assert (function, what) in found, f"{rel}:{function} no longer calls {what}; drop it"


def _notebook_cells(path: Path) -> list[str]:
    return re.split(r"^# %%.*$", path.read_text(), flags=re.M)[1:]


NOTEBOOK_FILES = sorted(NOTEBOOKS.glob("*.py"))


def test_there_are_notebooks() -> None:
    assert len(NOTEBOOK_FILES) >= 12


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_notebooks_stay_thin(path: Path) -> None:
    imports = _imports(path)
    assert not _within(imports, "runner"), "notebooks never import the runner"
    sdks = {name for name in imports if name.split(".")[0] in SDKS}
    assert not sdks, f"SDK imports belong in the library: {sorted(sdks)}"
    sql = re.findall(r"(?i)[\"'](select|update|delete|insert|alter|drop)\s", path.read_text())
    assert not sql, "SQL belongs in the library's .sql files"
    for cell in _notebook_cells(path):
        code = [line for line in cell.strip().splitlines() if not line.startswith("#")]
        assert len(code) <= SCREEN_LINES, f"a cell of {len(code)} lines: split it or move it"


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_parameters_cells_are_plain_assignments(path: Path) -> None:
    """The parameters cell documents the notebook: typed assignments with help comments,
    no imports (papermill reads it as the notebook's signature)."""
    text = path.read_text()
    cell = text.split('# %% tags=["parameters"]', 1)[1].split("# %%", 1)[0]
    tree = ast.parse(cell)
    assert tree.body, "an empty parameters cell"
    assert all(isinstance(node, ast.AnnAssign) for node in tree.body), ast.dump(tree.body[0])

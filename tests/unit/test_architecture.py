"""The layout's rules, read from the source with `ast`: a broken rule fails here, not in review.

- every mutation lives in a `*/actions.py`, and only those import `netzops.guard`;
- no domain imports `triage/`, `runner/` or `incidents/` (they compose the domains, not the
  other way round), and `triage/` does not import `runner/`;
- notebooks import neither `runner/` nor an SDK, `subprocess` or SQL, and every cell fits on
  a screen.
"""

from __future__ import annotations

import ast
import re
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

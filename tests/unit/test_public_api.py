"""Each package's face: what `dir()` shows is exactly its `__all__` (as httpx checks its own),
so a notebook's `postgres.` + Tab lists the calls netzops has and nothing by accident."""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest

from netzops import errors

PACKAGES = [
    "netzops",
    *(
        f"netzops.{name}"
        for name in (
            "containers",
            "postgres",
            "cache",
            "logs",
            "triage",
            "runner",
            "backups",
            "maintenance",
            "incidents",
        )
    ),
]


#: Names the packages bind only to write their own code (typing, the lazy loader).
IMPORT_ONLY = {"annotations", "TYPE_CHECKING", "Any", "import_module"}


def _bound(module: types.ModuleType) -> set[str]:
    """Public names bound in the package now, less its submodules."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and name not in IMPORT_ONLY
        and not (isinstance(value, types.ModuleType) and value.__name__.startswith(module.__name__))
    }


@pytest.mark.parametrize("name", PACKAGES)
def test_exported_members_are_exactly_all(name: str) -> None:
    """Nothing public beyond `__all__`, and every name in it resolves (lazy ones too)."""
    module = importlib.import_module(name)
    assert len(set(module.__all__)) == len(module.__all__)
    assert _bound(module) <= set(module.__all__)
    missing = [member for member in module.__all__ if not hasattr(module, member)]
    assert not missing


@pytest.mark.parametrize("name", PACKAGES[1:])
def test_exported_members_come_from_the_package(name: str) -> None:
    """A package re-exports its own modules' calls, not another domain's."""
    module = importlib.import_module(name)
    foreign = {
        member
        for member in module.__all__
        if isinstance(getattr(module, member), type | types.FunctionType)
        and getattr(module, member).__module__.split(".")[:2] != name.split(".")[:2]
    }
    assert not foreign


def test_every_error_descends_from_the_root() -> None:
    classes = [
        v
        for v in vars(errors).values()
        if isinstance(v, type) and issubclass(v, Exception) and v.__module__ == errors.__name__
    ]
    assert len(classes) >= 8
    assert all(issubclass(c, errors.NetzopsError) for c in classes)
    assert errors.__doc__ is not None
    assert all(c.__name__ in errors.__doc__ for c in classes)  # the tree is drawn


@pytest.mark.parametrize("name", PACKAGES[1:])
def test_no_module_hides_an_exported_name(name: str) -> None:
    """`postgres.vacuum` must stay the action: importing a submodule binds it on the package,
    so one loaded after the re-exports replaces the call of the same name."""
    module = importlib.import_module(name)
    for info in pkgutil.iter_modules(module.__path__):
        importlib.import_module(f"{name}.{info.name}")
    hidden = [m for m in module.__all__ if isinstance(getattr(module, m), types.ModuleType)]
    assert not hidden

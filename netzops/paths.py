"""Where the project's files live (parameters, targets, notebooks, outputs), and the one
safe reader of the YAML mappings kept there."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from netzops.errors import BadInput


def project_root() -> Path:
    """NETZOPS_ROOT, else the nearest folder upward holding `parameters/targets`,
    else the checkout this package was installed from."""
    env = os.environ.get("NETZOPS_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "parameters" / "targets").is_dir():
            return folder
    return Path(__file__).resolve().parent.parent


def parameters_dir() -> Path:
    """parameters/ of the project: targets, reports, contacts, schedules."""
    return project_root() / "parameters"


def targets_dir() -> Path:
    """NETZOPS_TARGETS, else parameters/targets of the project."""
    env = os.environ.get("NETZOPS_TARGETS")
    return Path(env).resolve() if env else parameters_dir() / "targets"


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def outputs_dir() -> Path:
    return Path(os.environ.get("NETZOPS_OUTPUTS", project_root() / "outputs")).resolve()


def read_mapping(
    path: Path, what: str = "parameter file", loader: type[yaml.SafeLoader] = yaml.SafeLoader
) -> dict[str, Any]:
    """The YAML mapping in `path` (safe `loader`, or a subclass; an empty file is `{}`).

    Raises BadInput, in one line naming `what` and the path, when the file cannot be read,
    is not valid YAML or holds something other than a mapping."""
    try:
        data = yaml.load(path.read_text(), Loader=loader)  # a SafeLoader (subclass)
    except OSError as exc:
        raise BadInput(f"cannot read {what} {path}: {exc.strerror}") from None
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: an int beyond Python's limit
        why = " ".join(str(exc).split())  # one line: YAML errors span several
        raise BadInput(f"{what} {path} is not valid YAML: {why[:300]}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadInput(f"{what} {path} must hold a mapping of name: value")
    return data

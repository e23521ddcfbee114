"""Where the project's files live: parameters, targets, notebooks, outputs."""

from __future__ import annotations

import os
from pathlib import Path


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


def targets_dir() -> Path:
    """NETZOPS_TARGETS, else parameters/targets of the project."""
    env = os.environ.get("NETZOPS_TARGETS")
    return Path(env).resolve() if env else project_root() / "parameters" / "targets"


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def outputs_dir() -> Path:
    return Path(os.environ.get("NETZOPS_OUTPUTS", project_root() / "outputs")).resolve()

"""netzops: executable runbooks for the Netzwächter stack.

Domain modules (import them by name): containers, postgres, cache, endpoints, certs,
host, logs, thresholds, findings; and the runner, records and ledger behind the CLI.

The names below are loaded on first use (PEP 562), so `import netzops` (and the CLI's start)
costs only the error tree; `from netzops import load_target` imports targets then.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from netzops.errors import (
    AuthenticationFailed,
    BadInput,
    ExecutionFailed,
    GuardRefused,
    NetzopsError,
    TargetUnreachable,
    UnknownService,
    UnknownTarget,
)

if TYPE_CHECKING:
    from netzops.findings import Finding, Priority
    from netzops.results import Result
    from netzops.targets import Target, load_target

_LAZY = {
    "Finding": "netzops.findings",
    "Priority": "netzops.findings",
    "Result": "netzops.results",
    "Target": "netzops.targets",
    "load_target": "netzops.targets",
}

__all__ = [
    "AuthenticationFailed",
    "BadInput",
    "ExecutionFailed",
    "Finding",
    "GuardRefused",
    "NetzopsError",
    "Priority",
    "Result",
    "Target",
    "TargetUnreachable",
    "UnknownService",
    "UnknownTarget",
    "load_target",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'netzops' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value

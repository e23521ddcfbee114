"""netzops: executable runbooks for the Netzwächter stack.

Domain modules (import them by name): containers, postgres, cache, endpoints, certs,
host, logs, thresholds, findings; and the runner, records and ledger behind the CLI.
"""

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
from netzops.findings import Finding, Priority
from netzops.results import Result
from netzops.targets import Target, load_target

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

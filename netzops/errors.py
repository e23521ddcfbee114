"""The netzops exception tree.

    NetzopsError
    ├── BadInput               invalid parameters, names or values; nothing ran
    │   ├── UnknownTarget
    │   └── UnknownService
    ├── TargetUnreachable      a service did not answer (down, hanging, refused)
    │   └── AuthenticationFailed
    ├── GuardRefused           a guarded action was not confirmed, not allowed, or its plan is stale
    └── ExecutionFailed        a notebook run failed part-way; its record is kept

SDK errors are translated where they happen (``raise TargetUnreachable(...) from exc``).
"""

from __future__ import annotations


class NetzopsError(Exception):
    """Root of every error netzops raises on purpose."""


class BadInput(NetzopsError):
    """Input was refused before anything ran."""


class UnknownTarget(BadInput):
    """No target file with that name."""


class UnknownService(BadInput):
    """A service name that the compose project does not have."""


class TargetUnreachable(NetzopsError):
    """A service of the target did not answer in time or refused the connection."""


class AuthenticationFailed(TargetUnreachable):
    """A service answered but refused the credentials."""


class GuardRefused(NetzopsError):
    """A guarded (mutating) action was refused: unconfirmed, not allowed, or stale.
    `audit` holds the refusal's audit entry."""

    def __init__(self, message: str, audit: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.audit = audit


class ExecutionFailed(NetzopsError):
    """A notebook failed while running; the partial record is kept."""

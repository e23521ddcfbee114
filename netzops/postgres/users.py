"""The application's users (runbook "Managing Users", "Verify user exists in database"):
list them. Role and active changes are guarded actions in `postgres.actions`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from netzops.checks import Outcome
from netzops.findings import Finding, Priority
from netzops.postgres.client import Database, check

ROLES = ("admin", "operator", "viewer")  # the users.role CHECK constraint of the schema


@dataclass(frozen=True)
class User:
    id: int
    username: str
    email: str
    role: str
    is_active: bool
    created_at: datetime


@check("postgres_users", "Application users")
def users(db: Database, username: str | None = None) -> Outcome:
    """Every user (id, username, email, role, is_active, created_at), or just `username`:
    a P3 finding when that user does not exist or is disabled (login issues). An empty
    `username` means every user."""
    username = username or None
    found = db.rows("users", User, {"username": username})
    if username is not None:
        why = (
            "no such user"
            if not found
            else "account is disabled (is_active = false)"
            if not found[0].is_active
            else None
        )
        findings = [Finding("postgres_users", username, Priority.P3, why)] if why else []
        return Outcome(found, findings)
    metrics = {
        "postgres.users.total": float(len(found)),
        "postgres.users.active": float(sum(u.is_active for u in found)),
    }
    metrics |= {f"postgres.users.{r}": float(sum(u.role == r for u in found)) for r in ROLES}
    return Outcome(found, metrics=metrics)

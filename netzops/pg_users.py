"""The application's users (runbook "Managing Users", "Verify user exists in database"):
list them, and change a role or disable/enable an account through the guard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from netzops.errors import BadInput
from netzops.findings import Finding, Priority
from netzops.guard import Plan
from netzops.pg_actions import guarded
from netzops.postgres import Database, Outcome, probe
from netzops.results import Result

ROLES = ("admin", "operator", "viewer")  # the users.role CHECK constraint of the schema


@dataclass(frozen=True)
class User:
    id: int
    username: str
    email: str
    role: str
    is_active: bool
    created_at: datetime


@probe("postgres_users", "Application users")
def users(db: Database, username: str | None = None) -> Outcome:
    """Every user (id, username, email, role, is_active, created_at), or just `username`:
    a P3 finding when that user does not exist or is disabled (login issues)."""
    found = db.rows("users", User, {"username": username})
    if username is not None:
        why = ("no such user" if not found
               else "account is disabled (is_active = false)" if not found[0].is_active else None)
        findings = [Finding("postgres_users", username, Priority.P3, why)] if why else []
        return Outcome(found, findings)
    metrics = {"postgres.users.total": float(len(found)),
               "postgres.users.active": float(sum(u.is_active for u in found))}
    metrics |= {f"postgres.users.{r}": float(sum(u.role == r for u in found)) for r in ROLES}
    return Outcome(found, metrics=metrics)


def _user(db: Database, username: str) -> User:
    found = db.rows("users", User, {"username": username})
    if not found:
        raise BadInput(f"no user named {username!r}")
    return found[0]


def _change(db: Database, action: str, username: str, column: str, value: object,
            confirm: str | None) -> Result:
    """Plan the UPDATE of `column` for one existing user, run it when confirmed, verify it.
    The SQL file `<action>.sql` takes %(username)s and %(<column>)s."""
    params = {column: value, "username": username}

    def plan() -> Plan:
        user = _user(db, username)
        return Plan(action, db.target.name, username, [db.render(action, params)],
                    {"user_id": user.id, "column": column, "before": getattr(user, column),
                     "after": value})

    def act(_: Plan) -> str:
        return f"{len(db.rows(action, User, params))} row(s) updated"

    return guarded(db, plan, act, confirm, lambda: getattr(_user(db, username), column),
                   lambda after: bool(after == value), action)


def set_user_role(db: Database, username: str, role: str, confirm: str | None = None) -> Result:
    """Runbook "Update user role": UPDATE users SET role = … WHERE username = … (guarded)."""
    if role not in ROLES:
        raise BadInput(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    return _change(db, "set_user_role", username, "role", role, confirm)


def set_user_active(db: Database, username: str, active: bool,
                    confirm: str | None = None) -> Result:
    """Runbook "Disable user account" (active=False) or enable it again (guarded)."""
    if not isinstance(active, bool):
        raise BadInput(f"active must be true or false, not {active!r}")
    return _change(db, "set_user_active", username, "is_active", active, confirm)

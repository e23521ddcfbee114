"""Guarded PostgreSQL actions: cancel or terminate backends, VACUUM (ANALYZE), and the
application users' role and active flag (runbook "Managing Users").

Every action goes through `netzops.guard.run`: a dry run by default whose plan lists the
exact SQL; it acts only with the plan's confirmation. Actions need an admin client,
`connect(target, role="admin")`. Never signalled: our own session, other netzops
sessions, and anything that is not a client backend (autovacuum, walsenders, workers).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from netzops import guard
from netzops.errors import BadInput, TargetUnreachable
from netzops.findings import Finding, Priority
from netzops.guard import Plan
from netzops.postgres.activity import sessions, short
from netzops.postgres.client import Database, unavailable
from netzops.postgres.indexes import TableStats
from netzops.postgres.users import ROLES, User
from netzops.results import Result


def require_admin(db: Database) -> None:
    if db.role != "admin":
        raise BadInput("actions need the admin client: connect(target, role='admin')")


def guarded(
    db: Database,
    plan: Callable[[], Plan],
    act: Callable[[Plan], Any],
    confirm: str | None,
    observe: Callable[[Plan], Any] | None = None,
    verify: Callable[[Any, Any], bool] | None = None,
    action: str = "action",
) -> Result:
    """guard.run on the database's target; an unreachable database becomes a P0 finding,
    a statement the server refused (a lock or statement timeout) a P2 naming its reason."""
    require_admin(db)
    try:
        return guard.run(db.target, plan, act, confirm, observe, verify)
    except TargetUnreachable as exc:
        return unavailable(action, f"{action} on {db.target.name}", exc)
    except psycopg.OperationalError as exc:
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        refused = Finding(action, "postgres", Priority.P2, f"{action} refused: {why}"[:240])
        return Result.of(action, f"{action} on {db.target.name}", findings=[refused])


@dataclass(frozen=True)
class Backend:
    pid: int
    backend_type: str
    username: str | None
    application_name: str
    state: str | None
    backend_start: datetime
    query_start: datetime | None
    query: str
    own: bool


@dataclass(frozen=True)
class Signalled:
    signalled: bool


@dataclass(frozen=True)
class Timeouts:
    statement_timeout: str
    lock_timeout: str


def _refusal(b: Backend) -> str | None:
    if b.own:
        return "our own session"
    if b.backend_type != "client backend":
        return f"not a client backend ({b.backend_type})"
    if b.application_name == "netzops":
        return "a netzops session"
    return None


def _backends(db: Database, pids: Sequence[int]) -> list[Backend]:
    return db.rows("backends", Backend, {"pids": list(pids)})


def _select(db: Database, pids: Sequence[int] | None, min_duration: timedelta) -> list[Backend]:
    """The backends to signal: the given pids (all must qualify, else BadInput) or, without
    pids, the client queries running longer than `min_duration` (the runbook's choice)."""
    if pids is None:
        long = [a.pid for a in sessions(db, ("active",), min_duration)]
        return [b for b in _backends(db, long) if _refusal(b) is None]
    found = {b.pid: b for b in _backends(db, pids)}
    problems = [
        f"pid {p}: {'no such backend' if p not in found else _refusal(found[p])}"
        for p in pids
        if p not in found or _refusal(found[p])
    ]
    if problems:
        raise BadInput("refusing to signal " + "; ".join(problems))
    return [found[p] for p in sorted(set(pids))]


def _identity(b: Backend) -> dict[str, Any]:
    return {
        "pid": b.pid,
        "backend_start": b.backend_start.isoformat(),
        "state": b.state,
        "query_start": b.query_start.isoformat() if b.query_start else None,
        "query": short(b.query, 500),
    }


def _step(db: Database, query: str, b: Backend) -> str:
    who = f"{b.username}/{b.application_name or '-'}"
    since = b.query_start.isoformat(timespec="seconds") if b.query_start else "?"
    return (
        f"{db.render(query, {'pid': b.pid})};  -- pid {b.pid} ({who}, {b.state} since "
        f"{since}): {short(b.query, 200)}"
    )


def _running(db: Database, chosen: Sequence[Backend]) -> list[int]:
    """Planned backends still running the query they ran when planned."""
    now = {b.pid: b for b in _backends(db, [c.pid for c in chosen])}
    return [
        c.pid
        for c in chosen
        if (b := now.get(c.pid))
        and b.backend_start == c.backend_start
        and b.state == "active"
        and b.query_start == c.query_start
    ]


def _present(db: Database, chosen: Sequence[Backend]) -> list[int]:
    """Planned backends whose session still exists."""
    now = {b.pid: b for b in _backends(db, [c.pid for c in chosen])}
    return [c.pid for c in chosen if (b := now.get(c.pid)) and b.backend_start == c.backend_start]


def _signal(db: Database, query: str, pids: Sequence[int]) -> list[int]:
    return [p for p in pids if db.rows(query, Signalled, {"pid": p})[0].signalled]


def _wait(check: Callable[[], list[int]], seconds: float) -> list[int]:
    """Poll `check` until it returns nothing or `seconds` pass; its last answer."""
    deadline = time.monotonic() + seconds
    left = check()
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = check()
    return left


def cancel_backend(
    db: Database,
    pids: Sequence[int] | None = None,
    confirm: str | None = None,
    min_duration: timedelta = timedelta(minutes=5),  # runbook "Kill long-running query"
    grace: timedelta = timedelta(seconds=5),  # time for a cancelled query to stop
) -> Result:
    """pg_cancel_backend for the given pids, or for every query running ≥ `min_duration`."""

    def plan() -> Plan:
        chosen = _select(db, pids, min_duration)
        return Plan(
            "cancel_backend",
            db.target.name,
            _subject(chosen),
            [_step(db, "cancel_backend", b) for b in chosen],
            {"backends": [_identity(b) for b in chosen]},
            tuple(chosen),
        )

    def act(p: Plan) -> dict[str, list[int]]:
        signalled = _signal(db, "cancel_backend", [b.pid for b in p.subjects])
        left = _wait(lambda: _running(db, p.subjects), grace.total_seconds())
        return {"cancelled": signalled, "still_running": left}

    def observe(p: Plan) -> list[int]:
        return _running(db, p.subjects)

    return guarded(db, plan, act, confirm, observe, _none_left, "cancel_backend")


def terminate_backend(
    db: Database,
    pids: Sequence[int] | None = None,
    confirm: str | None = None,
    force: bool = False,
    min_duration: timedelta = timedelta(minutes=5),  # runbook "Kill long-running query"
    grace: timedelta = timedelta(seconds=5),  # time for a cancelled query to stop
) -> Result:
    """Cancel first; terminate the sessions whose query still runs after `grace`. With
    `force`, terminate the sessions right away (their open transactions roll back)."""

    def plan() -> Plan:
        chosen = _select(db, pids, min_duration)
        if force:
            steps = [_step(db, "terminate_backend", b) for b in chosen]
        else:
            steps = [_step(db, "cancel_backend", b) for b in chosen]
            steps += [
                f"if still running after {grace.total_seconds():g} s: "
                f"{db.render('terminate_backend', {'pid': b.pid})}"
                for b in chosen
            ]
        return Plan(
            "terminate_backend",
            db.target.name,
            _subject(chosen),
            steps,
            {"backends": [_identity(b) for b in chosen], "force": force},
            tuple(chosen),
        )

    def act(p: Plan) -> dict[str, list[int]]:
        chosen, wait_s = p.subjects, grace.total_seconds()
        pids_ = [b.pid for b in chosen]
        cancelled = [] if force else _signal(db, "cancel_backend", pids_)
        stubborn = pids_ if force else _wait(lambda: _running(db, chosen), wait_s)
        terminated = _signal(db, "terminate_backend", stubborn)
        left = _wait(lambda: [n for n in _present(db, chosen) if n in terminated], wait_s)
        return {"cancelled": cancelled, "terminated": terminated, "still_there": left}

    def observe(p: Plan) -> list[int]:
        return _present(db, p.subjects) if force else _running(db, p.subjects)

    return guarded(db, plan, act, confirm, observe, _none_left, "terminate_backend")


def _none_left(_: list[int], after: list[int]) -> bool:
    """Verified when none of the planned backends is left after the action."""
    return not after


def _subject(chosen: Sequence[Backend]) -> str:
    return "pids " + ", ".join(str(b.pid) for b in chosen) if chosen else "no backends"


@dataclass(frozen=True)
class Relation:
    schema: str
    table_name: str


def _ms(span: timedelta) -> str:
    return f"{int(span.total_seconds() * 1000)}ms"


def _vacuum_state(db: Database, schema: str, table: str | None) -> dict[str, dict[str, Any]]:
    """Dead tuples and last manual vacuum of the table, or of every table."""
    return {
        f"{t.schema}.{t.table_name}": {
            "n_dead_tup": t.n_dead_tup,
            "last_vacuum": t.last_vacuum.isoformat() if t.last_vacuum else None,
        }
        for t in db.rows("table_stats", TableStats)
        if table is None or (t.schema, t.table_name) == (schema, table)
    }


def vacuum(
    db: Database,
    table: str | None = None,
    confirm: str | None = None,
    schema: str = "public",
    statement_timeout: timedelta = timedelta(minutes=30),  # longer: a maintenance window job
    lock_timeout: timedelta = timedelta(seconds=5),  # give way to the app, do not queue
) -> Result:
    """VACUUM (ANALYZE) one table or, with `table` None or "*", the whole database, in
    autocommit, with session-level statement and lock timeouts. Verified by each table's
    last_vacuum moving on."""
    timeouts = {"statement_timeout": _ms(statement_timeout), "lock_timeout": _ms(lock_timeout)}
    table = None if table == "*" else table
    if table is not None and not table.strip():
        raise BadInput("vacuum: an empty table name; pass None to vacuum the whole database")
    query, names = (
        ("vacuum_table", {"table": (schema, table or "")}) if table else ("vacuum_database", None)
    )

    def plan() -> Plan:
        if table and not db.rows("relation", Relation, {"schema": schema, "table_name": table}):
            raise BadInput(f"no table {schema}.{table} to vacuum")
        steps = [
            db.render("session_timeouts", timeouts),
            db.render(query, None, names),
            db.render("reset_timeouts"),
        ]
        subject = f"{schema}.{table}" if table else f"database {db.target.postgres.dbname}"
        return Plan("vacuum", db.target.name, subject, steps, dict(timeouts))

    def act(_: Plan) -> str:
        deadline = statement_timeout.total_seconds() + db.target.postgres.connect_timeout_s
        db.rows("session_timeouts", Timeouts, timeouts)
        try:
            return db.execute(query, None, names, deadline_s=deadline)
        except (TargetUnreachable, psycopg.OperationalError) as exc:  # timeouts included
            return f"VACUUM did not finish: {exc}"
        finally:
            db.rows("reset_timeouts", Timeouts)

    def observe(_: Plan) -> dict[str, dict[str, Any]]:
        return _vacuum_state(db, schema, table)

    def verify(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> bool:
        return all(
            v["last_vacuum"] and v["last_vacuum"] != before.get(k, {}).get("last_vacuum")
            for k, v in after.items()
        )

    return guarded(db, plan, act, confirm, observe, verify, "vacuum")


# --- application users ----------------------------------------------------------------------


def _user(db: Database, username: str) -> User:
    found = db.rows("users", User, {"username": username})
    if not found:
        raise BadInput(f"no user named {username!r}")
    return found[0]


def _change(
    db: Database, action: str, username: str, column: str, value: object, confirm: str | None
) -> Result:
    """Plan the UPDATE of `column` for one existing user, run it when confirmed, verify it.
    The SQL file `<action>.sql` takes %(username)s and %(<column>)s."""
    params = {column: value, "username": username}

    def plan() -> Plan:
        user = _user(db, username)
        return Plan(
            action,
            db.target.name,
            username,
            [db.render(action, params)],
            {"user_id": user.id, "column": column, "before": getattr(user, column), "after": value},
        )

    def act(_: Plan) -> str:
        return f"{len(db.rows(action, User, params))} row(s) updated"

    return guarded(
        db,
        plan,
        act,
        confirm,
        lambda _: getattr(_user(db, username), column),
        lambda _, after: bool(after == value),
        action,
    )


def set_user_role(db: Database, username: str, role: str, confirm: str | None = None) -> Result:
    """Runbook "Update user role": UPDATE users SET role = … WHERE username = … (guarded)."""
    if role not in ROLES:
        raise BadInput(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    return _change(db, "set_user_role", username, "role", role, confirm)


def set_user_active(
    db: Database, username: str, active: bool, confirm: str | None = None
) -> Result:
    """Runbook "Disable user account" (active=False) or enable it again (guarded)."""
    if not isinstance(active, bool):
        raise BadInput(f"active must be true or false, not {active!r}")
    return _change(db, "set_user_active", username, "is_active", active, confirm)

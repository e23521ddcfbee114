"""Slow queries from pg_stat_statements (runbook "Check slow queries").

The extension is often missing in production: that is a P3 hint, not an error. Its
columns changed in PostgreSQL 13 (total_exec_time/mean_exec_time): the SQL file is
chosen by server version.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from netzops.checks import Outcome
from netzops.findings import Finding, Priority
from netzops.postgres.activity import short
from netzops.postgres.client import Database, check

CHECK = "postgres_slow_queries"


@dataclass(frozen=True)
class Feature:
    schema: str | None


@dataclass(frozen=True)
class Answer:
    answered: int


@dataclass(frozen=True)
class Statement:
    queryid: int | None
    query: str
    calls: int
    total_ms: float
    mean_ms: float
    rows: int
    hit_percent: float | None


NOT_INSTALLED = "pg_stat_statements not installed (CREATE EXTENSION pg_stat_statements)"
NOT_LOADED = "pg_stat_statements not loaded (add it to shared_preload_libraries)"


def _judge(s: Statement, slow_ms: float, min_calls: int, budget_ms: float) -> Finding | None:
    if s.calls < min_calls or s.mean_ms < slow_ms:
        return None
    over = s.mean_ms > budget_ms
    limit = budget_ms if over else slow_ms
    return Finding(
        CHECK,
        f"queryid {s.queryid}",
        Priority.P2 if over else Priority.P3,
        f"mean {s.mean_ms:.1f} ms over {s.calls} calls"
        f"{' (above the API budget)' if over else ''}: {short(s.query)}",
        round(s.mean_ms, 3),
        limit,
    )


def _unanswered(db: Database, schema: str) -> str | None:
    """None when the view answers; else why not (the server's word decides, not the spelling
    of shared_preload_libraries)."""
    try:
        db.rows(
            "statements_answer", Answer, identifiers={"statements": (schema, "pg_stat_statements")}
        )
    except psycopg.errors.ObjectNotInPrerequisiteState:
        return NOT_LOADED
    return None


@check(CHECK, "PostgreSQL slow queries (pg_stat_statements)")
def slow_queries(
    db: Database,
    limit: int = 10,  # runbook "Check slow queries": LIMIT 10
    slow_ms: float = 20.0,  # pgHero slow_query_ms
    min_calls: int = 100,  # pgHero slow_query_calls
) -> Outcome:
    """Top `limit` statements of this database by mean time; P3 when slow and frequent,
    P2 when a statement's mean alone exceeds the target's API budget (api_response_ms)."""
    schema = db.rows("statements_feature", Feature)[0].schema
    why = NOT_INSTALLED if schema is None else _unanswered(db, schema)
    if schema is None or why is not None:
        hint = Finding(CHECK, "pg_stat_statements", Priority.P3, why or NOT_LOADED)
        return Outcome(findings=[hint], metrics={"postgres.statements.available": 0.0})
    found = db.rows(
        "slow_queries",
        Statement,
        {"limit": limit},
        {"statements": (schema, "pg_stat_statements")},
    )
    budget = db.target.bands["api_response_ms"].warn or float("inf")
    findings = [f for s in found if (f := _judge(s, slow_ms, min_calls, budget))]
    metrics = {
        "postgres.statements.available": 1.0,
        "postgres.statements.slowest_mean_ms": max((s.mean_ms for s in found), default=0.0),
    }
    return Outcome(found, findings, metrics, ["cumulative since pg_stat_statements_reset()"])

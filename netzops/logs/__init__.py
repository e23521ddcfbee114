"""Container logs: read them, parse the stack's line formats, and analyse them.

read      container logs through the Engine API (`docker compose logs`), `view` with a filter
parse     the line formats of the backend, nginx, PostgreSQL and Redis, on bytes
analysis  errors, slow queries, failed logins, out of memory, request and 5xx rates
"""

from __future__ import annotations

from netzops.logs.analysis import (
    ErrorKind,
    FailedLogins,
    LogHit,
    Minute,
    SlowQuery,
    StatusCount,
    errors_last_hour,
    failed_logins,
    frame,
    nginx_error_rate,
    nginx_error_rate_recent,
    out_of_memory,
    request_rates,
    request_rates_recent,
    slow_queries,
)
from netzops.logs.read import LogLine, Source, When, parse_when, read, view

__all__ = [
    "ErrorKind",
    "FailedLogins",
    "LogHit",
    "LogLine",
    "Minute",
    "SlowQuery",
    "Source",
    "StatusCount",
    "When",
    "errors_last_hour",
    "failed_logins",
    "frame",
    "nginx_error_rate",
    "nginx_error_rate_recent",
    "out_of_memory",
    "parse_when",
    "read",
    "request_rates",
    "request_rates_recent",
    "slow_queries",
    "view",
]

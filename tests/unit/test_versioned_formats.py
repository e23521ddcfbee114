"""Issue 11, kinds A and C (pure parts): every versioned format netzops reads, in its oldest
and newest supported form — PostgreSQL 12–17 catalogs (the version-suffixed SQL files),
the Docker Engine API's container and stats documents — and property tests feeding the
values an engine may legitimately return (missing fields, nulls, odd types)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from docker.models.containers import Container
from hypothesis import given
from hypothesis import strategies as st

from netzops.containers.status import container_state, cpu_percent, memory_used
from netzops.postgres import queries

# --- PostgreSQL catalogs, 12 … 17 (columns from the PostgreSQL documentation) -----------------

_STATEMENTS_12 = {"userid", "dbid", "queryid", "query", "calls", "total_time", "min_time",
                  "max_time", "mean_time", "stddev_time", "rows", "shared_blks_hit",
                  "shared_blks_read", "blk_read_time", "blk_write_time"}  # fmt: skip
_STATEMENTS_13 = (_STATEMENTS_12 - {"total_time", "min_time", "max_time", "mean_time",
                  "stddev_time"}) | {"plans", "total_plan_time", "total_exec_time",
                  "mean_exec_time", "min_exec_time", "max_exec_time", "wal_bytes"}  # fmt: skip
_STATEMENTS_17 = (_STATEMENTS_13 - {"blk_read_time", "blk_write_time"}) | {
    "shared_blk_read_time", "shared_blk_write_time", "local_blk_read_time",
    "stats_since"}  # fmt: skip
_BGWRITER_12 = {"checkpoints_timed", "checkpoints_req", "checkpoint_write_time",
                "buffers_checkpoint", "buffers_clean", "stats_reset"}  # fmt: skip
_BGWRITER_17 = {"buffers_clean", "maxwritten_clean", "buffers_alloc", "stats_reset"}
_CHECKPOINTER_17 = {"num_timed", "num_requested", "restartpoints_timed", "write_time",
                    "sync_time", "buffers_written", "stats_reset"}  # fmt: skip
_INDEXES_12 = {"relid", "indexrelid", "schemaname", "relname", "indexrelname", "idx_scan",
               "idx_tup_read", "idx_tup_fetch"}  # fmt: skip
_INDEXES_16 = _INDEXES_12 | {"last_idx_scan"}


def catalog(version: int) -> dict[str, set[str]]:
    """Columns of the statistics views netzops reads, for a major `version`."""
    return {
        "statements": _STATEMENTS_12
        if version < 13
        else _STATEMENTS_13
        if version < 17
        else _STATEMENTS_17,
        "pg_stat_bgwriter": _BGWRITER_12 if version < 17 else _BGWRITER_17,
        "pg_stat_checkpointer": _CHECKPOINTER_17 if version >= 17 else set(),
        "pg_stat_user_indexes": _INDEXES_12 if version < 16 else _INDEXES_16,
    }


VIEWS = {  # query → the view it reads
    "slow_queries": "statements",
    "checkpoints": "pg_stat_checkpointer|pg_stat_bgwriter",
    "index_usage": "pg_stat_user_indexes",
}


@pytest.mark.parametrize("version", [12, 13, 14, 15, 16, 17])
@pytest.mark.parametrize("query", sorted(VIEWS))
def test_sql_uses_only_columns_of_that_version(query: str, version: int) -> None:
    text = queries.get(query, version * 10000)
    views = catalog(version)
    read = next(v for v in VIEWS[query].split("|") if v in text or v == "statements")
    assert views[read], f"{query} on {version} reads {read}, which {version} does not have"
    every = set().union(*(catalog(v)[read] for v in range(12, 18)))
    code = re.sub(r"--[^\n]*|\bAS\s+\w+", "", text)  # comments and aliases name no column
    used = set(re.findall(r"\b[a-z_]+\b", code))
    assert (used & every) - views[read] == set(), f"{query} on PostgreSQL {version}"


def test_oldest_and_newest_pick_their_own_files() -> None:
    assert "total_time" in queries.get("slow_queries", 120000)
    assert "total_exec_time" in queries.get("slow_queries", 170000)
    assert "pg_stat_bgwriter" in queries.get("checkpoints", 160000)
    assert "pg_stat_checkpointer" in queries.get("checkpoints", 170000)
    assert "s.last_idx_scan" in queries.get("index_usage", 170000)
    assert "s.last_idx_scan" not in queries.get("index_usage", 150000)


# --- Docker Engine API: container documents, oldest (1.24, no Health) and newest (1.47) --------

NEWEST = {
    "Name": "/netzwaechter-backend-2",
    "State": {
        "Status": "running",
        "Running": True,
        "OOMKilled": False,
        "ExitCode": 0,
        "StartedAt": "2026-11-30T11:51:02.123456789Z",
        "Health": {
            "Status": "healthy",
            "FailingStreak": 0,
            "Log": [{"ExitCode": 0, "Output": "ok\n"}],
        },
    },
    "RestartCount": 1,
    "Config": {
        "Image": "netzwaechter/base:local",
        "Labels": {
            "com.docker.compose.service": "backend",
            "com.docker.compose.container-number": "2",
        },
    },
    "NetworkSettings": {"Ports": {"5000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "15001"}]}},
}
OLDEST = {  # API 1.24: no Health, compose v1 labels, no published ports, a local offset
    "Name": "/netzwaechter_backend_1",
    "State": {"Status": "running", "StartedAt": "2026-11-30T12:51:02.5+01:00", "ExitCode": 0},
    "Config": {"Image": "base", "Labels": {"com.docker.compose.service": "backend"}},
    "NetworkSettings": {"Ports": None},
}
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _container(attrs: dict[str, Any]) -> Container:
    return Container(attrs=attrs)


def test_newest_container_document() -> None:
    s = container_state(_container(NEWEST), NOW)
    assert (s.service, s.replica, s.health, s.restart_count) == ("backend", 2, "healthy", 1)
    assert s.started_at == datetime(2026, 11, 30, 11, 51, 2, 123456, tzinfo=UTC)
    assert s.ports == "127.0.0.1:15001->5000/tcp" and s.last_health_output == "ok"


def test_oldest_container_document() -> None:
    s = container_state(_container(OLDEST), NOW)
    assert (s.service, s.replica, s.health, s.serving) == ("backend", 1, "none", True)
    assert s.started_at == datetime(2026, 11, 30, 11, 51, 2, 500000, tzinfo=UTC)  # offset kept
    assert s.uptime_s == 537.5 and s.ports == ""


MAYBE_INT = st.one_of(st.none(), st.integers(0, 2**63))


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "Status": st.sampled_from(["running", "exited", "created", "dead", ""]),
            "StartedAt": st.one_of(
                st.none(), st.just("0001-01-01T00:00:00Z"), st.just("garbage"),
                st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
            ),
            "ExitCode": st.integers(-1, 255),
            "OOMKilled": st.booleans(),
            "Health": st.one_of(st.none(), st.fixed_dictionaries({}, optional={
                "Status": st.sampled_from(["healthy", "unhealthy", "starting"]),
                "FailingStreak": st.integers(0, 100),
                "Log": st.one_of(st.none(), st.lists(st.fixed_dictionaries(
                    {}, optional={"Output": st.text(max_size=10)}), max_size=3)),
            })),
        },
    ),
    st.booleans(),
)  # fmt: skip
def test_any_state_an_engine_returns_is_a_row(state: dict[str, Any], with_state: bool) -> None:
    attrs = {"Name": "/x", "Config": {"Labels": {}}, **({"State": state} if with_state else {})}
    row = container_state(_container(attrs), NOW)
    assert row.started_at is None or row.started_at.tzinfo is not None


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "cpu_stats": st.fixed_dictionaries({}, optional={
                "cpu_usage": st.fixed_dictionaries({}, optional={
                    "total_usage": st.integers(0, 2**50),
                    "percpu_usage": st.one_of(st.none(), st.lists(st.integers(0, 9), max_size=4)),
                }),
                "system_cpu_usage": st.integers(0, 2**50),
                "online_cpus": st.one_of(st.none(), st.integers(1, 64)),
            }),
            "precpu_stats": st.one_of(st.none(), st.fixed_dictionaries({}, optional={
                "cpu_usage": st.fixed_dictionaries(
                    {}, optional={"total_usage": st.integers(0, 2**50)}),
                "system_cpu_usage": st.integers(0, 2**50),
            })),
            "memory_stats": st.one_of(st.none(), st.fixed_dictionaries({}, optional={
                "usage": st.integers(0, 2**40),
                "stats": st.one_of(st.none(), st.fixed_dictionaries({}, optional={
                    "inactive_file": st.integers(0, 2**40),
                    "total_inactive_file": st.integers(0, 2**40),
                })),
            })),
        },
    )
)  # fmt: skip
def test_any_stats_document_gives_finite_figures(stats: dict[str, Any]) -> None:
    cpu = cpu_percent(stats)  # a stopped container's stats are mostly empty: no figure
    assert cpu is None or (math.isfinite(cpu) and cpu >= 0)
    assert memory_used(stats) >= 0

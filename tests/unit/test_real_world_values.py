"""Issue 11, kinds A and B (pure parts) and the alerts verdict: values servers legitimately
return become data or a finding; numbers are sanity-checked before they become metrics;
records are strict JSON (`allow_nan=False`)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis._parsers.helpers import parse_info as _parse_info

from netzops import cache
from netzops.findings import Finding, Priority
from netzops.results import Result, finite_metrics, json_safe
from netzops.runner import ledger
from netzops.runner.records import strict_json_text, write_sidecar
from netzops.secrets import Scrubber
from netzops.targets import Target, load_target
from netzops.triage.sweep import summary


def parse_info(text: str) -> dict[str, Any]:
    """redis-py's own INFO parser: the fields as the client hands them to netzops."""
    return dict(_parse_info(text))  # type: ignore[no-untyped-call]


def _strict(text: str) -> Any:
    def refuse(token: str) -> None:
        raise ValueError(f"not strict JSON: {token}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def target() -> Target:
    return load_target("sandbox")


# --- B: non-finite numbers never reach a record ----------------------------------------------


NON_FINITE = [math.nan, math.inf, -math.inf]


@pytest.mark.parametrize("bad", NON_FINITE)
def test_non_finite_metrics_are_left_out_and_said(bad: float) -> None:
    result = Result.of("x", "X", [{"ms": bad, "ok": 1.5}], metrics={"x.ms": bad, "x.n": 2.0})
    assert result.metrics == {"x.n": 2.0}
    assert any("x.ms" in n and "not a finite number" in n for n in result.notes)
    assert result.rows == [{"ms": None, "ok": 1.5}]
    bundle = result._repr_mimebundle_()
    _strict(json.dumps(bundle["application/vnd.netzops.result+json"], allow_nan=False))


def test_directly_built_results_are_checked_too() -> None:
    result = Result("x", "X", rows=[{"v": math.nan}], metrics={"a": math.inf, "b": 1.0})
    assert result.metrics == {"b": 1.0}
    shown = result._repr_mimebundle_()["application/vnd.netzops.result+json"]
    assert shown["rows"] == [{"v": None}]


@given(
    st.dictionaries(
        st.text(max_size=5), st.one_of(st.floats(), st.integers(), st.none(), st.text()), max_size=6
    )
)
def test_finite_metrics_keeps_exactly_the_finite_numbers(metrics: dict[str, Any]) -> None:
    kept, left = finite_metrics(metrics)
    assert set(kept) | set(left) == set(metrics)
    assert all(isinstance(v, int | float) and math.isfinite(v) for v in kept.values())
    json.dumps(kept, allow_nan=False)


def test_sidecar_is_strict_json(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    write_sidecar(path, {"metrics": {"slowest": math.nan}, "rows": [{"v": -math.inf}]}, Scrubber())
    assert _strict(path.read_text()) == {"metrics": {"slowest": None}, "rows": [{"v": None}]}


def test_notebook_text_with_nan_is_rewritten_strict() -> None:
    nb = '{"cells": [{"outputs": [{"data": {"x": NaN, "y": [Infinity, -Infinity, 1]}}]}]}'
    clean = strict_json_text(nb)
    assert _strict(clean)["cells"][0]["outputs"][0]["data"] == {"x": None, "y": [None, None, 1]}
    assert strict_json_text('{"a": 1}') == '{"a": 1}'  # strict text stays byte for byte


def test_ledger_lines_are_strict_json_and_verify(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ledger.append(path, {"run_id": "r1", "metrics": {"x": math.nan}, "files": {}})
    line = path.read_text().splitlines()[0]
    assert _strict(line)["metrics"] == {"x": None}
    assert ledger.verify(path, tmp_path) == []


@given(st.recursive(st.floats() | st.text() | st.none(), lambda c: st.lists(c, max_size=3)))
def test_json_safe_is_always_strict(value: Any) -> None:
    json.dumps(json_safe({"v": value}), allow_nan=False)


# --- B: Redis counters that went backwards, zero denominators ---------------------------------


def _sample(at: float, hits: int, misses: int, commands: int, evicted: int = 0) -> Any:
    return cache.StatsSample(at, hits, misses, evicted, 0, commands, 3)


def test_counters_that_went_backwards_give_no_interval_figures(target: Target) -> None:
    before = _sample(0.0, 5_000, 500, 90_000)
    after = _sample(5.0, 12, 3, 40)  # restarted or CONFIG RESETSTAT in between
    result = cache.hit_rate(before, after, target)
    row = result.rows[0]
    assert row["counters_reset"] is True
    assert row["hits"] is None and row["ops_per_sec"] is None and row["hit_rate_percent"] is None
    assert row["cumulative_hit_rate_percent"] == 80.0  # 12 of 15 since the reset
    assert "redis.hits" not in result.metrics and "redis.ops_per_sec" not in result.metrics
    assert result.metrics["redis.counters_reset"] == 1.0
    assert any("went backwards" in n for n in result.notes)
    assert all(not isinstance(f.value, float) or f.value >= 0 for f in result.findings)


def test_no_lookups_at_all_gives_no_rate(target: Target) -> None:
    result = cache.hit_rate(_sample(0.0, 0, 0, 10), _sample(5.0, 0, 0, 20), target)
    assert result.rows[0]["hit_rate_percent"] is None
    assert result.rows[0]["cumulative_hit_rate_percent"] is None
    assert "redis.hit_rate_percent" not in result.metrics
    assert result.findings == []
    assert result.notes == ["No lookups in the 5 s interval nor since start: no rate."]


def test_a_normal_interval_still_counts(target: Target) -> None:
    result = cache.hit_rate(_sample(0.0, 100, 0, 10), _sample(2.0, 190, 10, 30), target)
    assert result.rows[0]["hit_rate_percent"] == 90.0
    assert result.metrics["redis.ops_per_sec"] == 10.0


# --- C: Redis INFO fields, oldest (5.0) and newest (7.x) forms ---------------------------------

REDIS_5_MEMORY = """# Memory\r
used_memory:853184\r
used_memory_human:833.19K\r
used_memory_rss:4669440\r
used_memory_peak:853184\r
used_memory_peak_perc:100.00%\r
maxmemory:0\r
maxmemory_human:0B\r
maxmemory_policy:noeviction\r
mem_fragmentation_ratio:5.47\r
mem_allocator:jemalloc-5.1.0\r
"""
REDIS_7_MEMORY = """# Memory\r
used_memory:1848176\r
used_memory_rss:13430784\r
used_memory_peak:2055048\r
maxmemory:67108864\r
maxmemory_policy:allkeys-lru\r
mem_fragmentation_ratio:7.42\r
mem_fragmentation_bytes:11624352\r
allocator_muzzy:0\r
"""
REDIS_5_STATS = """# Stats\r
total_connections_received:3\r
total_commands_processed:5\r
instantaneous_ops_per_sec:0\r
expired_keys:0\r
expired_stale_perc:0.00\r
evicted_keys:0\r
keyspace_hits:1\r
keyspace_misses:2\r
"""
REDIS_7_STATS = """# Stats\r
total_commands_processed:5558\r
instantaneous_ops_per_sec:1\r
expired_keys:17\r
evicted_keys:0\r
evicted_clients:0\r
keyspace_hits:2673\r
keyspace_misses:241\r
total_active_defrag_time:0\r
"""


@pytest.mark.parametrize(
    ("text", "used", "percent", "policy"),
    [
        (REDIS_5_MEMORY, 853184, None, "noeviction"),
        (REDIS_7_MEMORY, 1848176, 2.75, "allkeys-lru"),
    ],
)
def test_info_memory_oldest_and_newest(
    text: str, used: int, percent: float | None, policy: str
) -> None:
    row = cache.memory_row(parse_info(text))
    assert (row.used_memory, row.used_percent, row.maxmemory_policy) == (used, percent, policy)


@pytest.mark.parametrize(
    ("text", "hits", "misses", "commands"),
    [(REDIS_5_STATS, 1, 2, 5), (REDIS_7_STATS, 2673, 241, 5558)],
)
def test_info_stats_oldest_and_newest(text: str, hits: int, misses: int, commands: int) -> None:
    sample = cache.stats_sample(parse_info(text), 1.0)
    assert (sample.keyspace_hits, sample.keyspace_misses) == (hits, misses)
    assert sample.total_commands_processed == commands


def test_info_memory_with_odd_values() -> None:
    row = cache.memory_row(parse_info("used_memory:10\r\nmem_fragmentation_ratio:nan\r\n"))
    assert row.mem_fragmentation_ratio == 0.0 and row.maxmemory == 0 and row.used_percent is None


# --- A: any value Redis may return is data or a finding ---------------------------------------


@given(st.binary(max_size=40))
def test_any_key_bytes_show_and_round_trip(name: bytes) -> None:
    text = name.decode("utf-8", "surrogateescape")  # as connect()'s client returns it
    assert cache.raw(text) == name
    shown = cache.shown(text)
    shown.encode("utf-8")  # writable to any record
    json.dumps(shown, allow_nan=False)
    if b"\\" not in name:
        try:
            assert shown == name.decode("utf-8")
        except UnicodeDecodeError:
            assert "\\x" in shown


INFO_VALUES = st.one_of(
    st.integers(), st.floats(), st.text(max_size=8), st.none(), st.sampled_from(["nan", "-1", ""])
)


@given(
    st.dictionaries(
        st.sampled_from(
            ["used_memory", "used_memory_rss", "used_memory_peak", "maxmemory",
             "maxmemory_policy", "mem_fragmentation_ratio"]
        ),
        INFO_VALUES,
    )
)  # fmt: skip
def test_info_memory_is_a_row_or_an_error_memory_turns_into_a_finding(
    data: dict[str, Any],
) -> None:
    try:
        row = cache.memory_row(data)
    except (KeyError, TypeError, ValueError, OverflowError):
        return  # memory() reports these as a P3 "unexpected answer"
    json.dumps(Result.of("redis_memory", "m", [row]).to_json(), allow_nan=False)


def test_unreadable_answer_is_a_p3_finding() -> None:
    result = cache.unreadable("redis_memory", "Redis memory", "INFO memory", KeyError("x"))
    assert [f.priority for f in result.findings] == [Priority.P3]


# --- Also: a summary of findings never says "no findings" -------------------------------------


def test_sweep_summary_with_findings_does_not_say_no_findings() -> None:
    checked = Result.of(
        "postgres_unused_indexes",
        "Unused indexes",
        findings=[
            Finding("postgres_unused_indexes", "a", Priority.P3, "unused"),
            Finding("postgres_unused_indexes", "b", Priority.P3, "unused"),
        ],
    )
    page = summary([checked, Result.of("redis_ping", "Redis")])._repr_html_()
    assert "no findings" not in page
    assert "2 finding(s), worst P3" in page
    assert "✔ no findings" in summary([Result.of("redis_ping", "Redis")])._repr_html_()

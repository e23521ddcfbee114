"""Issue 11, kind B: counters that went backwards (a container restarted between the two
samples of `docker stats`, Redis restarted or CONFIG RESETSTAT, pg_stat_reset) and zero
denominators give no figure and say why — never 0 %, never a negative rate.

The Engine API documents are shaped as Docker 20.10 (API 1.41, cgroup v1: percpu_usage,
total_inactive_file) and Docker 25+ (API 1.44+, cgroup v2: no percpu_usage) return them."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from netzops.containers import status
from netzops.containers.status import CPU_NO_SAMPLE, CPU_RESET, CPU_STOPPED, cpu_reading
from netzops.postgres.transactions import Rollbacks

#: `GET /containers/netzwaechter-redis/stats?stream=false` on Docker 20.10.24 (API 1.41),
#: trimmed to the fields the formulas read (values as the engine returned them).
V1_41: dict[str, Any] = {
    "read": "2026-11-30T15:07:11.34494517Z",
    "preread": "2026-11-30T15:07:10.331234018Z",
    "pids_stats": {"current": 5},
    "cpu_stats": {
        "cpu_usage": {
            "total_usage": 4146645199,
            "percpu_usage": [2158863481, 1987781718],
            "usage_in_kernelmode": 1490000000,
            "usage_in_usermode": 2650000000,
        },
        "system_cpu_usage": 23314600000000,
        "online_cpus": 2,
        "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
    },
    "precpu_stats": {
        "cpu_usage": {
            "total_usage": 4126284362,
            "percpu_usage": [2146545059, 1979739303],
            "usage_in_kernelmode": 1470000000,
            "usage_in_usermode": 2640000000,
        },
        "system_cpu_usage": 23312550000000,
        "online_cpus": 2,
        "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
    },
    "memory_stats": {
        "usage": 4632576,
        "stats": {"inactive_file": 290816, "total_inactive_file": 290816},
        "limit": 25276510208,
    },
    "networks": {"eth0": {"rx_bytes": 315795, "tx_bytes": 280135}},
}

#: The same container on a cgroup v2 engine of API 1.44+: no percpu_usage, usage in µs
#: fields beside total_usage, memory stats without the total_* keys.
V1_44: dict[str, Any] = {
    "read": "2026-11-30T15:07:11.34494517Z",
    "preread": "2026-11-30T15:07:10.331234018Z",
    "cpu_stats": {
        "cpu_usage": {
            "total_usage": 4146645000,
            "usage_in_kernelmode": 1490000000,
            "usage_in_usermode": 2656645000,
        },
        "system_cpu_usage": 23314600000000,
        "online_cpus": 2,
        "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
    },
    "precpu_stats": {
        "cpu_usage": {
            "total_usage": 4126284000,
            "usage_in_kernelmode": 1470000000,
            "usage_in_usermode": 2656284000,
        },
        "system_cpu_usage": 23312550000000,
        "online_cpus": 2,
        "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
    },
    "memory_stats": {"usage": 4632576, "stats": {"inactive_file": 290816}, "limit": 25276510208},
}


def _restarted(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` as the engine returns it when the container restarted between the `preread`
    sample and the `read` one: precpu is the old process's, cpu_stats the new one's."""
    after = copy.deepcopy(doc)
    usage = after["cpu_stats"]["cpu_usage"]
    usage["total_usage"] = 35_000_000  # 35 ms of CPU since the new start
    if "percpu_usage" in usage:
        usage["percpu_usage"] = [20_000_000, 15_000_000]
    return after


def _first_sample(doc: dict[str, Any]) -> dict[str, Any]:
    """The first sample of a stream (and of a container just started): precpu is empty."""
    first = copy.deepcopy(doc)
    first["precpu_stats"] = {
        "cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
        "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
    }
    return first


def _stopped(doc: dict[str, Any]) -> dict[str, Any]:
    """A container that stopped between listing and sampling: no CPU counters at all."""
    gone = copy.deepcopy(doc)
    gone["cpu_stats"] = {"cpu_usage": {"total_usage": 0}, "throttling_data": {}}
    gone["precpu_stats"] = {"cpu_usage": {"total_usage": 0}, "throttling_data": {}}
    return gone


@pytest.mark.parametrize("doc", [V1_41, V1_44], ids=["api-1.41-cgroup-v1", "api-1.44-cgroup-v2"])
def test_cpu_percent_of_real_documents(doc: dict[str, Any]) -> None:
    cpu, why = cpu_reading(doc)
    # (4146645199 − 4126284362) / (23314600000000 − 23312550000000) × 2 × 100 ≈ 1.99 %
    assert cpu == pytest.approx(20_360_837 / 2_050_000_000 * 2 * 100, rel=1e-3)
    assert why == ""


@pytest.mark.parametrize("doc", [V1_41, V1_44], ids=["api-1.41-cgroup-v1", "api-1.44-cgroup-v2"])
def test_restart_between_samples_is_unknown_reset_not_zero(doc: dict[str, Any]) -> None:
    cpu, why = cpu_reading(_restarted(doc))
    assert cpu is None and why == CPU_RESET
    assert why.startswith("unknown/reset")


@pytest.mark.parametrize("doc", [V1_41, V1_44], ids=["api-1.41-cgroup-v1", "api-1.44-cgroup-v2"])
def test_first_sample_and_stopped_container_have_no_figure(doc: dict[str, Any]) -> None:
    assert cpu_reading(_first_sample(doc)) == (None, CPU_NO_SAMPLE)
    assert cpu_reading(_stopped(doc)) == (None, CPU_STOPPED)


@pytest.mark.parametrize(
    "odd",
    [float("nan"), float("inf"), -1, "4146645199", None, True],
)
def test_odd_counter_values_give_no_figure(odd: Any) -> None:
    doc = copy.deepcopy(V1_41)
    doc["cpu_stats"]["cpu_usage"]["total_usage"] = odd
    cpu, why = cpu_reading(doc)
    assert cpu is None and why.startswith("unknown")


class _Container:
    """The two attributes and the one call of docker-py's Container that container_stats
    reads, answering with a recorded Engine API document."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.name = "netzwaechter_backend_2"
        self.labels = {status.SERVICE: "backend"}
        self._doc = doc

    def stats(self, stream: bool) -> dict[str, Any]:
        assert stream is False
        return self._doc


def test_container_row_says_unknown_reset_and_keeps_the_other_figures() -> None:
    row = status.container_stats(_Container(_restarted(V1_41)))
    assert row.cpu_percent is None and row.cpu_note == CPU_RESET
    assert row.memory_bytes == 4632576 - 290816 and row.net_rx_bytes == 315795
    json.dumps(row.__dict__, allow_nan=False)  # strict JSON as it reaches the side-car


def test_rollback_ratio_without_transactions_since_the_reset_is_no_ratio() -> None:
    reset = Rollbacks("netzwaechter", commits=0, rollbacks=0, stats_reset=None)
    assert reset.percent is None  # pg_stat_reset() zeroes both: no ratio, not 0 %
    assert Rollbacks("netzwaechter", 999, 1, None).percent == 0.1


def test_redis_restart_is_a_reset_even_when_counters_grew_past_the_old_ones() -> None:
    """A new run_id (INFO server) between the samples: the counters started again at zero
    and may already exceed the old ones, so a difference would be a made-up figure."""
    from netzops import cache
    from netzops.targets import load_target

    before = cache.StatsSample(0.0, 100, 10, 0, 0, 1_000, 5, run_id="a" * 40)
    after = cache.StatsSample(600.0, 5_000, 90, 0, 0, 40_000, 7, run_id="b" * 40)
    row = cache.hit_rate(before, after, load_target("sandbox")).rows[0]
    assert row["counters_reset"] is True and row["hits"] is None and row["ops_per_sec"] is None


@pytest.mark.parametrize(
    ("now", "applies"),
    [
        ({"keyspace_hits": 900}, True),  # every counter grew: same counting period
        ({"keyspace_hits": 900, "total_connections_received": 3}, False),  # reset, hits back
        ({"keyspace_hits": 40}, False),  # fewer hits than netzops alone caused
        ({"keyspace_misses": 1}, False),  # fewer misses than recorded
        ({"total_net_input_bytes": "odd"}, False),  # unreadable counts as 0: went backwards
    ],
)
def test_the_observer_journal_applies_only_within_one_counting_period(
    now: dict[str, Any], applies: bool
) -> None:
    from netzops.cache import observer

    recorded = dict.fromkeys(observer.MARK, 500) | {"keyspace_misses": 20, "canary": 3}
    entry = {"run_id": "a" * 40, "hits": 50, "misses": 2, "mark": recorded}
    stats = dict.fromkeys(observer.MARK, 1_000) | {"keyspace_misses": 30} | now
    assert observer._valid(entry, "a" * 40, observer.mark(stats, 3)) is applies
    # every counter climbed back past the mark, but the canary's calls started again at 0
    assert observer._valid(entry, "a" * 40, observer.mark(stats, 0)) is False
    assert observer._valid(entry, "b" * 40, observer.mark(stats, 3)) is False  # restarted
    legacy = {"run_id": "a" * 40, "hits": 50, "misses": 2, "keyspace_hits": 10}
    assert observer._valid(legacy, "a" * 40, observer.mark(stats, 3)) is False

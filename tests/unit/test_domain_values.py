"""Issue 11, kind A for PostgreSQL and HTTP (pure parts): rows with NULLs, empty text, huge
or zero numbers — as a server may return them — become rows and findings that serialise as
strict JSON, never an exception."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from netzops.endpoints import ResponseTimes, _sample_findings, _sample_metrics
from netzops.findings import thresholds
from netzops.postgres.maintenance import XidAge, _xid_finding
from netzops.postgres.statements import Statement, _judge
from netzops.results import Result

FLOATS = st.floats(min_value=0, max_value=1e12, allow_nan=False)


@given(
    st.builds(
        Statement,
        queryid=st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
        query=st.one_of(st.just("<insufficient privilege>"), st.just(""), st.text(max_size=50)),
        calls=st.integers(0, 2**62),
        total_ms=FLOATS,
        mean_ms=FLOATS,
        rows=st.integers(0, 2**62),
        hit_percent=st.one_of(st.none(), st.floats(0, 100)),
    ),
    st.floats(0.1, 1e4),
    st.integers(1, 1000),
)
def test_any_pg_stat_statements_row_is_data(s: Statement, slow: float, calls: int) -> None:
    found = _judge(s, slow, calls, 200.0)
    result = Result.of("postgres_slow_queries", "q", [s], [found] if found else [])
    json.dumps(result.to_json(), allow_nan=False)


@given(
    st.builds(
        XidAge,
        database=st.text(max_size=20),
        xid_age=st.integers(0, 2**31),
        transactions_left=st.integers(-(2**31), 2**31),
        percent_used=st.floats(0, 200, allow_nan=False),
        freeze_max_age=st.integers(0, 2**31),
        is_current=st.booleans(),
    )
)
def test_any_xid_age_row_is_data(x: XidAge) -> None:
    found = _xid_finding(x, 3_000_000, 40_000_000, 50.0)
    json.dumps(Result.of("x", "x", [x], [found] if found else []).to_json(), allow_nan=False)


@given(
    st.integers(1, 10_000).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.integers(0, n),
            st.one_of(st.none(), FLOATS),
        )
    )
)
def test_any_sample_of_response_times_is_data(sample: tuple[int, int, float | None]) -> None:
    requests, errors, p = sample
    row = ResponseTimes("api", "http://x/", requests, errors, p, p, p, p, "" if p else "timeout")
    found = _sample_findings(row, thresholds())
    metrics = _sample_metrics(row)
    json.dumps(Result.of("http_sample", "s", [row], found, metrics).to_json(), allow_nan=False)
    assert 0 <= metrics["http.api.error_rate_percent"] <= 100

"""Issue 16: "VACUUM due" and vacuum/analyze staleness against what psql shows, in a scratch
database of their own. A whole-database pg_stat_reset() zeroes every counter of its database
(alerts' deliberate dead tuples, index and sequential scans, vacuum times, the stats_reset
time) that later tests in the session read, so it must not run in netzwaechter."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from netzops import postgres
from netzops.findings import Priority
from netzops.results import Result
from netzops.targets import Target
from tests.conftest import psql, wait_for

SCRATCH = "zz16_vacuum"


def in_scratch(*statements: str) -> str:
    return psql(*statements, dbname=SCRATCH)


def counters(table: str) -> tuple[int, int, int]:
    """(n_dead_tup, n_live_tup, n_mod_since_analyze) as psql reads them."""
    query = "SELECT n_dead_tup, n_live_tup, n_mod_since_analyze FROM pg_stat_user_tables"
    dead, live, mod = in_scratch(f"{query} WHERE relname = '{table}'").split("|")
    return int(dead), int(live), int(mod)


def row_of(result: Result, table: str) -> dict[str, object]:
    rows = [r for r in result.rows if r["table_name"] == table]
    assert rows, f"no row for {table}: {result.findings}"
    return rows[0]


@pytest.fixture(scope="module")
def scratch(target: Target) -> Iterator[postgres.Database]:
    psql(f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)", f"CREATE DATABASE {SCRATCH}")
    settings = {**target.postgres.model_dump(), "dbname": SCRATCH}
    db = postgres.connect(Target(**{**target.model_dump(), "postgres": settings}))
    try:
        yield db
    finally:
        db.close()
        psql(f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)")


def test_threshold_from_the_tables_reloptions(scratch: postgres.Database) -> None:
    in_scratch(
        "CREATE TABLE tuned (id int, payload text) WITH (autovacuum_enabled = off)",
        "INSERT INTO tuned SELECT g, md5(g::text) FROM generate_series(1, 10000) g",
        "VACUUM ANALYZE tuned",
        "ALTER TABLE tuned SET (autovacuum_vacuum_threshold = 100, "
        "autovacuum_vacuum_scale_factor = 0.01)",
        "UPDATE tuned SET payload = payload WHERE id <= 300",
    )
    wait_for(lambda: counters("tuned")[0] >= 300, 20, "300 dead tuples counted")
    expected = float(
        in_scratch("SELECT 100 + 0.01 * reltuples FROM pg_class WHERE relname = 'tuned'")
    )
    result = postgres.dead_tuples(scratch)
    assert row_of(result, "tuned")["vacuum_threshold"] == pytest.approx(expected, abs=0.01)
    # 300 dead > 100 + 0.01 × 10 000; the server's 50 + 0.2 × 10 000 would say not yet
    due = [f for f in result.findings if f.subject == "public.tuned"]
    assert [(f.priority, f.value, f.threshold) for f in due] == [
        (Priority.P3, 300, round(expected))
    ]


def test_no_false_vacuum_due_after_pg_stat_reset(scratch: postgres.Database) -> None:
    in_scratch(
        "CREATE TABLE big (id int, payload text) WITH (autovacuum_enabled = off)",
        "INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 250988) g",
        "VACUUM ANALYZE big",
    )
    in_scratch("SELECT pg_stat_reset()")  # its own session: the INSERT's counters are in
    in_scratch("UPDATE big SET payload = payload WHERE id <= 300")
    dead, live, _ = wait_for(
        lambda: c if (c := counters("big"))[0] >= 300 else None, 20, "300 dead tuples counted"
    )
    assert live < 1000 and 50 + 0.2 * live < dead  # the old formula's false "VACUUM due"
    expected = float(
        in_scratch(
            "SELECT current_setting('autovacuum_vacuum_threshold')::float8 + "
            "current_setting('autovacuum_vacuum_scale_factor')::float8 * reltuples "
            "FROM pg_class WHERE relname = 'big'"
        )
    )
    assert expected > 50_000  # reltuples survived the reset
    result = postgres.dead_tuples(scratch)
    row = row_of(result, "big")
    assert (row["n_dead_tup"], row["n_live_tup"]) == (dead, live)
    assert row["vacuum_threshold"] == pytest.approx(expected, abs=0.01)
    assert not [f for f in result.findings if f.subject == "public.big"]


AGES = (
    "SELECT extract(epoch FROM now() - greatest(last_vacuum, last_autovacuum)), "
    "extract(epoch FROM now() - greatest(last_analyze, last_autoanalyze)) "
    "FROM pg_stat_user_tables WHERE relname = 'aged'"
)


def ages() -> tuple[float, float]:
    """Seconds since the last (auto)vacuum and (auto)analyze of `aged`, as psql shows them."""
    vacuum, analyze = in_scratch(AGES).split("|")
    return float(vacuum), float(analyze)


def test_vacuum_and_analyze_age_against_their_thresholds(scratch: postgres.Database) -> None:
    in_scratch(
        "CREATE TABLE aged (id int) WITH (autovacuum_enabled = off)",
        "INSERT INTO aged SELECT generate_series(1, 200)",
        "VACUUM ANALYZE aged",
        "DELETE FROM aged WHERE id <= 100",  # work waiting for both: 100 dead, 100 changed
    )
    wait_for(lambda: min(counters("aged")[::2]) >= 100, 20, "100 dead and changed rows")
    before = wait_for(lambda: a if min(a := ages()) >= 1 else None, 20, "ages of a second")
    below = postgres.maintenance_staleness(
        scratch,
        max_vacuum_age=timedelta(seconds=before[0] / 2),
        max_analyze_age=timedelta(seconds=before[1] / 2),
    )
    after = ages()
    fired = {f.check: f for f in below.findings if f.subject == "public.aged"}
    for i, what in enumerate(("vacuum", "analyze")):
        finding = fired[f"postgres_{what}_staleness"]
        assert finding.priority == Priority.P3
        assert before[i] - 1 <= float(str(finding.value)) <= after[i] + 1  # whole seconds
    above = postgres.maintenance_staleness(
        scratch,
        max_vacuum_age=timedelta(seconds=after[0] + 60),
        max_analyze_age=timedelta(seconds=after[1] + 60),
    )
    assert not [f for f in above.findings if f.subject == "public.aged"]

"""The performance notebook's record against the statistics views psql reads: the unused
index measurements_response_ms_idx and the duplicate measurements_site_id_idx that the
sandbox ships, every index, dead tuples per table and the transaction-ID age."""

from __future__ import annotations

import pytest

from tests.notebooks.helpers import Record, psql, psql_rows, run

UNUSED = "measurements_response_ms_idx"
DUPLICATE = "measurements_site_id_idx"
DEAD = "SELECT relname, n_dead_tup FROM pg_stat_user_tables WHERE schemaname = 'public'"


@pytest.fixture(scope="module")
def perf() -> tuple[Record, dict[str, int], dict[str, int]]:
    before = {t: int(n) for t, n in psql_rows(DEAD)}
    record = run("performance", "cache_interval_s=1")
    return record, before, {t: int(n) for t, n in psql_rows(DEAD)}


def test_unused_index_found_as_psql_counts_its_scans(
    perf: tuple[Record, dict[str, int], dict[str, int]],
) -> None:
    record = perf[0]
    assert record.side["error"] is None
    scans, size = psql_rows(
        "SELECT idx_scan, pg_relation_size(indexrelid) FROM "
        f"pg_stat_user_indexes WHERE indexrelname = '{UNUSED}'"
    )[0]
    assert int(scans) < 50  # unused_max_scans default
    row = next(
        r for r in record.result("postgres_unused_indexes")["rows"] if r["index_name"] == UNUSED
    )
    assert (row["idx_scan"], row["size_bytes"]) == (int(scans), int(size))
    finding = next(
        f for f in record.findings("postgres_unused_indexes") if f["subject"] == f"public.{UNUSED}"
    )
    assert finding["priority"] == "P3" and finding["value"] == int(scans)


def test_duplicate_index_found_with_its_definitions(
    perf: tuple[Record, dict[str, int], dict[str, int]],
) -> None:
    record = perf[0]
    row = next(
        r
        for r in record.result("postgres_duplicate_indexes")["rows"]
        if r["index_name"] == DUPLICATE
    )
    assert row["index_definition"] == psql(
        f"SELECT pg_get_indexdef('public.{DUPLICATE}'::regclass)"
    )
    assert row["covering_definition"] == psql(
        f"SELECT pg_get_indexdef('public.{row['covered_by']}'::regclass)"
    )
    assert row["covering_definition"].endswith("(site_id, measured_at DESC)")
    assert any(
        f["subject"] == f"public.{DUPLICATE}" for f in record.findings("postgres_duplicate_indexes")
    )


def test_index_usage_lists_every_index(perf: tuple[Record, dict[str, int], dict[str, int]]) -> None:
    record = perf[0]
    names = {r["index_name"] for r in record.result("postgres_index_usage")["rows"]}
    assert names == set(psql("SELECT indexrelname FROM pg_stat_user_indexes").split())
    assert record.metric("postgres.indexes.count") == len(names)


def test_dead_tuples_match_psql(perf: tuple[Record, dict[str, int], dict[str, int]]) -> None:
    record, before, after = perf
    for table in before.keys() | after.keys():
        value = record.metric(f"postgres.dead_tuples.public.{table}")
        assert min(before[table], after[table]) <= value <= max(before[table], after[table])


def test_transaction_id_age_matches_psql(
    perf: tuple[Record, dict[str, int], dict[str, int]],
) -> None:
    age = int(psql("SELECT age(datfrozenxid) FROM pg_database WHERE datname = current_database()"))
    assert 0 <= age - perf[0].metric("postgres.xid_age") <= 1000  # xids move on meanwhile


def test_issue16_checks_in_the_side_car(
    perf: tuple[Record, dict[str, int], dict[str, int]],
) -> None:
    record = perf[0]
    for check, metric in {
        "postgres_maintenance_staleness": "postgres.tables_never_vacuumed",
        "postgres_freeze_age": "postgres.freeze_age_max_percent",
        "postgres_rollback_ratio": "postgres.rollback_percent.netzwaechter",
    }.items():
        assert record.result(check) and metric in record.side["metrics"], check
    tables = {r["table_name"] for r in record.result("postgres_maintenance_staleness")["rows"]}
    assert tables == set(psql("SELECT relname FROM pg_stat_user_tables").split())

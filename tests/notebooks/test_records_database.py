"""The database notebook's record against psql (size ±1 MiB, client connections ±2), and
its guarded VACUUM of alerts: the dry run changes nothing, the confirmed run vacuums (psql
sees last_vacuum move on and no dead tuples). Afterwards the alerts table gets its dead
tuples back (autovacuum is off there), as other tests rely on them."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from tests.notebooks.helpers import Guarded, confirmation, psql, psql_rows, run, within

MiB = 1024 * 1024
VACUUM_STATE = (
    "SELECT coalesce(last_vacuum::text, ''), n_dead_tup FROM pg_stat_user_tables "
    "WHERE relid = 'public.alerts'::regclass"
)
CLIENTS = (
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
)


def restore_dead_tuples() -> int:
    """Dead tuples in alerts again (as the sandbox seeds them); their count once psql sees
    them in the statistics."""
    psql("UPDATE alerts SET resolved_at = resolved_at WHERE id % 4 = 0")
    deadline = time.monotonic() + 10
    while (dead := int(psql_rows(VACUUM_STATE)[0][1])) == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
    return dead


@pytest.fixture(scope="module")
def vacuumed() -> Guarded:
    seen = {"before": psql_rows(VACUUM_STATE)[0], "clients_before": int(psql(CLIENTS))}
    try:
        dry = run("database", "vacuum_table=alerts")
        seen |= {
            "after_dry": psql_rows(VACUUM_STATE)[0],
            "clients_after": int(psql(CLIENTS)),
            "size": int(psql("SELECT pg_database_size(current_database())")),
        }
        done = run("database", "vacuum_table=alerts", f"confirm={confirmation(dry.action)}")
        seen["after_done"] = psql_rows(VACUUM_STATE)[0]
    finally:
        seen["restored_dead"] = restore_dead_tuples()
    return Guarded(dry, done, seen)


def test_size_and_connections_match_psql(vacuumed: Guarded) -> None:
    record, seen = vacuumed.dry, vacuumed.seen
    assert record.side["error"] is None
    assert within(record.metric("postgres.database_size_bytes"), seen["size"], MiB)
    clients = record.metric("postgres.connections.total")
    assert (
        min(seen["clients_before"], seen["clients_after"]) - 2
        <= clients
        <= max(seen["clients_before"], seen["clients_after"]) + 2
    )


def test_table_sizes_match_psql(vacuumed: Guarded) -> None:
    rows = {r["table_name"]: r for r in vacuumed.dry.result("postgres_table_sizes")["rows"]}
    expected = dict(
        psql_rows(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
            "WHERE relkind IN ('r', 'p') AND relnamespace = "
            "'public'::regnamespace"
        )
    )
    assert set(rows) == set(expected)
    for name, size in expected.items():
        assert within(rows[name]["total_bytes"], int(size), MiB), name
    assert vacuumed.dry.metric("postgres.tables.count") == len(expected)


def test_vacuum_dry_run_changes_nothing(vacuumed: Guarded) -> None:
    action = vacuumed.dry.action
    assert action["action"] == "vacuum" and action["subject"] == "public.alerts"
    assert action["dry_run"] is True and action["outcome"] == "dry run: nothing changed"
    assert any("VACUUM" in s and "alerts" in s for s in action["steps"])
    assert vacuumed.seen["after_dry"][0] == vacuumed.seen["before"][0]  # last_vacuum


def test_confirmed_vacuum_runs_and_is_verified(vacuumed: Guarded) -> None:
    done, seen = vacuumed.done, vacuumed.seen
    assert done.side["error"] is None, done.side["error"]
    action = done.action
    assert action["dry_run"] is False and action["verified"] is True
    assert action["fingerprint"] == vacuumed.dry.action["fingerprint"]
    last_vacuum, dead = seen["after_done"]
    assert last_vacuum and last_vacuum != seen["before"][0]
    assert int(dead) == 0
    # the audit's after-state is what psql reads
    after = action["after"]["public.alerts"]
    assert datetime.fromisoformat(after["last_vacuum"]) == datetime.fromisoformat(
        last_vacuum.replace(" ", "T")
    )


def test_alerts_dead_tuples_restored(vacuumed: Guarded) -> None:
    assert vacuumed.seen["restored_dead"] > 0


# issue 16's checks of the database section, each with a metric it alone writes
DBA_CHECKS = {
    "postgres_oldest_transaction": "postgres.open_transactions",
    "postgres_prepared_transactions": "postgres.prepared_transactions",
    "postgres_waiting_locks": "postgres.waiting_locks",
    "postgres_connection_capacity": "postgres.connections.max",
    "postgres_sequence_danger": "postgres.sequences.max_used_percent",
    "postgres_wal_archiving": "postgres.archiver.failed",
    "postgres_checkpoint_age": "postgres.checkpoint_age_seconds",
    "postgres_replication_slots": "postgres.replication_slots",
}


def test_issue16_checks_in_the_side_car(vacuumed: Guarded) -> None:
    record = vacuumed.dry
    for check, metric in DBA_CHECKS.items():
        assert record.result(check) and metric in record.side["metrics"], check
    assert record.metric("postgres.connections.max") == int(psql("SHOW max_connections"))
    assert record.metric("postgres.prepared_transactions") == int(
        psql("SELECT count(*) FROM pg_prepared_xacts")
    )
    assert record.metric("postgres.replication_slots") == int(
        psql("SELECT count(*) FROM pg_replication_slots")
    )

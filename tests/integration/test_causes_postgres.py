"""The issue-16 PostgreSQL dangers, made real on the sandbox (as tests/integration/
test_postgres_dba.py makes them), named as causes by the alerts notebook: a sequence near
its limit, an inactive replication slot and a prepared transaction left open each come
back as their own cause with the runbook procedure for it, and psql confirms each one. The
prepared transaction's lock also makes netzops's own size queries wait past lock_timeout:
that is its consequence, never "PostgreSQL hangs".

Run under the sandbox lock: `flock /tmp/netzops-sandbox.lock .venv/bin/pytest -q
tests/integration/test_causes_postgres.py`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import psql, wait_for
from tests.notebooks.helpers import Record, run

SEQUENCE = "public.zz12_seq_id_seq"
SLOT = "zz12_slot"
GID = "netzops-test-12"


@pytest.fixture
def dangers() -> Iterator[None]:
    """A sequence at 96 % of its range, an inactive slot, a prepared transaction."""
    psql("DROP TABLE IF EXISTS zz12_seq, zz12_locked")
    psql("CREATE TABLE zz12_seq (id serial PRIMARY KEY)")
    psql("GRANT SELECT ON SEQUENCE zz12_seq_id_seq TO netzops_monitor")
    psql("SELECT setval('zz12_seq_id_seq', (2147483647 * 0.96)::bigint)")
    psql(f"SELECT pg_create_physical_replication_slot('{SLOT}', true)")
    psql("CREATE TABLE zz12_locked (id int)")
    psql(f"BEGIN; LOCK TABLE zz12_locked IN ACCESS EXCLUSIVE MODE; PREPARE TRANSACTION '{GID}'")
    # the check's threshold is an age of 1 s (check_postgres `prepared_txns`): a run that
    # starts sooner rightly finds nothing yet, so wait for the server to say it is older
    older = (
        f"SELECT now() - prepared >= interval '1.5 s' FROM pg_prepared_xacts WHERE gid = '{GID}'"
    )
    try:
        wait_for(lambda: psql(older) == "t", 10, "the prepared transaction 1.5 s old")
        yield
    finally:
        psql(f"ROLLBACK PREPARED '{GID}'")
        psql(f"SELECT pg_drop_replication_slot('{SLOT}')")
        psql("DROP TABLE IF EXISTS zz12_seq, zz12_locked")


def cause(rows: list[dict[str, Any]], rule: str, subject: str) -> dict[str, Any]:
    found = [r for r in rows if r["rule"] == rule and r["subject"] == subject]
    assert len(found) == 1, [(r["rule"], r["subject"]) for r in rows]
    return found[0]


def test_alerts_name_each_postgres_danger_with_its_procedure(dangers: None) -> None:
    # what psql says first
    assert psql("SELECT last_value FROM zz12_seq_id_seq") == str(int(2147483647 * 0.96))
    assert psql(f"SELECT active FROM pg_replication_slots WHERE slot_name = '{SLOT}'") == "f"
    assert psql(f"SELECT count(*) FROM pg_prepared_xacts WHERE gid = '{GID}'") == "1"
    record: Record = run("alerts")
    assert record.side["error"] is None
    rows = record.all_rows("causes")

    seq = cause(rows, "sequence_exhaustion", SEQUENCE)
    assert (seq["priority"], seq["procedure"]) == ("P1", "Sequence Near Exhaustion")
    assert seq["escalate"] == ["L1"] and "bigint" in seq["next_step"]
    assert any("96 % of the range used" in e for e in seq["evidence"])

    slot = cause(rows, "replication_slot_retains", SLOT)
    assert slot["procedure"] == "WAL Piling Up (archiving or replication slot)"
    assert slot["priority"] in ("P1", "P2") and SLOT in slot["next_step"]

    prepared = cause(rows, "prepared_transaction", GID)
    assert (prepared["priority"], prepared["procedure"]) == ("P2", "Long-Open Transaction")
    assert f"ROLLBACK PREPARED '{GID}'" in prepared["next_step"]
    # its lock makes netzops's own size queries wait past lock_timeout: an answer of a
    # server that works, a consequence of the transaction, never "PostgreSQL hangs"
    assert not {r["rule"] for r in rows} & {"postgres_hangs", "postgres_down"}, rows[:2]
    waited = [f for f in record.findings() if "lock timeout" in f["summary"]]
    for f in waited:
        text = f"[{f['priority']}] {f['check']} {f['subject']}: {f['summary']}"
        assert text in prepared["consequences"], (text, prepared["consequences"])

    # the alert responses follow the causes: each finding gets its cause's procedure
    responses = record.result("alert_responses")["rows"]
    mine = {
        r["subject"]: r["procedure"] for r in responses if r["subject"] in (SEQUENCE, SLOT, GID)
    }
    assert mine == {
        SEQUENCE: "Sequence Near Exhaustion",
        SLOT: "WAL Piling Up (archiving or replication slot)",
        GID: "Long-Open Transaction",
    }

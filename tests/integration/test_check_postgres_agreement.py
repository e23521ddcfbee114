"""Issue 16: netzops and check_postgres (Debian's check-postgres, installed by
scripts/bootstrap.sh) on the same sandbox in the same minute, as the same monitoring role.
Each figure agrees within the tolerance stated next to it; deliberate differences of
definition are documented in docs/check-postgres-agreement.md."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator

import pytest

from netzops import postgres
from netzops.targets import Target
from tests.conftest import psql


def check_postgres(target: Target, action: str, *args: str) -> dict[str, float]:
    """The perfdata of one check_postgres action: label → number (units stripped)."""
    program = shutil.which("check_postgres") or shutil.which("check_postgres.pl")
    assert program, "check_postgres is missing: run scripts/bootstrap.sh"
    pg = target.postgres
    env = {**os.environ, "PGPASSWORD": target.secret(pg.monitor_password_secret or "")}
    done = sh_env(
        [
            program,
            f"--action={action}",
            f"--host={pg.host}",
            f"--port={pg.port}",
            f"--dbuser={pg.monitor_user}",
            f"--dbname={pg.dbname}",
            *args,
        ],
        env,
    )
    assert "|" in done, done
    perf = done.split("|", 1)[1]
    values = {}
    for label, number in re.findall(r"(\S+?)=(-?[\d.]+)", perf):
        values[label] = float(number)
    return values


def sh_env(args: list[str], env: dict[str, str]) -> str:
    import subprocess

    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode in (0, 1, 2), done.stderr  # OK, WARNING, CRITICAL: all answer
    return done.stdout


@pytest.fixture
def db(target: Target) -> Iterator[postgres.Database]:
    database = postgres.connect(target)
    yield database
    database.close()


def test_database_size(db: postgres.Database, target: Target) -> None:
    theirs = check_postgres(target, "database_size", "-w", "100G", "-c", "200G")
    ours = postgres.database_size(db)
    size = ours.rows[0]["size_bytes"]
    assert abs(size - theirs["netzwaechter"]) <= 1_048_576  # 1 MB: writes between the two


def test_table_sizes(db: postgres.Database, target: Target) -> None:
    theirs = check_postgres(target, "table_size", "-w", "100G", "-c", "200G")
    ours = {f"{r['schema']}.{r['table_name']}": r for r in postgres.table_sizes(db).rows}
    for name in ("public.users", "public.sites", "public.measurements", "public.alerts"):
        # check_postgres's table_size is pg_table_size (heap + TOAST + FSM/VM): same as ours
        assert abs(ours[name]["table_bytes"] - theirs[name]) <= 65536  # 8 pages of growth


def test_connections(db: postgres.Database, target: Target) -> None:
    theirs = check_postgres(target, "backends")
    ours = postgres.connections(db).metrics["postgres.connections.total"]
    # check_postgres counts every client backend in this database including its own
    # session; netzops counts client backends cluster-wide without its own session.
    # Tolerance 2: its session, and the backend pool may open one between the two.
    assert abs(ours - (theirs["netzwaechter"] - 1)) <= 2


def test_long_running_queries(db: postgres.Database, target: Target) -> None:
    theirs = check_postgres(target, "query_time", "-w", "5m")
    ours = postgres.long_running_queries(db).metrics["postgres.long_running_queries.max_seconds"]
    # both: the longest running query; netzops lists only those past 5 min (0 otherwise)
    assert (theirs["query_time"] < 300 and ours == 0.0) or abs(ours - theirs["query_time"]) <= 2


def test_transaction_id_age(db: postgres.Database, target: Target) -> None:
    theirs = check_postgres(target, "txn_wraparound")
    ours = postgres.transaction_id_danger(db).metrics["postgres.xid_age"]
    assert abs(ours - theirs["netzwaechter"]) <= 50  # XIDs assigned between the two calls


def test_last_vacuum_and_analyze(db: postgres.Database, target: Target) -> None:
    # at least one table with a known time, whatever reset the statistics before
    psql("VACUUM ANALYZE sites")
    ours = {f"{r['schema']}.{r['table_name']}": r for r in postgres.maintenance_staleness(db).rows}
    for action, field in (("last_vacuum", "last_vacuum"), ("last_analyze", "last_analyze")):
        theirs = check_postgres(target, action, "-w", "30d", "-c", "60d")
        checked = 0
        for label, seconds in theirs.items():
            name = label.removeprefix("netzwaechter.")
            if name in ours and ours[name][field]:
                from datetime import datetime

                at = datetime.fromisoformat(ours[name][field])
                age = (datetime.now(at.tzinfo) - at).total_seconds()
                assert abs(age - seconds) <= 5, (action, name)  # a few seconds apart
                checked += 1
        assert checked >= 1, (action, theirs)


def test_hit_ratio(db: postgres.Database, target: Target) -> None:
    theirs = check_postgres(target, "hitratio", "-w", "1%", "-c", "0%")
    ours = postgres.cache_hit_rate(db).metrics["postgres.cache_hit_rate"]
    assert abs(ours - theirs["netzwaechter"]) <= 0.05  # percent points; both round to 2


def test_sequences(db: postgres.Database, target: Target) -> None:
    theirs = check_postgres(target, "sequence")
    ours = postgres.sequence_danger(db).metrics
    for name in ("public.users_id_seq", "public.sites_id_seq", "public.alerts_id_seq"):
        # check_postgres rounds to whole percent; the monitoring role can read the values
        # (sandbox/postgres/grants.sql), so neither reports a silent 0 %
        assert abs(ours[f"postgres.sequences.{name}.used_percent"] - theirs[name]) <= 1.0

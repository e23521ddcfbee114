"""The users notebook's record against `psql … SELECT … FROM users`, and its guarded
set_active: a dry run changes nothing, the dry run's confirmation disables viewer7 (psql
sees it), and viewer7 is enabled again afterwards."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.notebooks.helpers import Guarded, Record, confirmation, psql, psql_rows, run

USER = "viewer7"
IS_ACTIVE = f"SELECT is_active FROM users WHERE username = '{USER}'"


@pytest.fixture(scope="module")
def listing() -> Record:
    return run("users")


@pytest.fixture(scope="module")
def disabled() -> Guarded:
    seen = {"before": psql(IS_ACTIVE)}
    assert seen["before"] == "t", f"{USER} must start enabled"
    try:
        dry = run("users", f"username={USER}", "set_active=false")
        seen["after_dry"] = psql(IS_ACTIVE)
        done = run(
            "users", f"username={USER}", "set_active=false", f"confirm={confirmation(dry.action)}"
        )
        seen["after_done"] = psql(IS_ACTIVE)
    finally:
        psql(f"UPDATE users SET is_active = true WHERE username = '{USER}'")
        seen["restored"] = psql(IS_ACTIVE)
    return Guarded(dry, done, seen)


def test_every_user_as_psql_lists_them(listing: Record) -> None:
    assert listing.exit == 0 and listing.side["error"] is None
    rows = listing.result("postgres_users")["rows"]
    expected = psql_rows("SELECT id, username, email, role, is_active FROM users ORDER BY id")
    assert [(r["id"], r["username"], r["email"], r["role"], r["is_active"]) for r in rows] == [
        (int(i), u, e, role, active == "t") for i, u, e, role, active in expected
    ]
    assert listing.metric("postgres.users.total") == len(expected)
    assert listing.metric("postgres.users.active") == sum(r[4] == "t" for r in expected)
    for role, count in Counter(r[3] for r in expected).items():
        assert listing.metric(f"postgres.users.{role}") == count


def test_dry_run_shows_the_update_and_changes_nothing(disabled: Guarded) -> None:
    dry = disabled.dry
    assert dry.exit == 0 and dry.side["error"] is None
    action = dry.action
    assert action["action"] == "set_user_active" and action["subject"] == USER
    assert action["dry_run"] is True and action["verified"] is None
    assert any("UPDATE users SET is_active" in s and USER in s for s in action["steps"])
    assert action["details"]["before"] is True and action["details"]["after"] is False
    assert disabled.seen["after_dry"] == disabled.seen["before"] == "t"
    shown = dry.result("postgres_users")["rows"]  # username= narrows the list to that user
    assert [(r["username"], r["is_active"]) for r in shown] == [(USER, True)]


def test_confirmed_run_disables_exactly_that_user(disabled: Guarded) -> None:
    done = disabled.done
    assert done.side["error"] is None, done.side["error"]
    action = done.action
    assert action["dry_run"] is False and action["verified"] is True
    assert action["fingerprint"] == disabled.dry.action["fingerprint"]
    assert (action["before"], action["after"]) == (True, False)
    assert action["outcome"] == "1 row(s) updated"
    assert disabled.seen["after_done"] == "f"  # psql sees the account disabled


def test_user_enabled_again(disabled: Guarded) -> None:
    assert disabled.seen["restored"] == "t"

"""The maintenance window's diff (pure): changes are rows, regressions are P1 findings."""

from __future__ import annotations

import copy
from typing import Any

from netzops.maintenance import diff


def _snap() -> dict[str, Any]:
    return {
        "phase": "pre",
        "target": "sandbox",
        "taken_at": "2026-11-30T12:00:00+00:00",
        "containers": [
            {
                "name": "web_1",
                "service": "backend",
                "id": "aaa",
                "image": "img",
                "image_id": "sha256:1",
                "state": "running",
                "health": "healthy",
                "serving": True,
                "started_at": "t0",
            },
            {
                "name": "db",
                "service": "postgres",
                "id": "bbb",
                "image": "img",
                "image_id": "sha256:1",
                "state": "running",
                "health": "healthy",
                "serving": True,
                "started_at": "t0",
            },
        ],
        "versions": {"postgres": "15.18", "redis": "7.0"},
        "row_counts": {"public.users": 50, "public.sites": 100},
        "http": {"frontend": 200, "backend": 200},
        "config_sha256": "c" * 64,
    }


def test_nothing_changed() -> None:
    result = diff(_snap(), {**_snap(), "phase": "post"})
    assert result.rows == [] and result.findings == [] and result.notes == ["nothing changed"]


def test_a_recreated_container_is_a_change_not_a_regression() -> None:
    post = copy.deepcopy(_snap())
    post["containers"][0] |= {"id": "ccc", "started_at": "t1"}
    post["versions"]["postgres"] = "15.20"
    result = diff(_snap(), post)
    changes = {r["what"]: (r["before"], r["after"], r["change"]) for r in result.rows}
    assert changes["web_1 id"] == ("aaa", "ccc", "changed")
    assert changes["version postgres"] == ("15.18", "15.20", "changed")
    assert result.findings == [] and result.metrics["window.regressions"] == 0


def test_regressions_are_p1() -> None:
    post = copy.deepcopy(_snap())
    post["containers"][1] |= {"serving": False, "health": "unhealthy"}
    del post["containers"][0]
    post["row_counts"]["public.users"] = 47
    post["http"]["backend"] = 502
    result = diff(_snap(), post)
    worse = {f.subject for f in result.findings}
    assert worse == {"container web_1", "db serving", "rows public.users", "http backend"}
    assert {f.priority.name for f in result.findings} == {"P1"}
    assert result.metrics["window.regressions"] == 4

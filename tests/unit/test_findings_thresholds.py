from __future__ import annotations

import pytest

from netzops.findings import Finding, Priority, above, below, remaining, thresholds, worst


def test_priorities_order_most_urgent_first() -> None:
    assert Priority.P0 < Priority.P1 < Priority.P2 < Priority.P3
    assert Priority.parse(" p2 ") is Priority.P2
    with pytest.raises(ValueError):
        Priority.parse("P5")


def test_worst_of_findings() -> None:
    found = [Finding("c", "a", Priority.P3, "x"), Finding("c", "b", Priority.P1, "y")]
    assert worst(found) is Priority.P1
    assert worst([]) is None


def test_runbook_thresholds_ship_as_data() -> None:
    bands = thresholds()
    assert bands["api_response_ms"].warn == 200
    assert bands["db_connections_active"].low == 5 and bands["db_connections_active"].warn == 20
    assert bands["memory_percent"].warn == 80
    assert bands["cpu_percent"].warn == 70
    assert bands["disk_percent"].warn == 80 and bands["disk_percent"].critical == 90
    assert bands["error_rate_percent"].warn == 1 and bands["error_rate_percent"].critical == 5


def test_overrides_apply_per_limit_and_unknown_names_fail() -> None:
    bands = thresholds({"api_response_ms": {"warn": 300}})
    assert bands["api_response_ms"].warn == 300 and bands["api_response_ms"].critical == 1000
    with pytest.raises(ValueError, match="unknown threshold"):
        thresholds({"nope": {"warn": 1}})


def test_evaluation_maps_to_runbook_priorities() -> None:
    disk = thresholds()["disk_percent"]
    assert above("disk", "/", 79.9, disk, "disk %") is None
    p2 = above("disk", "/", 85, disk, "disk %")
    p1 = above("disk", "/", 95, disk, "disk %")
    assert p2 is not None and p2.priority is Priority.P2 and p2.threshold == 80
    assert p1 is not None and p1.priority is Priority.P1 and p1.threshold == 90
    pool = thresholds()["db_connections_active"]
    low = below("pool", "db", 2, pool, "active")
    assert low is not None and low.priority is Priority.P3
    tls = thresholds()["tls_days_left"]
    expired = remaining("tls", "fe", -1, tls, "days")
    soon = remaining("tls", "fe", 3, tls, "days")
    assert expired is not None and expired.priority is Priority.P0
    assert soon is not None and soon.priority is Priority.P1
    assert remaining("tls", "fe", 60, tls, "days") is None


def test_every_procedure_names_checks_the_library_has() -> None:
    """procedures.yaml lists only check names the library registers (netzops.checks)."""
    import importlib
    import pkgutil

    import netzops
    from netzops.checks import finding_names
    from netzops.triage import response as incidents

    for module in pkgutil.walk_packages(netzops.__path__, "netzops."):
        if not module.name.startswith(("netzops.runner", "netzops.sandbox")) or module.name in (
            "netzops.runner.trends",  # trend facts: disk forecast, rising error rate and slowness
        ):
            importlib.import_module(module.name)  # every domain registers its checks
    listed = [c for p in incidents.procedures().values() for c in p.checks]
    assert len(listed) == len(set(listed)), "a check belongs to one procedure"
    assert not set(listed) - finding_names(), f"unknown checks: {set(listed) - finding_names()}"
    finding = Finding("request_error_rate", "backend", Priority.P1, "error rate % 20 > 5")
    procedure = incidents.procedure_for(finding)
    assert procedure is not None and procedure.title == "High Error Rate Alert"

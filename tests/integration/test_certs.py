"""Certificates as served by the sandbox frontend, compared with openssl."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from netzops import certs
from netzops.findings import Priority
from netzops.sandbox import stack
from netzops.targets import Target
from tests.conftest import sh


def _openssl_enddate() -> datetime:
    pem = sh(
        "openssl", "s_client", "-connect", "127.0.0.1:8443", "-servername", "localhost", input=""
    )
    end = sh("openssl", "x509", "-noout", "-enddate", input=pem).strip().split("=", 1)[1]
    return datetime.strptime(end, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=UTC)


@pytest.fixture
def cert_days(target: Target) -> Iterator[object]:
    """Lets a test choose the certificate's validity; restores 90 days afterwards."""
    client = stack.engine()

    def choose(days: float) -> None:
        stack.set_certificate(days, client)

    yield choose
    stack.set_certificate(90, client)


def _check(target: Target) -> tuple[dict[str, object], list[Priority]]:
    result = certs.check(target)
    assert len(result.rows) == 1, result
    return result.rows[0], [f.priority for f in result.findings]


def test_days_left_matches_openssl(target: Target) -> None:
    row, found = _check(target)
    openssl_end = _openssl_enddate()
    assert row["not_after"] == openssl_end.isoformat()
    expected = (openssl_end - datetime.now(UTC)).total_seconds() / 86400
    assert abs(float(row["days_left"]) - expected) < 0.01  # same instant, seconds apart
    assert row["self_signed"] is True and row["trusted"] is False
    assert row["hostname_match"] is True and "localhost" in row["sans"]
    assert found == []  # the sandbox target does not verify TLS: self-signed is expected


def test_near_expiry_and_expired_certificates(target: Target, cert_days) -> None:  # type: ignore[no-untyped-def]
    cert_days(3)
    row, found = _check(target)
    assert 2.9 < float(row["days_left"]) <= 3.0
    assert found == [Priority.P1]
    cert_days(-2)
    row, found = _check(target)
    assert float(row["days_left"]) < -1.9
    assert _openssl_enddate() < datetime.now(UTC)
    assert found == [Priority.P0]


def test_closed_port_is_a_finding(target: Target) -> None:
    broken = target.model_copy(update={"tls": [target.tls[0].model_copy(update={"port": 1})]})
    result = certs.check(broken)
    assert [f.priority for f in result.findings] == [Priority.P0]

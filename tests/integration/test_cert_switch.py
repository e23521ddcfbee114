"""Issue 11, "Also": switching the sandbox's certificate is exact. `nginx -s reload` is
graceful — old workers keep their connections and, until told to quit, accept new ones — so
`set_certificate` returns only when every old worker is gone; after that every fresh
handshake (openssl, netzops) shows the new certificate, even while keep-alive clients were
talking to the old workers during the switch."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from netzops import certs
from netzops.sandbox import stack
from netzops.targets import Target
from tests.conftest import sh

URL = "https://127.0.0.1:8443/health"


def _openssl_fingerprint() -> str:
    pem = sh(
        "openssl", "s_client", "-connect", "127.0.0.1:8443", "-servername", "localhost", input=""
    )
    out = sh("openssl", "x509", "-noout", "-fingerprint", "-sha256", input=pem)
    return out.strip().split("=", 1)[1].replace(":", "").lower()


@pytest.fixture
def keep_alive_traffic() -> Iterator[list[int]]:
    """Two clients sending requests over kept-alive connections until the test ends."""
    stop = threading.Event()
    answered: list[int] = []

    def talk() -> None:
        with httpx.Client(verify=False, timeout=5) as client:
            while not stop.is_set():
                try:
                    answered.append(client.get(URL).status_code)
                except httpx.HTTPError:
                    answered.append(0)

    threads = [threading.Thread(target=talk, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    yield answered
    stop.set()
    for t in threads:
        t.join(timeout=10)


@pytest.fixture
def restore_90_days() -> Iterator[None]:
    yield
    stack.set_certificate(90, stack.engine())


def test_every_handshake_after_the_switch_shows_the_new_certificate(
    target: Target, keep_alive_traffic: list[int], restore_90_days: None
) -> None:
    client = stack.engine()
    frontend = client.containers.get(stack.FRONTEND)
    for days in (3, -2, 90, -2):
        before = set(stack.nginx_workers(frontend))
        path = stack.set_certificate(days, client)
        wanted = x509.load_pem_x509_certificate(path.read_bytes()).fingerprint(hashes.SHA256())
        assert not before & set(stack.nginx_workers(frontend))  # the old workers are gone
        for _ in range(10):  # fresh connections, as openssl and the checks make them
            assert certs.served(target.tls[0]).fingerprint(hashes.SHA256()) == wanted
        assert _openssl_fingerprint() == wanted.hex()
        days_left = float(certs.check(target).rows[0]["days_left"])
        assert abs(days_left - days) < 0.01
    assert keep_alive_traffic and 200 in keep_alive_traffic

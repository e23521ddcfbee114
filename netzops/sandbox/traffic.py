"""A bounded traffic generator for the sandbox: page views, API calls, logins and failed
logins, so that logs, pg_stat_statements and Redis statistics hold real data."""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

PASSWORD = "sandbox-password"  # every seeded sandbox user's password (sandbox only)


@dataclass
class Traffic:
    requests: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    by_status: Counter[int] = field(default_factory=Counter)
    errors: int = 0


def _login(http: httpx.Client, user: str, password: str) -> httpx.Response:
    return http.post("/api/login", json={"username": user, "password": password})


def _read(http: httpx.Client, rng: random.Random) -> tuple[str, int]:
    """Page views and API reads, as the SPA and its users make them."""
    roll = rng.random()
    if roll < 0.30:
        return "page", http.get("/").status_code
    if roll < 0.55:
        return "sites", http.get("/api/sites").status_code
    if roll < 0.75:
        site = rng.randint(1, 100)
        return "measurements", http.get(
            f"/api/sites/{site}/measurements", params={"hours": rng.choice([1, 6, 24])}
        ).status_code
    if roll < 0.88:
        return "stats", http.get("/api/stats").status_code
    if roll < 0.96:
        return "users", http.get("/api/users").status_code
    return "report", http.get("/api/report", params={"days": 7}).status_code  # slow query


def _write(http: httpx.Client, rng: random.Random, sessions: list[str]) -> tuple[str, int]:
    """Logins (good, bad, unknown users), session reads and probe measurements."""
    roll = rng.random()
    if roll < 0.30:
        reply = _login(http, f"viewer{rng.randint(1, 40)}", PASSWORD)
        if reply.status_code == 200:
            sessions.append(reply.json()["session"])
        return "login", reply.status_code
    if roll < 0.55 and sessions:
        sid = rng.choice(sessions)
        return "me", http.get("/api/me", headers={"X-Session-Id": sid}).status_code
    if roll < 0.70:
        return "failed_login", _login(http, rng.choice(["admin", "operator1"]), "wrong").status_code
    if roll < 0.78:
        return "unknown_user", _login(http, f"intruder{rng.randint(1, 9)}", "guess").status_code
    status = 200 if rng.random() < 0.98 else 503
    sample = {
        "site_id": rng.randint(1, 100),
        "status_code": status,
        "response_ms": round(rng.uniform(40, 400), 1),
    }
    return "measurement", http.post("/api/measurements", json=sample).status_code


def _step(http: httpx.Client, rng: random.Random, sessions: list[str]) -> tuple[str, int]:
    return _read(http, rng) if rng.random() < 0.7 else _write(http, rng, sessions)


def generate(
    base_url: str,
    seconds: float = 20,
    max_requests: int = 5000,
    verify: bool = False,
    seed: int | None = None,
) -> Traffic:
    """Send mixed traffic to `base_url` for at most `seconds` and `max_requests`."""
    rng = random.Random(seed)
    tally = Traffic()
    sessions: list[str] = []
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=base_url, verify=verify, timeout=10) as http:
        while time.monotonic() < deadline and tally.requests < max_requests:
            try:
                kind, status = _step(http, rng, sessions)
            except httpx.HTTPError:
                tally.errors += 1
                kind, status = "error", 0
            tally.requests += 1
            tally.by_kind[kind] += 1
            tally.by_status[status] += 1
    return tally

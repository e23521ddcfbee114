"""Bring the sandbox up and down: base image, secrets, per-machine assets, certificate, compose."""

from __future__ import annotations

import os
import secrets as token
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from docker.errors import DockerException, ImageNotFound
from docker.models.containers import Container

from netzops import certs, containers
from netzops.containers import compose
from netzops.errors import NetzopsError
from netzops.incidents import recorder
from netzops.paths import project_root
from netzops.results import Result
from netzops.sandbox import assets, converge, tlscert
from netzops.targets import Target, load_target

BASE_IMAGE = "netzwaechter/base:local"
SECRETS = (
    "postgres_password",
    "app_db_password",
    "monitor_password",
    "redis_password",
    "session_secret",
)
FRONTEND = "netzwaechter-frontend"


def folder() -> Path:
    return project_root() / "sandbox"


def state(target: Target | None = None) -> Path:
    """Where the sandbox's secrets and certificate live (the target's NW_STATE_DIR)."""
    target = target or load_target("sandbox")
    return Path(target.compose.environment().get("NW_STATE_DIR", str(folder() / ".state")))


def engine() -> docker.DockerClient:
    """The local engine, or a clear error saying how to start one."""
    try:
        client = docker.from_env(timeout=10)
        client.ping()
    except DockerException as exc:
        tried = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        raise NetzopsError(
            f"no Docker engine answers at {tried}: start dockerd (`make bootstrap` does, as "
            "root), or point DOCKER_HOST (or docker_host in the target file) at a running "
            f"engine ({type(exc).__name__})"
        ) from None
    return client


def ensure_base_image(client: docker.DockerClient) -> str:
    """Build the offline base image when it is missing; returns "kept" or "built"."""
    try:
        client.images.get(BASE_IMAGE)
        return "kept"
    except ImageNotFound:
        subprocess.run(
            ["sh", str(folder() / "base" / "build.sh"), BASE_IMAGE],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return "built"


def ensure_secrets() -> None:
    """Random secrets for the sandbox's services, in root-only files (made once)."""
    where = state() / "secrets"
    where.mkdir(parents=True, exist_ok=True)
    where.chmod(0o700)
    for name in SECRETS:
        path = where / name
        env = os.environ.get(f"NETZWAECHTER_{name.upper()}")
        if env:  # a chosen value (e.g. a canary in tests) wins over the stored one
            path.write_text(env)
        elif not path.exists():
            path.write_text(token.token_urlsafe(24))
        path.chmod(0o600)


def asset_changes(target: Target) -> list[str] | None:
    """How this clone's assets differ from the installed ones ("postgres/seed.sql
    changed", …); None when none are installed yet (the first up of this layout)."""
    installed = assets.installed_manifest(assets.target_dir(state(target)))
    if installed is None:
        return None
    return assets.differences(installed, assets.manifest(assets.source()))


#: Lists the container's processes as "pid<TAB>title" (nginx sets each worker's title).
_PROCESSES = (
    'for p in /proc/[0-9]*; do printf "%s\\t" "${p#/proc/}"; '
    'tr "\\0" " " < "$p/cmdline"; echo; done'
)


def nginx_workers(frontend: Container) -> dict[str, str]:
    """The nginx worker processes of the frontend container: {pid: title}; an old worker
    after a reload is titled "nginx: worker process is shutting down"."""
    out = frontend.exec_run(["/bin/sh", "-c", _PROCESSES]).output.decode(errors="replace")
    pairs = (line.split("\t", 1) for line in out.splitlines() if "\t" in line)
    return {pid: title.strip() for pid, title in pairs if title.startswith("nginx: worker")}


def set_certificate(
    days: float, client: docker.DockerClient | None = None, wait_s: float = 30
) -> Path:
    """A new certificate valid for `days` (≤ 0: expired). With a client, nginx reloads it
    and this returns once every worker that served the old one has exited (`nginx -s
    reload` is graceful: old workers finish their connections first, and until they are
    told to quit they still accept new ones) and a fresh handshake shows the new
    certificate. Raises NetzopsError when the reload fails or that takes over `wait_s`."""
    cert = tlscert.write(state() / "certs", days)
    if client is None:
        return cert
    try:
        frontend = client.containers.get(FRONTEND)
    except DockerException:
        return cert
    if frontend.status != "running":
        return cert
    old = set(nginx_workers(frontend))
    done = frontend.exec_run(
        ["/usr/sbin/nginx", "-e", "stderr", "-c", "/sandbox/frontend/nginx.conf", "-s", "reload"]
    )
    if done.exit_code != 0:
        why = done.output.decode(errors="replace").strip()[-300:]
        raise NetzopsError(f"nginx -s reload failed ({done.exit_code}): {why}")
    wanted = x509.load_pem_x509_certificate(cert.read_bytes()).fingerprint(hashes.SHA256())
    tls = load_target("sandbox").tls[0]
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        workers = nginx_workers(frontend)
        fresh = bool(workers) and not old & set(workers)
        if fresh and certs.served(tls).fingerprint(hashes.SHA256()) == wanted:
            return cert
        time.sleep(0.1)
    raise NetzopsError(
        f"nginx did not serve the new certificate from new workers only within {wait_s:g} s"
    )


#: The steps of `start`, in order, as its `progress` callback names them.
STEPS = (
    "image",  # the offline base image: kept or built
    "secrets",
    "assets",  # installed, updated or unchanged
    "certificate",  # kept or new
    "recorder",  # the Docker event journal
    "kernels",  # the resident warm kernel server single runs fork from (warms in background)
    "containers",  # compose up: "4 left running", "1 recreated, 3 left running", …
    "health",
    "database",  # on-up.sql
)
Progress = Callable[[str, str, float], None]  # (step, outcome, seconds)


@dataclass(frozen=True)
class Started:
    """What `start` did: one line per container (`converge.changes`) and the status."""

    changes: list[str]
    status: Result


def start(
    target: Target | None = None,
    cert_days: float = 90,
    wait_s: float = 240,
    recreate: bool = False,
    progress: Progress | None = None,
) -> Started:
    """Bring the stack to what this clone describes and wait until every service is healthy.

    Running, unchanged containers are left alone; missing ones are created, stopped ones
    started. When this clone's compose configuration or assets differ from those of the
    existing containers it raises NetzopsError (one line naming the difference and
    `--recreate`) before changing anything, unless `recreate`; then it recreates those
    services (data volumes stay). The first start after the assets moved to the state
    folder recreates the stack once. `progress(step, outcome, seconds)` is called after
    each of STEPS."""
    target = target or load_target("sandbox")
    say = progress or (lambda step, outcome, seconds: None)
    clock = time.monotonic()

    def done(step: str, outcome: str = "ok") -> None:
        nonlocal clock
        now = time.monotonic()
        say(step, outcome, now - clock)
        clock = now

    client = engine()
    done("image", ensure_base_image(client))
    ensure_secrets()
    done("secrets")
    changed = asset_changes(target)
    before = converge.snapshot(client, target.compose.project)
    moved = changed is None and bool(before)  # containers of the old layout (clone assets)
    differ = converge.Difference(
        converge.config_differences(before, converge.wanted_hashes(target)), changed or []
    )
    if before and differ and not (recreate or moved):
        raise NetzopsError(differ.refusal())
    assets.install(assets.target_dir(state(target)))
    stale = assets.services_of(changed or []) if before else []
    done("assets", "installed" if changed is None else ("updated" if changed else "unchanged"))
    new_cert = not (state() / "certs" / "server.crt").exists() or cert_days != 90
    if new_cert:
        set_certificate(cert_days)
    done("certificate", "new" if new_cert else "kept")
    recorder.start(target)  # the event journal (idempotent: one recorder per machine)
    done("recorder")
    from netzops.runner import resident  # jupyter_client: only when starting

    kernel_server = resident.start(wait=False)  # idempotent: one per machine and checkout
    done("kernels", "running" if kernel_server.running else "starting")
    _compose_up(target, before, sorted(set(stale) - set(differ.config)), wait_s)
    changes = converge.changes(before, converge.snapshot(client, target.compose.project))
    done("containers", _tally(changes))
    status = wait_healthy(client, target, wait_s)
    done("health", "healthy")
    maintain_database(client)
    done("database")
    return Started(changes, status)


def up(target: Target | None = None, cert_days: float = 90, wait_s: float = 240) -> Result:
    """`start` without progress: the stack up and healthy; returns the status."""
    return start(target, cert_days, wait_s).status


def _compose_up(
    target: Target,
    before: dict[str, converge.Seen],
    stale: list[str],
    wait_s: float,
) -> None:
    """`compose up -d` keeping the backend's replica count; then force-recreate the
    services whose mounted assets changed (compose cannot see file contents)."""
    replicas = sum(1 for s in before.values() if s.service == "backend")
    scale = ["--scale", f"backend={replicas}"] if replicas > 1 else []
    compose.run(target, "up", "-d", "--remove-orphans", *scale, timeout_s=wait_s)
    if stale:
        compose.run(
            target, "up", "-d", "--no-deps", "--force-recreate", *scale, *stale, timeout_s=wait_s
        )


def _tally(changes: list[str]) -> str:
    counts: dict[str, int] = {}
    for line in changes:
        what = line.split(": ", 1)[1]
        counts[what] = counts.get(what, 0) + 1
    return ", ".join(f"{n} {what}" for what, n in counts.items()) or "none"


def maintain_database(client: docker.DockerClient) -> None:
    """sandbox/postgres/on-up.sql: the monitoring role's grants and the deliberate dead
    tuples, also on databases seeded earlier or restarted after a crash."""
    postgres = client.containers.get("netzwaechter-postgres")
    code, output = postgres.exec_run(
        [
            "psql",
            "-U",
            "postgres",
            "-d",
            "netzwaechter",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-f",
            "/sandbox/postgres/on-up.sql",
        ]
    )
    if code != 0:
        raise NetzopsError(f"on-up.sql failed: {output.decode(errors='replace')[-300:]}")


def wait_healthy(client: docker.DockerClient, target: Target, wait_s: float) -> Result:
    deadline = time.monotonic() + wait_s
    while True:
        status = containers.service_status(client, target)
        if all(status.metrics.get(f"containers.{s}.healthy") == 1.0 for s in target.services):
            return status
        if time.monotonic() > deadline:
            raise NetzopsError("sandbox not healthy in time:\n" + str(status))
        time.sleep(1.0)


def down(target: Target | None = None, volumes: bool = False) -> None:
    target = target or load_target("sandbox")
    engine()
    compose.run(target, "down", *(["--volumes"] if volumes else []), "--remove-orphans")
    recorder.stop(target.name)  # after compose down, so that its events are journaled

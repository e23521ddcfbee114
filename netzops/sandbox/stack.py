"""Bring the sandbox up and down: base image, secrets, certificate, backend packages, compose."""

from __future__ import annotations

import os
import secrets as token
import shutil
import subprocess
import time
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
from netzops.sandbox import tlscert
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


def ensure_base_image(client: docker.DockerClient) -> None:
    try:
        client.images.get(BASE_IMAGE)
    except ImageNotFound:
        subprocess.run(
            ["sh", str(folder() / "base" / "build.sh"), BASE_IMAGE],
            check=True,
            capture_output=True,
            timeout=120,
        )


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


def ensure_backend_packages() -> None:
    backend = folder() / "backend"
    if (backend / "node_modules" / "express").is_dir():
        return
    npm = shutil.which("npm")
    if not npm:
        raise NetzopsError("npm not found: install Node.js and npm (apt-get install nodejs npm)")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=backend,
        check=True,
        timeout=600,
    )


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


def up(target: Target | None = None, cert_days: float = 90, wait_s: float = 240) -> Result:
    """Start the stack and wait until every service is healthy; returns the status."""
    target = target or load_target("sandbox")
    client = engine()
    ensure_base_image(client)
    ensure_secrets()
    ensure_backend_packages()
    if not (state() / "certs" / "server.crt").exists() or cert_days != 90:
        set_certificate(cert_days)
    recorder.start(target)  # the event journal (idempotent: one recorder per machine)
    compose.run(target, "up", "-d", "--remove-orphans", timeout_s=wait_s)
    status = wait_healthy(client, target, wait_s)
    maintain_database(client)
    return status


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

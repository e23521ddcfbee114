"""`netzops sandbox up | down | status | traffic | cert | fault`."""

from __future__ import annotations

import sys

import click

from netzops import containers
from netzops.errors import NetzopsError
from netzops.sandbox import stack, traffic
from netzops.sandbox.faults import fault_command
from netzops.targets import load_target


@click.group()
def sandbox() -> None:
    """The local Netzwächter replica (docker compose project `netzwaechter`)."""


def _guard(action: object) -> None:
    try:
        action()  # type: ignore[operator]
    except NetzopsError as exc:
        click.echo(f"netzops sandbox: {exc}", err=True)
        sys.exit(3)


@sandbox.command()
@click.option(
    "--cert-days",
    default=90.0,
    show_default=True,
    help="validity of the frontend certificate (≤ 0 makes it expired)",
)
@click.option("--wait", default=240.0, show_default=True, help="seconds to wait for health")
@click.option(
    "--recreate",
    is_flag=True,
    help="recreate the containers whose configuration or assets differ from this clone's",
)
def up(cert_days: float, wait: float, recreate: bool) -> None:
    """Build the offline base image if needed and start the stack until it is healthy.

    Running, unchanged containers are left alone; one line per container says whether it
    was created, recreated, started or left running. A clone whose compose file or sandbox
    assets differ from the running stack's is refused unless --recreate. Progress goes to
    stderr (a bar on a terminal, "[3/8] assets unchanged 0.1 s" lines otherwise)."""
    from netzops.progress import Steps

    def go() -> None:
        with Steps(len(stack.STEPS), "sandbox up") as step:
            started = stack.start(
                cert_days=cert_days, wait_s=wait, recreate=recreate, progress=step
            )
        for line in started.changes:
            click.echo(line)
        click.echo(started.status)

    _guard(go)


@sandbox.command()
@click.option("--volumes", is_flag=True, help="also delete the data volumes")
def down(volumes: bool) -> None:
    """Stop and remove the stack's containers (and volumes with --volumes)."""
    _guard(lambda: stack.down(volumes=volumes))


@sandbox.command()
def status() -> None:
    """Containers, state and health; exits 1 when a finding is P0 (a service down)."""
    from netzops.findings import Priority

    target = load_target("sandbox")
    result = containers.service_status(containers.connect(target), target)
    click.echo(result)
    if any(f.priority <= Priority.P0 for f in result.findings):
        sys.exit(1)


@sandbox.command(name="traffic")
@click.option("--seconds", default=20.0, show_default=True)
@click.option("--max-requests", default=5000, show_default=True)
def traffic_(seconds: float, max_requests: int) -> None:
    """Send page views, API calls, logins and failed logins through the frontend."""
    target = load_target("sandbox")
    tally = traffic.generate(
        target.http.frontend_url, seconds, max_requests, verify=target.http.verify_tls
    )
    click.echo(f"{tally.requests} requests, {tally.errors} transport errors")
    click.echo("by kind:   " + ", ".join(f"{k}={v}" for k, v in sorted(tally.by_kind.items())))
    click.echo("by status: " + ", ".join(f"{k}={v}" for k, v in sorted(tally.by_status.items())))


@sandbox.command()
@click.argument("days", type=float)
def cert(days: float) -> None:
    """Replace the frontend certificate with one valid for DAYS (≤ 0: expired) and reload."""
    _guard(lambda: click.echo(stack.set_certificate(days, stack.engine())))


sandbox.add_command(fault_command)  # netzops sandbox fault NAME on|off

"""`netzops kernels start|stop|status`: the machine's resident warm kernel server
(`runner.resident`), from which a single `netzops run` forks its kernel instead of starting
a fresh one. `netzops sandbox up` starts it; without it every run starts a fresh kernel.
"""

from __future__ import annotations

import click


def _show(running: bool, pid: int | None, started: str | None, path: str) -> None:
    if running:
        click.echo(f"kernel server: running (pid {pid}, since {started}) on {path}")
    else:
        click.echo(f"kernel server: not running ({path}); runs start fresh kernels")


@click.group()
def kernels() -> None:
    """The resident warm kernel server that single runs fork their kernel from."""


@kernels.command()
def start() -> None:
    """Start the server unless it runs (returns once it answers)."""
    from netzops.runner import resident

    now = resident.start()
    _show(now.running, now.pid, now.started, now.socket)


@kernels.command()
def stop() -> None:
    """Stop the server; kernels in use live until their runs discard them."""
    from netzops.runner import resident

    now = resident.stop()
    _show(now.running, now.pid, now.started, now.socket)


@kernels.command()
def status() -> None:
    """Whether the server answers (exit 1 when not)."""
    from netzops.runner import resident

    now = resident.status()
    _show(now.running, now.pid, now.started, now.socket)
    raise SystemExit(0 if now.running else 1)

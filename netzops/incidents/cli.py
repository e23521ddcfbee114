"""`netzops events record | start | stop | status | show` — the event journal."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from netzops.errors import BadInput, NetzopsError

TARGET = click.option("--target", "-t", default="sandbox", show_default=True, help="target name")


@click.group()
def events() -> None:
    """The Docker event journal (outputs/events/<target>.jsonl)."""


def _fail(exc: Exception) -> None:
    """A failure is exit 3 with one line; bad input (a target name, a time) is re-raised
    for the program's exit 2."""
    if isinstance(exc, BadInput):
        raise exc
    click.echo(f"netzops events: {exc}", err=True)
    sys.exit(3)


@events.command()
@TARGET
@click.option("--journal", type=click.Path(path_type=Path), help="journal file (default: outputs)")
def record(target: str, journal: Path | None) -> None:
    """Record the target's container events in the foreground until SIGTERM/SIGINT."""
    from netzops import containers
    from netzops.incidents import journal as jr
    from netzops.targets import load_target

    try:
        stack = load_target(target)
        jr.record(containers.connect(stack), stack, journal)
    except NetzopsError as exc:
        _fail(exc)


@events.command()
@TARGET
def start(target: str) -> None:
    """Start a detached recorder unless one runs (idempotent)."""
    from netzops.incidents import recorder
    from netzops.targets import load_target

    try:
        now = recorder.start(load_target(target))
    except NetzopsError as exc:
        _fail(exc)
        return
    click.echo(f"recorder for {target}: pid {now.pid}, journal {now.journal}")


@events.command()
@TARGET
def stop(target: str) -> None:
    """Stop the target's recorder (it drains what the daemon has first)."""
    from netzops.incidents import recorder

    was = recorder.status(target).running
    recorder.stop(target)
    click.echo(f"recorder for {target}: {'stopped' if was else 'not running (nothing to stop)'}")


@events.command()
@TARGET
def status(target: str) -> None:
    """Whether the target's recorder runs, its pid and journal."""
    from netzops.incidents import recorder

    now = recorder.status(target)
    state = "running" if now.running else "not running"
    click.echo(
        f"recorder for {target}: {state}, pid {now.pid or '-'}, journal {now.journal or '-'}"
    )
    sys.exit(0 if now.running else 1)


@events.command()
@TARGET
@click.option("--since", help="only events at or after this time (ISO, 1h, 30m …)")
def show(target: str, since: str | None) -> None:
    """The journal's lines as a table (time, entry, service, action, detail)."""
    from netzops.incidents import journal as jr
    from netzops.incidents import recorder
    from netzops.logs import parse_when

    where = recorder.status(target).journal
    path = Path(where) if where else jr.journal_path(target)
    start = parse_when(since)
    after = jr.to_nano(start) if start else 0
    if not path.is_file():
        _fail(NetzopsError(f"no journal for {target} at {path} (netzops events start)"))
    try:
        for line in jr.read(path):
            if line["time_nano"] < after:
                continue
            detail = line.get("health") or line.get("exit_code") or line.get("state") or ""
            click.echo(
                f"{line['time'][:23]}  {line['entry']:<13} {line.get('service', ''):<9} "
                f"{line.get('action', ''):<14} {line.get('container', '')} {detail}"
            )
    except OSError as exc:  # unreadable, or vanished while read
        _fail(NetzopsError(f"cannot read the journal {path}: {exc}"))

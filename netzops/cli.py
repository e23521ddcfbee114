"""The `netzops` command line. Exit codes: see `runner.Exit` and docs/cli.md.

Start-up is lean: this module imports click and the error tree only; every command imports
what it needs when it runs, and sub-groups (`sandbox`, `logs`) are loaded when named, so
`netzops --help` never loads papermill, jupytext, nbconvert, docker or pandas.
"""

from __future__ import annotations

import json
import sys
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from netzops import _startup
from netzops.errors import BadInput, NetzopsError

if TYPE_CHECKING:
    from datetime import datetime

    from netzops.findings import Priority

BAD_INPUT, FAILED = 2, 3  # runner.Exit.BAD_INPUT, runner.Exit.FAILED (without importing it)


def _fail(message: str, code: int = BAD_INPUT) -> None:
    click.echo(f"netzops: {message}", err=True)
    sys.exit(int(code))


class LazyGroup(click.Group):
    """A group whose sub-groups live in other modules, imported only when invoked; the
    help lists them from their one-line description without importing them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, tuple[str, str]] = {}  # name → ("module:attr", short help)

    def add_lazy(self, name: str, where: str, short_help: str) -> None:
        self.lazy[name] = (where, short_help)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, _, attr = self.lazy[cmd_name][0].partition(":")
            self.add_command(getattr(import_module(module), attr), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        """Any command's bad input (a time, a name, a value) is exit 2 with one line."""
        try:
            return super().invoke(ctx)
        except BadInput as exc:
            _fail(str(exc))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy and name not in self.commands:
                rows.append((name, self.lazy[name][1]))
                continue
            command = super().get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _parameter_lines(name: str) -> list[str]:
    """Notebook NAME's title and parameters (type, default, help), for `list` and `--help`."""
    from netzops.runner import notebooks

    nb = notebooks.load(name)
    lines = [f"{name}: {nb.title}"]
    for p in nb.parameters:
        kind = f"one of {', '.join(p.choices)}" if p.choices else p.type
        lines.append(f"    {p.name}: {kind} = {p.default!r}  # {p.help}")
    return lines


class NotebookCommand(click.Command):
    """A command taking a notebook NAME whose `--help` also lists NAME's parameters."""

    VALUED = frozenset({"-t", "--target", "-p", "--param", "-f", "--file", "--fail-on"})

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        skip = False
        for arg in args:
            if skip or arg.startswith("-"):
                skip = arg in self.VALUED or arg == "--cell-timeout"
                continue
            ctx.meta["netzops.notebook"] = arg
            break
        return super().parse_args(ctx, args)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        name = ctx.meta.get("netzops.notebook")
        if not name:
            return
        try:
            lines = _parameter_lines(name)
        except BadInput as exc:
            lines = [str(exc)]
        with formatter.section(f"Parameters of {name} (-p KEY=VALUE)"):
            for line in [line.strip() for line in lines[1:]] or ["none"]:
                formatter.write(f"{'':>{formatter.current_indent}}{line}\n")


@click.group(cls=LazyGroup)
@click.version_option(package_name="netzops")
def main() -> None:
    """Executable runbooks for the Netzwächter stack."""


@main.command(cls=NotebookCommand)
@click.argument("name")
@click.option("--target", "-t", default="sandbox", show_default=True, help="target file name")
@click.option("-p", "--param", "pairs", multiple=True, metavar="KEY=VALUE", help="a parameter")
@click.option(
    "-f",
    "--file",
    "files",
    multiple=True,
    type=click.Path(path_type=Path),
    help="YAML parameter file (repeatable; later files win)",
)
@click.option(
    "--fail-on",
    default="P1",
    show_default=True,
    help="exit 1 when a finding is at least this urgent (P0..P3)",
)
@click.option(
    "--cell-timeout",
    default=600,
    show_default=True,
    type=click.IntRange(min=1),
    help="seconds per cell (at least 1)",
)
@click.option("--json", "as_json", is_flag=True, help="print the side-car JSON instead")
def run(
    name: str,
    target: str,
    pairs: tuple[str, ...],
    files: tuple[Path, ...],
    fail_on: str,
    cell_timeout: int,
    as_json: bool = False,
) -> None:
    """Run notebook NAME headless and keep its record under outputs/. A failed run prints
    its error and failing cell, a dry run its confirmation string; `netzops run NAME --help`
    lists NAME's parameters."""
    from netzops.findings import Priority
    from netzops.runner import kernels, notebooks
    from netzops.runner.execution import execute, prepare
    from netzops.runner.parameters import parse_assignments, read_file
    from netzops.targets import load_target

    stack = None
    try:
        threshold = Priority.parse(fail_on)
        notebook = notebooks.load(name)
        stack = load_target(target)
        params = prepare(notebook, stack, [read_file(f) for f in files], parse_assignments(pairs))
    except (BadInput, ValueError) as exc:  # a parameter may echo a secret pasted into it
        _fail(stack.scrubber()(str(exc)) if stack else str(exc))
        return
    kernels.lower_priority()  # diagnostics never compete with production for CPU
    result = execute(notebook, stack, params, threshold, cell_timeout)
    from netzops.runner import terminal

    side = terminal.read_sidecar(result.sidecar)
    if as_json:
        click.echo(json.dumps(side, indent=2, sort_keys=True))
        sys.exit(int(result.exit))
    for line in terminal.outcome_lines(side):
        click.echo(line)
    click.echo(f"record:  {result.notebook}")
    click.echo(f"html:    {result.html}")
    click.echo(f"sidecar: {result.sidecar}")
    sys.exit(int(result.exit))


@main.command()
@click.argument("name")
@click.option("--target", "-t", default="sandbox", show_default=True, help="target file name")
@click.option(
    "--fail-on",
    default="P1",
    show_default=True,
    help="exit 1 when a finding is at least this urgent (P0..P3)",
)
@click.option("--notify", metavar="SCHEDULE", help="tell whom schedules.yaml names for it")
@click.option(
    "--prometheus",
    type=click.Path(path_type=Path),
    help="also write the metrics here for node_exporter's textfile collector",
)
@click.option("--json", "as_json", is_flag=True, help="print the runs' side-cars as a JSON list")
def report(
    name: str,
    target: str,
    fail_on: str,
    notify: str | None,
    prometheus: Path | None,
    as_json: bool = False,
) -> None:
    """Run the set parameters/reports/NAME.yaml and write one summary page."""
    from netzops.findings import Priority
    from netzops.progress import Steps
    from netzops.runner import kernels, reports, schedule_cli, schedules, terminal

    kernels.lower_priority()  # diagnostics never compete with production for CPU
    try:
        if notify:
            schedules.load(notify)  # a bad schedule is refused before anything runs
        steps = [s.notebook for s in reports.load_report(name).runs]
        terminal.progress(f"report {name} on {target}: running {', '.join(steps)} …")
        with Steps(len(steps), f"report {name}") as step:  # a bar on a terminal, else lines
            code, page, runs = reports.run(name, target, Priority.parse(fail_on), progress=step)
    except (BadInput, ValueError) as exc:
        _fail(str(exc))
        return
    if as_json:  # stdout is the JSON alone; what is said about it goes to stderr
        sides = [terminal.read_sidecar(r.sidecar) for r in runs]
        click.echo(json.dumps(sides, indent=2, sort_keys=True))
    else:
        for r in runs:
            click.echo(f"{r.status:<9} worst={r.worst or '-':<4} {r.name:<16} {r.notebook}")
    click.echo(f"summary: {page}", err=as_json)
    try:
        for line in schedule_cli.after_report(name, target, runs, page, notify, prometheus):
            click.echo(line, err=as_json)
    except NetzopsError as exc:
        _fail(str(exc), FAILED)
    sys.exit(int(code))


@main.command(name="list")
@click.argument("names", nargs=-1)
def list_(names: tuple[str, ...] = ()) -> None:
    """Notebooks (or only NAMES) and their parameters (type, default, help)."""
    from netzops.runner import notebooks
    from netzops.targets import list_targets

    try:
        for name in names or notebooks.catalog():
            for line in _parameter_lines(name):
                click.echo(line)
    except BadInput as exc:
        _fail(str(exc))
    click.echo(f"targets: {', '.join(list_targets())}")


@main.command()
@click.option("--notebook", help="only runs of this notebook")
@click.option("--target", help="only runs on this target")
@click.option("--status", type=click.Choice(["completed", "failed", "in progress", "ended"]))
@click.option("--interactive", is_flag=True, help="only JupyterLab sessions")
@click.option("--priority", help="only runs whose worst finding is at least this urgent")
@click.option(
    "--since",
    help="only runs started at or after this time: RFC 3339 with any offset, Unix seconds "
    "or a duration before now (1h, 1h30m, 2d)",
)
@click.option("--until", help="only runs started before this time (same forms as --since)")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
@click.option("--html", "html_page", type=click.Path(path_type=Path), help="also as an HTML page")
def runs(
    notebook: str | None,
    target: str | None,
    status: str | None,
    priority: str | None,
    since: str | None,
    until: str | None,
    as_json: bool,
    interactive: bool = False,
    html_page: Path | None = None,
) -> None:
    """Past runs from the ledger (times compared as instants, whatever their offset), and
    JupyterLab sessions (marked `interactive`, their latest snapshot)."""
    from netzops.findings import Priority
    from netzops.paths import outputs_dir
    from netzops.runner import ledger
    from netzops.times import parse_time

    try:
        limit = Priority.parse(priority) if priority else None
        window = (parse_time(since), parse_time(until))
    except (ValueError, BadInput) as exc:
        _fail(str(exc))
        return
    shown: list[dict[str, Any]] = []
    for entry in ledger.latest(outputs_dir() / "ledger.jsonl"):
        if not _matches(entry, notebook, target, status, limit) or not _within(entry, *window):
            continue
        if interactive and not entry.get("interactive"):
            continue
        shown.append(entry)
        if as_json:
            click.echo(json.dumps(entry, sort_keys=True))
        else:
            click.echo(
                f"{entry['started'][:19]}  {entry['run_id']}  {entry['target']:<10} "
                f"{entry['notebook']:<18} {entry['status']:<9} "
                f"worst={entry['worst'] or '-'}"
                + ("  interactive" if entry.get("interactive") else "")
            )
    if html_page is not None:
        from netzops.runner.summary import runs_html

        html_page.write_text(runs_html(shown, outputs_dir(), html_page.resolve()))
        click.echo(f"html: {html_page}", err=as_json)


def _matches(
    entry: dict[str, Any],
    notebook: str | None,
    target: str | None,
    status: str | None,
    limit: Priority | None,
) -> bool:
    if notebook and entry["notebook"] != notebook:
        return False
    if target and entry["target"] != target:
        return False
    if status and entry["status"] != status:
        return False
    if limit is not None:
        from netzops.findings import Priority

        return entry["worst"] is not None and Priority.parse(entry["worst"]) <= limit
    return True


def _within(entry: dict[str, Any], since: datetime | None, until: datetime | None) -> bool:
    """Whether the run started in [since, until); an entry without a readable start is out
    when a window is given."""
    if since is None and until is None:
        return True
    from netzops.times import parse_time

    try:
        started = parse_time(str(entry.get("started", "")))
    except BadInput:
        return False
    if started is None:  # no start recorded
        return False
    return (since is None or started >= since) and (until is None or started < until)


@main.group(name="ledger")
def ledger_group() -> None:
    """The hash-chained run ledger."""


@ledger_group.command()
def verify() -> None:
    """Check the ledger's chain and the record files it names."""
    from netzops.paths import outputs_dir
    from netzops.runner import ledger

    root = outputs_dir()
    problems = ledger.verify(root / "ledger.jsonl", root)
    for problem in problems:
        click.echo(problem)
    count = sum(1 for _ in ledger.entries(root / "ledger.jsonl"))
    click.echo(f"ledger: {count} entries, {len(problems)} problem(s)")
    sys.exit(1 if problems else 0)


main.add_lazy("sandbox", "netzops.sandbox.cli:sandbox", "The local Netzwächter replica.")
main.add_lazy("events", "netzops.incidents.cli:events", "The Docker event journal.")
main.add_lazy("schedule", "netzops.runner.schedule_cli:schedule", "Scheduled reports.")
main.add_lazy("records", "netzops.runner.records_cli:records", "Record retention (prune).")
main.add_lazy("kernels", "netzops.runner.kernels_cli:kernels", "The resident warm kernel server.")
main.add_lazy(
    "logs", "netzops.logs.cli:logs", "Log analysis of files and folders (rotated, gzipped)."
)


def program() -> None:
    """The `netzops` program (`_startup.program`: a `run` may be handed over first)."""
    _startup.program()


if __name__ == "__main__":  # pragma: no cover
    try:
        program()
    except NetzopsError as exc:
        _fail(str(exc), FAILED)

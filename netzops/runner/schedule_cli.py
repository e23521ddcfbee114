"""`netzops schedule install|list|remove` and what `netzops report` does after its runs
for a schedule (`--notify`) and for node_exporter (`--prometheus`)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from netzops.errors import BadInput

if TYPE_CHECKING:
    from netzops.runner.execution import RunResult

DEFAULT_ENV_FILE = "/etc/netzops/secrets.env"  # where the units read secrets' env variables


def _fail(message: str) -> None:
    click.echo(f"netzops: {message}", err=True)
    sys.exit(2)


@click.group()
def schedule() -> None:
    """Scheduled reports from parameters/schedules.yaml (systemd timers, or cron)."""


def _pick(names: tuple[str, ...], all_: bool) -> list[str]:
    from netzops.runner import schedules

    known = schedules.load_all()
    if all_:
        return sorted(known)
    if not names:
        raise BadInput("name a schedule (or --all); `netzops schedule list` shows them")
    for name in names:
        schedules.load(name)
    return list(names)


@schedule.command()
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="every schedule in the file")
@click.option(
    "--unit-dir",
    type=click.Path(path_type=Path),
    help="where to write the units [default: /etc/systemd/system as root, else "
    "~/.config/systemd/user]",
)
@click.option("--env-file", default=DEFAULT_ENV_FILE, show_default=True, help="secrets' env file")
@click.option("--cron", is_flag=True, help="a cron.d file instead of systemd units")
@click.option(
    "--cron-dir",
    type=click.Path(path_type=Path),
    default=Path("/etc/cron.d"),
    show_default=True,
    help="where --cron writes netzops-<name>",
)
@click.option("--no-verify", is_flag=True, help="skip systemd-analyze verify")
def install(
    names: tuple[str, ...],
    all_: bool,
    unit_dir: Path | None,
    env_file: str,
    cron: bool,
    cron_dir: Path,
    no_verify: bool,
) -> None:
    """Write and check the units of schedules NAMES; enable the timers when systemd runs."""
    from netzops.runner import schedules

    try:
        chosen = [schedules.load(n) for n in _pick(names, all_)]
    except BadInput as exc:
        _fail(str(exc))
        return
    for s in chosen:
        if cron:
            cron_dir.mkdir(parents=True, exist_ok=True)
            path = cron_dir / f"netzops-{s.name}"
            path.write_text(
                f"# netzops schedule {s.name} (parameters/schedules.yaml)\n"
                + schedules.cron_line(s)
            )
            click.echo(f"{s.name}: {path}: {s.cron}")
            continue
        folder = unit_dir or schedules.unit_dir()
        paths = schedules.write_units(s, folder, env_file)
        if not no_verify:
            said = schedules.verify(paths)
            if said:
                for p in paths:
                    p.unlink()
                _fail(f"systemd-analyze verify rejected {s.unit}: {said}")
        click.echo(f"{s.name}: {paths[1]} OnCalendar={s.on_calendar}")
        if unit_dir is None and schedules.systemd_running():
            schedules.systemctl("daemon-reload")
            done = schedules.systemctl("enable", "--now", f"{s.unit}.timer")
            click.echo(f"{s.name}: enabled" if done.returncode == 0 else done.stderr.strip())
        else:
            click.echo(f"{s.name}: enable with: systemctl enable --now {s.unit}.timer")


@schedule.command(name="list")
@click.option("--unit-dir", type=click.Path(path_type=Path), help="where units were written")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
def list_(unit_dir: Path | None, as_json: bool) -> None:
    """The schedules, when they run, whom they tell, and whether their timer is installed."""
    from netzops.runner import schedules

    try:
        known = schedules.load_all()
    except BadInput as exc:
        _fail(str(exc))
        return
    there = set(schedules.installed(unit_dir or schedules.unit_dir()))
    for s in known.values():
        tells = [c for c in ("email", "webhook") if getattr(s, c) is not None]
        row = {
            "name": s.name,
            "report": s.report,
            "target": s.target,
            "on_calendar": s.on_calendar,
            "cron": s.cron,
            "notify_at": s.notify_at,
            "tells": tells,
            "installed": s.name in there,
        }
        if as_json:
            click.echo(json.dumps(row, sort_keys=True))
        else:
            click.echo(
                f"{s.name:<20} {s.report} on {s.target:<10} {s.on_calendar:<22} "
                f"tell {'+'.join(tells) or 'nobody'} at ≥{s.notify_at}  "
                f"{'installed' if s.name in there else 'not installed'}"
            )


@schedule.command()
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="every installed schedule")
@click.option("--unit-dir", type=click.Path(path_type=Path), help="where units were written")
@click.option("--cron-dir", type=click.Path(path_type=Path), default=Path("/etc/cron.d"))
def remove(names: tuple[str, ...], all_: bool, unit_dir: Path | None, cron_dir: Path) -> None:
    """Stop and delete the units (and cron.d file) of schedules NAMES."""
    from netzops.runner import schedules

    folder = unit_dir or schedules.unit_dir()
    chosen = schedules.installed(folder) if all_ else list(names)
    if not chosen:
        _fail("name a schedule (or --all)")
    for name in chosen:
        if unit_dir is None and schedules.systemd_running():
            schedules.systemctl("disable", "--now", f"{schedules.UNIT_PREFIX}{name}.timer")
        gone = schedules.remove_units(name, folder)
        cron = cron_dir / f"netzops-{name}"
        if cron.exists():
            cron.unlink()
            gone.append(cron)
        click.echo(
            f"{name}: removed {', '.join(str(p) for p in gone) or 'nothing (not installed)'}"
        )


def after_report(
    report: str,
    target_name: str,
    runs: list[RunResult],
    page: Path,
    notify: str | None,
    prometheus: Path | None,
) -> list[str]:
    """What `netzops report` does after its runs: the Prometheus textfile, then the
    schedule's notification; returns one line per thing done."""
    from netzops.runner import notify as notifying
    from netzops.runner import schedules, summary, textfile
    from netzops.targets import load_target

    target = load_target(target_name)
    records = [summary.load_record(r.name, r.status, r.worst, r.sidecar) for r in runs]
    started = min(
        (datetime.fromisoformat(str(r.side["started"])) for r in records if r.side.get("started")),
        default=datetime.now(UTC),
    )
    items = summary.report_findings(target, records, started, page.parent)
    findings = [i.finding for i in items]
    done = []
    if prometheus is not None:
        count = textfile.write(
            prometheus,
            summary.merged_metrics(records),
            findings,
            target.name,
            report,
            datetime.now(UTC),
        )
        done.append(f"prometheus: {count} samples in {prometheus}")
    if notify:
        chosen = schedules.load(notify)
        message = notifying.Message(
            notifying.subject(report, target.name, notifying.due(findings, chosen.threshold)),
            notifying.due(findings, chosen.threshold),
            page.read_text(),
            page,
            [r.html for r in records],
        )
        sent = notifying.notify(chosen, message, target.scrubber())
        done += [f"notify: {line}" for line in sent]
    return done

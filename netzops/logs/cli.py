"""`netzops logs scan PATH… [--since] [--until] [--json]`: the log analysis of a live run
over log files — a file, or a folder of rotated and gzipped logs (evidence archives,
exported `docker logs -t` output, a service's own log files) — for post-mortems that need
logs the engine no longer has."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.group()
def logs() -> None:
    """Log analysis of files and folders (rotated, gzipped)."""


@logs.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--since", help="only lines at or after this time (RFC 3339, Unix seconds, 1h30m)")
@click.option("--until", help="only lines before this time (same grammar)")
@click.option("--json", "as_json", is_flag=True, help="one JSON object (raw numbers)")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="processes scanning at once (default: the usable cores for 64 MiB or more, else 1)",
)
def scan(
    paths: tuple[Path, ...],
    since: str | None,
    until: str | None,
    as_json: bool,
    workers: int | None,
) -> None:
    """Every log analysis (errors, slow queries, failed logins, out of memory, requests and
    5xx per minute, nginx status and request time) in one streaming pass over PATHS."""
    from netzops.errors import BadInput
    from netzops.logs.files import log_files, scan_files
    from netzops.logs.scan import stamp_of, summary
    from netzops.times import parse_time

    try:
        start, end = parse_time(since), parse_time(until)
    except (BadInput, ValueError) as exc:
        click.echo(f"netzops: {exc}", err=True)
        sys.exit(2)
    files = log_files(paths)
    found = summary(scan_files(files, stamp_of(start), stamp_of(end), workers=workers))
    if as_json:
        click.echo(json.dumps({"files": [str(f) for f in files], **found}, allow_nan=False))
        return
    click.echo(f"{len(files)} file(s), {found['lines']} lines, {found['bytes']} bytes")
    for key in (
        "errors",
        "slow_queries",
        "slow_query_non_finite",
        "slow_query_max_ms",
        "slow_query_p95_ms",
        "failed_login_lines",
        "out_of_memory",
        "requests",
        "errors_5xx",
        "error_rate_percent",
        "nginx_requests",
        "nginx_error_rate_percent",
        "nginx_rt_p50_ms",
        "nginx_rt_p95_ms",
    ):
        value = found[key]
        click.echo(f"  {key:<26} {'-' if value is None else value}")
    by_ip = found["failed_logins_by_ip"]
    assert isinstance(by_ip, dict)
    for ip, count in list(by_ip.items())[:5]:
        click.echo(f"  failed logins from {ip:<15} {count}")

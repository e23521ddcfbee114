"""Scheduled reports: parameters/schedules.yaml says which report runs on which target, when,
and whom to tell; `netzops schedule install` turns each into a systemd timer + service (or
a cron.d line on hosts without systemd). The scheduled unit runs the same command as a
person would: `netzops report <report> --target <target> --notify <schedule>`.

    schedules:
      daily-sandbox:
        report: daily
        target: sandbox
        every: day            # hour | day | week
        at: "06:00"           # local time of the host (minute only for `hour`: ":15")
        weekday: Mon          # for `week`
        notify_at: P1         # tell when a finding is at least this urgent
        email: {to: [...], from: ..., smtp: {host, port, starttls, user, password: {env: ...}}}
        webhook: {url: {env: NETZOPS_WEBHOOK_URL}}   # Slack/Mattermost incoming webhook
        prometheus: /var/lib/node_exporter/textfile/netzops.prom

Secrets (the SMTP password, the webhook URL with its token) are references (`env`/`file`),
never values; the units carry no secret either (EnvironmentFile names where they live).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from netzops.errors import BadInput
from netzops.findings import Priority
from netzops.paths import parameters_dir, project_root, read_mapping
from netzops.secrets import SecretRef
from netzops.targets import NAME

ENV = "NETZOPS_SCHEDULES"  # another schedules file (tests, a second host)
UNIT_PREFIX = "netzops-report-"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Smtp(_Strict):
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True  # STARTTLS before AUTH (port 587); False only for a local relay
    user: str | None = None
    password: SecretRef | None = None
    timeout_s: float = 30.0
    cafile: str | None = None  # a CA bundle for the relay's certificate (default: system)


class Email(_Strict):
    to: list[str] = Field(min_length=1)
    sender: str = Field(alias="from")
    smtp: Smtp
    attach_records: bool = True  # the records' HTML as attachments


class Webhook(_Strict):
    url: SecretRef  # the incoming-webhook URL holds a token: a secret
    timeout_s: float = 10.0
    verify_tls: bool = True


class Schedule(_Strict):
    name: str
    report: str
    target: str
    every: Literal["hour", "day", "week"] = "day"
    at: str = "06:00"
    weekday: str = "Mon"
    notify_at: str = "P1"
    email: Email | None = None
    webhook: Webhook | None = None
    prometheus: str | None = None

    @field_validator("report", "target")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.match(value):
            raise ValueError(f"invalid name {value!r}")
        return value

    @field_validator("at", mode="before")
    @classmethod
    def _at_text(cls, value: object) -> object:
        if isinstance(value, int):  # YAML 1.1 reads 7:30 as the sexagesimal number 450
            raise ValueError(f'write the time in quotes, e.g. at: "07:30" (YAML read {value})')
        return value

    @field_validator("at")
    @classmethod
    def _at(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3])?:[0-5]\d", value):
            raise ValueError(f"`at` must be HH:MM (or :MM for every hour), not {value!r}")
        return value

    @field_validator("weekday")
    @classmethod
    def _weekday(cls, value: str) -> str:
        if value not in WEEKDAYS:
            raise ValueError(f"weekday must be one of {', '.join(WEEKDAYS)}")
        return value

    @field_validator("notify_at")
    @classmethod
    def _priority(cls, value: str) -> str:
        return Priority.parse(value).name

    @property
    def threshold(self) -> Priority:
        return Priority.parse(self.notify_at)

    @property
    def unit(self) -> str:
        return UNIT_PREFIX + self.name

    def _hour_minute(self) -> tuple[int | None, int]:
        hour, minute = self.at.split(":")
        return (int(hour) if hour else None), int(minute)

    @property
    def on_calendar(self) -> str:
        """The systemd OnCalendar expression ("*-*-* 06:00:00", "Mon *-*-* 06:00:00")."""
        hour, minute = self._hour_minute()
        if self.every == "hour":
            return f"*-*-* *:{minute:02d}:00"
        day = f"{self.weekday} " if self.every == "week" else ""
        return f"{day}*-*-* {hour or 0:02d}:{minute:02d}:00"

    @property
    def cron(self) -> str:
        """The five cron time fields ("0 6 * * *", "0 6 * * 1")."""
        hour, minute = self._hour_minute()
        if self.every == "hour":
            return f"{minute} * * * *"
        dow = str(WEEKDAYS.index(self.weekday) + 1) if self.every == "week" else "*"
        return f"{minute} {hour or 0} * * {dow}"


def schedules_file() -> Path:
    env = os.environ.get(ENV)
    return Path(env).resolve() if env else parameters_dir() / "schedules.yaml"


def load_all(path: Path | None = None) -> dict[str, Schedule]:
    """Every schedule in the file; BadInput naming the file and the first problem."""
    path = path or schedules_file()
    if not path.is_file():
        raise BadInput(f"no schedules file: {path} does not exist")
    data = read_mapping(path, "schedules file")
    entries = data.get("schedules") or {}
    if not isinstance(entries, dict):
        raise BadInput(f"{path}: `schedules` must map names to schedules")
    found = {}
    for name, body in entries.items():
        if not NAME.match(str(name)):
            raise BadInput(f"{path}: invalid schedule name {name!r}")
        try:
            found[str(name)] = Schedule(name=str(name), **(body or {}))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise BadInput(f"{path}: schedule {name}: {where}: {err['msg']}") from None
    return found


def load(name: str, path: Path | None = None) -> Schedule:
    schedules = load_all(path)
    if name not in schedules:
        known = ", ".join(sorted(schedules)) or "none"
        raise BadInput(f"no schedule {name!r} in {path or schedules_file()} (known: {known})")
    return schedules[name]


def command(schedule: Schedule) -> list[str]:
    """The command the unit runs: the same `netzops report …` a person types."""
    exe = Path(sys.argv[0]).resolve() if Path(sys.argv[0]).name == "netzops" else None
    netzops = exe if exe and exe.exists() else project_root() / ".venv" / "bin" / "netzops"
    args = [str(netzops), "report", schedule.report, "--target", schedule.target]
    args += ["--notify", schedule.name]
    if schedule.prometheus:
        args += ["--prometheus", schedule.prometheus]
    return args


def service_unit(schedule: Schedule, env_file: str) -> str:
    """The systemd service: one report run; exit 1 (findings) is a success for systemd —
    the notification tells people — exit 2/3 (bad input, failed run) fail the unit."""
    root = project_root()
    env = {ENV: str(schedules_file())}
    environment = " ".join(f'"{k}={v}"' for k, v in env.items())
    return (
        "[Unit]\n"
        f"Description=netzops {schedule.report} report on {schedule.target} "
        f"(schedule {schedule.name})\n"
        "Wants=network-online.target\nAfter=network-online.target\n\n"
        "[Service]\nType=oneshot\n"
        f"WorkingDirectory={root}\n"
        f"Environment={environment}\n"
        f"EnvironmentFile=-{env_file}\n"
        f"ExecStart={shlex.join(command(schedule))}\n"
        "SuccessExitStatus=1\nTimeoutStartSec=30min\nNice=10\n"
    )


def timer_unit(schedule: Schedule) -> str:
    return (
        "[Unit]\n"
        f"Description=netzops {schedule.report} report on {schedule.target}, every "
        f"{schedule.every} (schedule {schedule.name})\n\n"
        "[Timer]\n"
        f"OnCalendar={schedule.on_calendar}\n"
        "Persistent=true\nRandomizedDelaySec=60\n"
        f"Unit={schedule.unit}.service\n\n"
        "[Install]\nWantedBy=timers.target\n"
    )


def cron_line(schedule: Schedule, user: str | None = "root") -> str:
    """The crontab line (cron.d format with `user`; a user crontab without)."""
    log = project_root() / "outputs" / f"schedule-{schedule.name}.log"
    who = f" {user}" if user else ""
    run = (
        f"cd {shlex.quote(str(project_root()))} && {ENV}={shlex.quote(str(schedules_file()))} "
        f"{shlex.join(command(schedule))} >> {shlex.quote(str(log))} 2>&1"
    )
    return f"{schedule.cron}{who} {run}\n"


def unit_dir() -> Path:
    """Where units go: /etc/systemd/system for root, ~/.config/systemd/user otherwise."""
    if os.geteuid() == 0:
        return Path("/etc/systemd/system")
    return Path.home() / ".config" / "systemd" / "user"


def systemd_running() -> bool:
    return Path("/run/systemd/system").is_dir() and shutil.which("systemctl") is not None


def verify(paths: list[Path]) -> str:
    """`systemd-analyze verify` on the unit files: '' when it accepts them (no complaint
    at all), else what it said; BadInput when systemd-analyze is missing."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        raise BadInput("systemd-analyze not found (Debian: apt-get install systemd)")
    done = subprocess.run(
        [tool, "verify", *[str(p) for p in paths]],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    said = (done.stdout + done.stderr).strip()
    return said if done.returncode or said else ""


def write_units(schedule: Schedule, folder: Path, env_file: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    service = folder / f"{schedule.unit}.service"
    timer = folder / f"{schedule.unit}.timer"
    service.write_text(service_unit(schedule, env_file))
    timer.write_text(timer_unit(schedule))
    return [service, timer]


def installed(folder: Path) -> list[str]:
    """Names of the schedules whose timers are in `folder`."""
    if not folder.is_dir():
        return []
    return sorted(p.stem[len(UNIT_PREFIX) :] for p in folder.glob(f"{UNIT_PREFIX}*.timer"))


def remove_units(name: str, folder: Path) -> list[Path]:
    gone = []
    for suffix in (".timer", ".service"):
        path = folder / f"{UNIT_PREFIX}{name}{suffix}"
        if path.exists():
            path.unlink()
            gone.append(path)
    return gone


def systemctl(*args: str) -> subprocess.CompletedProcess[str]:
    user = [] if os.geteuid() == 0 else ["--user"]
    return subprocess.run(
        ["systemctl", *user, *args], capture_output=True, text=True, timeout=60, check=False
    )

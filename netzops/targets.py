"""Targets: one YAML file per stack in parameters/targets/, holding no secrets."""

from __future__ import annotations

import os
import re
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from netzops.errors import BadInput, UnknownService, UnknownTarget
from netzops.findings import Band, thresholds
from netzops.paths import project_root, targets_dir
from netzops.secrets import Scrubber, SecretRef
from netzops.yamltext import TextKeepingLoader, typed

ALL = "all"  # the word for every service, as notebooks and the CLI take it
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Compose(_Strict):
    project: str  # as compose names it: see `_compose_name`
    file: str | None = None  # needed for scale-up and the config check
    command: list[str] | None = None  # e.g. ["docker", "compose"]; detected when absent
    env: dict[str, str] = Field(default_factory=dict)  # compose variables; never secrets

    @field_validator("project")
    @classmethod
    def _compose_name(cls, value: str) -> str:
        """The project name as compose normalises it before labelling containers (v1 and
        v2: lower case, only a-z 0-9 _ -), so `NetzWaechter` finds `netzwaechter`'s
        containers instead of none."""
        name = re.sub(r"[^a-z0-9_-]", "", value.lower())
        if not name or not name[0].isalnum():
            raise ValueError(f"not a compose project name: {value!r}")
        return name

    def environment(self) -> dict[str, str]:
        """The compose variables with `~` expanded, over this process's environment."""
        return {**os.environ, **{k: os.path.expanduser(v) for k, v in self.env.items()}}


class Postgres(_Strict):
    host: str = "127.0.0.1"
    port: int = 5432
    dbname: str = "netzwaechter"
    user: str = "postgres"
    password_secret: str = "postgres_password"
    monitor_user: str | None = None
    monitor_password_secret: str | None = None
    connect_timeout_s: int = 5
    statement_timeout_ms: int = 30_000


class Redis(_Strict):
    host: str = "127.0.0.1"
    port: int = 6379
    db: int = 0
    password_secret: str | None = "redis_password"
    timeout_s: float = 5.0


class Http(_Strict):
    frontend_url: str
    backend_url: str
    verify_tls: bool = True
    timeout_s: float = 5.0
    #: Paths under frontend_url whose response times are sampled, by name: the page, the
    #: runbook's API check (`curl … /api/users`) and the database-heavy endpoint.
    samples: dict[str, str] = {"page": "/", "api": "/api/users", "sites": "/api/sites"}


class Tls(_Strict):
    name: str
    host: str
    port: int = 443
    server_name: str | None = None


class Retention(_Strict):
    """How many backups to keep (grandfather-father-son): the newest backup of each of the
    last `daily` days, `weekly` ISO weeks and `monthly` months is kept; the rest may be
    pruned. Defaults are our choice (a week of dailies, a month of weeklies, half a year)."""

    daily: int = Field(default=7, ge=1)
    weekly: int = Field(default=4, ge=0)
    monthly: int = Field(default=6, ge=0)


class Backups(_Strict):
    """Where the target's database backups live and how many to keep. `dir` None: the
    folder `<outputs>/<target>/backups` (outside the git tree); `~` is expanded."""

    dir: str | None = None
    retention: Retention = Retention()
    #: where pg_restore -j reads its copy inside the database container (seekable, on disk)
    server_scratch: str = "/var/lib/postgresql/data"


class Target(_Strict):
    """A stack netzops operates: where its parts are and how to reach them."""

    name: str
    description: str = ""
    services: list[str] = Field(
        default_factory=lambda: ["frontend", "backend", "postgres", "redis"]
    )
    compose: Compose
    docker_host: str | None = None  # None: DOCKER_HOST or the local socket
    postgres: Postgres = Postgres()
    backups: Backups = Backups()
    redis: Redis = Redis()
    http: Http
    tls: list[Tls] = Field(default_factory=list)
    secrets: dict[str, SecretRef] = Field(default_factory=dict)
    thresholds: dict[str, dict[str, float]] = Field(default_factory=dict)
    allow_destructive: bool = False
    allowed_actions: list[str] = Field(default_factory=list)
    parameters: dict[str, dict[str, Any]] = Field(default_factory=dict)  # per notebook

    @cached_property
    def bands(self) -> dict[str, Band]:
        return thresholds(self.thresholds)

    def secret(self, name: str) -> str:
        """Resolve the secret `name` in memory (environment variable or file)."""
        try:
            ref = self.secrets[name]
        except KeyError:
            raise BadInput(f"target {self.name!r} has no secret named {name!r}") from None
        return ref.resolve(project_root())

    def resolve_secrets(self) -> list[str]:
        """Resolve every secret that can be (so that records can be scrubbed of them)."""
        values = []
        for ref in self.secrets.values():
            try:
                values.append(ref.resolve(project_root()))
            except BadInput:
                continue
        return values

    def scrubber(self) -> Scrubber:
        """Masks this target's secrets (those that resolve now), in every encoding: the one
        owner of what a record, side-car, ledger line, mail or evidence file about this
        target is scrubbed of. Resolved afresh on each call, so it depends on nothing another
        call resolved before, and another target's secrets are not in it."""
        return Scrubber(self.resolve_secrets())

    def check_service(self, service: str) -> str:
        """`service` if the target has it, else UnknownService naming the known ones."""
        if service not in self.services:
            known = ", ".join(self.services)
            raise UnknownService(f"unknown service {service!r}; {self.name} has: {known}")
        return service

    def service_or_all(self, service: str | None) -> str | None:
        """A known service, or None for every service (`None`, `""` or `"all"`)."""
        return None if service in (None, "", ALL) else self.check_service(str(service))


def checked_name(name: str) -> str:
    """`name` when it is a valid target name (a file name part, no path), else BadInput."""
    if not isinstance(name, str) or not NAME.match(name):
        raise BadInput(f"invalid target name {name!r}: use lower-case letters, digits, - and _")
    return name


def load_target(name: str, folder: Path | None = None) -> Target:
    """The target called `name`, read safely from `<folder>/<name>.yaml`."""
    path = (folder or targets_dir()) / f"{checked_name(name)}.yaml"
    if not path.is_file():
        known = ", ".join(list_targets(folder)) or "none"
        raise UnknownTarget(f"no target {name!r} ({path} does not exist); known: {known}")
    raw = yaml.load(path.read_text(), Loader=TextKeepingLoader)  # a SafeLoader
    data = (  # notebook parameters keep their written text, like parameter files
        {k: v if k == "parameters" else typed(v) for k, v in raw.items()}
        if isinstance(raw, dict)
        else typed(raw)
    )
    target = parse_target(data, str(path))
    if target.name != name:
        raise BadInput(
            f"{path}: its name is {target.name!r}; a target file must carry the "
            f"name it is stored under ({name!r})"
        )
    return target


def parse_target(data: Any, origin: str = "target") -> Target:
    if not isinstance(data, dict):
        raise BadInput(f"{origin}: a target must be a mapping")
    try:
        return Target(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BadInput(f"{origin}: {where}: {first['msg']}") from None


def list_targets(folder: Path | None = None) -> list[str]:
    return sorted(p.stem for p in (folder or targets_dir()).glob("*.yaml") if NAME.match(p.stem))

"""The one idiom of every check, and the registry of check names.

A check is a function whose body returns an `Outcome` (rows, findings, metrics, notes). Each
domain makes its decorator once with `checker(domain, errors, down)`:

    check = checker("cache", (redis.RedisError,), unavailable)

    @check("redis_memory", "Redis memory", emits=("redis_maxmemory",))
    def memory(client, target) -> Outcome: ...

The decorator registers the check's name (and the other finding names it `emits`), turns an
`errors` exception into `down(name, title, exc)` — the part that is down as a finding of this
check, never an exception that ends the record — and builds the `Result`. The title may name
the call's arguments, `"Logs — {service}"` (None shows as "all"). `registry()` lists every
name a finding can carry; `data/procedures.yaml` is validated against it.
"""

from __future__ import annotations

import functools
import inspect
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ParamSpec, Protocol

from netzops.findings import Finding
from netzops.results import Result

P = ParamSpec("P")
Down = Callable[[str, str, Exception], Result]


@dataclass
class Outcome:
    """What a check found; its decorator turns it into the check's Result. `title`, when
    set, replaces the decorator's (for titles that depend on what was found)."""

    records: Sequence[Any] = ()
    findings: Sequence[Finding] = ()
    metrics: Mapping[str, float] = field(default_factory=dict)
    notes: Sequence[str] = ()
    title: str | None = None


@dataclass(frozen=True)
class CheckInfo:
    """A registered check: its name, its domain, its title template and what it emits."""

    name: str
    domain: str
    title: str
    emits: tuple[str, ...] = ()


_REGISTRY: dict[str, CheckInfo] = {}


def register(name: str, domain: str, title: str, emits: Sequence[str] = ()) -> CheckInfo:
    """Record a check name; the same name from two domains is a programming error."""
    info = CheckInfo(name, domain, title, tuple(emits))
    known = _REGISTRY.get(name)
    if known is not None and known.domain != domain:
        raise ValueError(f"check {name!r} registered by {known.domain} and {domain}")
    _REGISTRY[name] = info
    return info


def registry() -> dict[str, CheckInfo]:
    """Every registered check by name (import the domains first to fill it)."""
    return dict(_REGISTRY)


def finding_names() -> set[str]:
    """Every name a finding may carry: the checks and the names they emit."""
    return {name for info in _REGISTRY.values() for name in (info.name, *info.emits)}


class _Shown(string.Formatter):
    """Formats a title from the call's arguments; None reads as "all"."""

    def format_field(self, value: Any, format_spec: str) -> str:
        return "all" if value is None else super().format_field(value, format_spec)


def title_of(template: str, arguments: Mapping[str, Any]) -> str:
    """`template` filled from `arguments` (attribute access allowed: `{target.name}`)."""
    try:
        return _Shown().vformat(template, (), dict(arguments))
    except (KeyError, AttributeError, IndexError):
        return template


class Check(Protocol):
    """A domain's check decorator: `@check(name, title, emits=(...))`."""

    def __call__(
        self, name: str, title: str, emits: Sequence[str] = ()
    ) -> Callable[[Callable[P, Outcome]], Callable[P, Result]]: ...


def checker(domain: str, errors: tuple[type[Exception], ...], down: Down) -> Check:
    """The check decorator of `domain`: `errors` raised by a body become `down(...)`; a
    `down` with an `arguments` parameter also gets the call's arguments by name (to say
    which server was down, e.g. the target's engine address)."""
    wants_arguments = "arguments" in inspect.signature(down).parameters

    def check(
        name: str, title: str, emits: Sequence[str] = ()
    ) -> Callable[[Callable[P, Outcome]], Callable[P, Result]]:
        register(name, domain, title, emits)

        def wrap(body: Callable[P, Outcome]) -> Callable[P, Result]:
            signature = inspect.signature(body)

            @functools.wraps(body)
            def run(*args: P.args, **kwargs: P.kwargs) -> Result:
                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                shown = title_of(title, bound.arguments)
                try:
                    out = body(*args, **kwargs)
                except errors as exc:
                    if wants_arguments:
                        return down(name, shown, exc, arguments=bound.arguments)  # type: ignore[call-arg]
                    return down(name, shown, exc)
                return Result.of(
                    name, out.title or shown, out.records, out.findings, out.metrics, out.notes
                )

            return run

        return wrap

    return check

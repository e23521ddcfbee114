"""An incident: opened with a sweep, updated with status updates, kept as a record.

    outputs/incidents/<id>.json   {"id", "target", "severity", "detected", "start", "status",
                                   "affected", "changes", "findings", "updates": [...]}

Opening runs the sweep (`triage.sweep`), takes its worst finding as the severity (P0–P3,
overridable; no finding → P3), marks the detection time, lists the affected services and
users (5xx answers, failing endpoints and distinct clients from nginx's access log since the
start) and the recent changes (24 h of container recreations, image changes, restarts from the
journal and guarded actions from the ledger). Every run with the id appends a status update;
each update is also an audit entry (`incident_update`) that the run's result carries into the
ledger (see `audit`). The runbook's phases, their budgets
and the communication template are data: netzops/data/incident.yaml.
"""

from __future__ import annotations

import fcntl
import getpass
import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from docker import DockerClient

from netzops import containers, logs, triage
from netzops.containers.status import ENGINE_ERRORS, engine_error
from netzops.errors import BadInput
from netzops.findings import Priority, worst
from netzops.incidents import journal as jr
from netzops.incidents import recorder
from netzops.incidents import timeline as tl
from netzops.incidents.actions import check_procedure
from netzops.paths import outputs_dir
from netzops.printable import printable
from netzops.results import Result, json_safe
from netzops.secrets import scrub_tree
from netzops.targets import Target, load_target

STATUSES = ("Investigating", "Identified", "Monitoring", "Resolved")
ID = re.compile(r"^INC-\d{8}-\d{6}$")
LOOKBACK = timedelta(minutes=15)  # impact looked for before detection: Detection + Triage
CHANGES = timedelta(hours=24)  # "recent changes" (runbook Triage: review recent changes)
EPISODE_GAP_S = 90  # 5xx further apart start a new error episode (as the post-mortem's)
CHANGE_ACTIONS = {"create", "destroy", "restart", "oom", "kill"}
COMMANDER_MAX = 100  # a name or handle


@cache
def runbook() -> dict[str, Any]:
    """Phases (name, from_min, to_min, steps), status → phase, the template (data file)."""
    text = resources.files("netzops").joinpath("data/incident.yaml").read_text()
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def folder() -> Path:
    return outputs_dir() / "incidents"


def path_of(incident_id: str) -> Path:
    if not ID.match(incident_id):  # not echoed: a password pasted into the wrong window
        # arrives here upper-cased (`normal_id`), where no scrubber would know it
        raise BadInput(
            f"not an incident id (INC-YYYYMMDD-HHMMSS): {len(incident_id)} characters given"
        )
    return folder() / f"{incident_id}.json"


def normal_id(incident_id: str) -> str:
    """The id as pasted, without surrounding blanks and in upper case (`inc-…` → `INC-…`)."""
    return incident_id.strip().upper()


RECORD_KEYS = ("id", "target", "severity", "detected", "start", "status", "affected", "updates")


def load(incident_id: str) -> dict[str, Any]:
    """The incident record; BadInput when there is none with that id, or when its file is
    not an incident record (cut short, not JSON, not UTF-8): named, never changed."""
    incident_id = normal_id(incident_id)
    path = path_of(incident_id)
    if not path.exists():
        raise BadInput(f"no incident {incident_id}: {path} does not exist")
    try:
        record = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        why = str(exc).splitlines()[0][:120]
        raise BadInput(
            f"incident {incident_id}: {path} is not readable JSON ({why}); "
            "restore it from a backup, it was left as it is"
        ) from None
    what = _not_a_record(record, incident_id)
    if what:
        raise BadInput(
            f"incident {incident_id}: {path} is not an incident record ({what}); "
            "restore it from a backup, it was left as it is"
        )
    found: dict[str, Any] = record
    return found


def _not_a_record(record: Any, incident_id: str) -> str:
    """Why `record` is no incident record with that id ("" when it is one)."""
    if not isinstance(record, dict):
        return f"a JSON {type(record).__name__}, not an object"
    missing = [k for k in RECORD_KEYS if k not in record]
    if missing:
        return f"no {', '.join(missing)}"
    if not isinstance(record["updates"], list) or not isinstance(record["affected"], dict):
        return "updates or affected of the wrong type"
    if record["id"] != incident_id:
        return f"it holds {str(record['id'])[:40]!r}"
    if record["status"] not in STATUSES:
        return f"status {str(record['status'])[:40]!r}"
    times = [(key, record[key]) for key in ("detected", "start")]
    times += [("resolved", record["resolved"])] if record.get("resolved") else []
    for n, update in enumerate(record["updates"]):
        if not isinstance(update, dict) or not {"at", "status", "summary"} <= update.keys():
            return f"update {n + 1} has no at, status or summary"
        times.append((f"update {n + 1}'s at", update["at"]))
    for key, value in times:
        try:
            jr.parse_time(str(value))
        except ValueError:
            return f"{key} {str(value)[:40]!r} is no time"
    return ""


@contextmanager
def _locked() -> Iterator[None]:
    """One writer of incident records at a time (across processes): two updates in the same
    second both land, two opens in the same second never overwrite each other."""
    folder().mkdir(parents=True, exist_ok=True)
    with (folder() / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _save(record: dict[str, Any], target: Target) -> Path:
    """Write the record strict JSON, scrubbed of the target's secrets in its values (a
    summary or log-derived text may quote one) and then in the text; replaced whole (a
    temporary file of this process, then a rename), so a reader never sees half of it."""
    path = path_of(record["id"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp")
    clean = target.scrubber()
    text = json.dumps(scrub_tree(json_safe(record), clean), indent=2, allow_nan=False)
    tmp.write_text(clean(text) + "\n")
    tmp.replace(path)
    return path


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat()


def audit(record: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """The update as an audit entry: carried by the run's result into the run's ledger line
    (the runner keeps `action`, `subject`, `outcome`, `who`, `at` of each), so every update
    is a ledger entry without this layer writing the runner's ledger itself."""
    return {
        "action": "incident_update",
        "target": record["target"],
        "subject": record["id"],
        "dry_run": False,
        "fingerprint": f"{record['id']}#{len(record['updates'])}",
        "outcome": f"{update['status']}: {update['summary']}"[:240],
        "verified": None,
        "who": update["commander"] or getpass.getuser(),
        "at": update["at"],
        "severity": record["severity"],
    }


# --- affected users and recent changes ------------------------------------------------------


def affected_users(client: DockerClient, target: Target, since: datetime) -> dict[str, Any]:
    """From nginx's access log since `since`: requests, 5xx answers, the first 5xx of the
    latest error episode, failing endpoints and distinct clients (all / with a 5xx). When the
    log cannot be read (engine down, no such container) the counts are empty and
    `unreadable` says why, so that nobody reads "0 failed" as "no impact"."""
    frontend = "frontend" if "frontend" in target.services else target.services[0]
    requests = errors = 0
    first: str | None = None
    clients: set[str] = set()
    hurt: set[str] = set()
    failing: Counter[str] = Counter()
    unreadable = ""
    try:
        sources = logs.read(client, target, frontend, since=since)
        unreadable = "" if sources else f"no {frontend} container"
    except ENGINE_ERRORS as exc:
        sources, unreadable = [], f"Docker engine: {engine_error(exc)}"
    last: str | None = None
    for minute in sorted((e for src in sources for e in tl.access(src)), key=lambda e: e.time):
        requests += minute.data["requests"]
        errors += minute.data["errors_5xx"]
        if minute.data["first_5xx"]:  # the latest episode's start (5xx < 90 s apart)
            gap = _seconds(last, minute.data["first_5xx"])
            first = minute.data["first_5xx"] if first is None or gap > EPISODE_GAP_S else first
            last = minute.data["last_5xx"]
        hurt.update(minute.data["clients_5xx"])
        failing.update(minute.data["failing"])
    for src in sources:
        clients.update(tl._client(line.partition(b" ")[2]) for line in src.blob.splitlines())
    found: dict[str, Any] = {"unreadable": f"{frontend} access log: {unreadable}"}
    return (found if unreadable else {}) | {
        "since": _iso(since),
        "requests": requests,
        "errors_5xx": errors,
        "first_5xx": first,
        "clients": len(clients - {""}),
        "clients_5xx": len(hurt),
        "failing_endpoints": dict(failing.most_common(10)),
    }


def _seconds(a: str | None, b: str) -> float:
    return (jr.parse_time(b) - jr.parse_time(a)).total_seconds() if a else float("inf")


def affected_services(target: Target, results: list[Result]) -> list[str]:
    """Services named by a finding more urgent than P3 (subject or container name)."""
    named: set[str] = set()
    for f in triage.findings_from(results):
        if f.priority < Priority.P3:
            named.update(s for s in target.services if s in f.subject)
    return [s for s in target.services if s in named]


def recent_changes(target: Target, now: datetime) -> list[dict[str, str]]:
    """Recreations, image changes, restarts and kills (journal) and guarded actions that
    were carried out (ledger) in the 24 h before `now`, oldest first: rows {"time" (UTC,
    ms), "source" (journal | ledger), "service", "change"}. An image change is a service's
    container created from another image than its previous one, told by image ID (a rebuilt
    image under the same tag is a change; journal lines without an ID compare the name)."""
    start = now - CHANGES
    rows: list[dict[str, str]] = []
    images: dict[str, tuple[str, str | None]] = {}  # service → (image name, image ID)
    where = recorder.status(target.name).journal
    for line in jr.read(Path(where) if where else jr.journal_path(target.name)):
        action, service = line.get("action", ""), str(line.get("service", ""))
        if action == "create" and line.get("entry") == "event":
            new = (str(line.get("image", "")), line.get("image_id"))
            old = images.get(service)
            images[service] = new
            if old and _image_changed(old, new):
                action = f"image change {_image_text(old)} → {_image_text(new)}"
        if line["time"][:19] < _iso(start)[:19]:
            continue
        if action in CHANGE_ACTIONS or action.startswith("image") or line["entry"] == "gap":
            what = line["entry"] if line["entry"] == "gap" else action
            rows.append(
                {
                    "time": line["time"][:23],
                    "source": "journal",
                    "service": service,
                    "change": f"{what} {line.get('container', '')}".strip(),
                }
            )
    for a in tl.ledger_actions(outputs_dir() / "ledger.jsonl"):
        if a.get("action") == "incident_update" or a.get("dry_run"):
            continue
        if str(a.get("at", "")) >= _iso(start):
            rows.append(
                {
                    "time": str(a["at"])[:23],
                    "source": "ledger",
                    "service": str(a.get("subject")),
                    "change": f"{a.get('action')} by {a.get('who')}: {a.get('outcome')}",
                }
            )
    return sorted(rows, key=lambda r: r["time"])


def _image_changed(old: tuple[str, str | None], new: tuple[str, str | None]) -> bool:
    if old[1] and new[1]:
        return old[1] != new[1]
    return old[0] != new[0]


def _image_text(image: tuple[str, str | None]) -> str:
    name, ident = image
    return f"{name} ({ident.removeprefix('sha256:')[:12]})" if ident else name


# --- open and update -------------------------------------------------------------------------


def clean_text(text: str, target: Target) -> str:
    """A summary as it is kept: terminal escapes and control characters (but tab and line
    breaks) removed, lines without trailing blanks, no blank lines around it, and a secret
    of the target pasted into it masked (also in the record returned and shown)."""
    text = re.sub(r"\r\n?|[\u2028\u2029]", "\n", text)  # line breaks as \n
    text = printable(text)  # pasted from a coloured terminal: no escapes reach the ledger
    text = "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")
    return target.scrubber()(text)


def check_commander(commander: str) -> str:
    """The commander as kept (stripped); BadInput for a line break, a control character or
    more than COMMANDER_MAX characters (a name or handle goes on one line of the template)."""
    name = commander.strip()
    if printable(name, one_line=True) != name:
        raise BadInput("commander must be one line without control characters (a name or handle)")
    if len(name) > COMMANDER_MAX:
        raise BadInput(f"commander is a name or handle: at most {COMMANDER_MAX} characters")
    return name


def _check(status: str, next_update_minutes: float, severity: str) -> None:
    if status not in STATUSES:
        raise BadInput(f"unknown status {status!r}: use {', '.join(STATUSES)}")
    if not 0 < next_update_minutes <= 24 * 60:
        raise BadInput(f"next_update_minutes must be in (0, 1440], not {next_update_minutes}")
    if severity:
        try:
            Priority.parse(severity)
        except ValueError as exc:
            raise BadInput(str(exc)) from None


def check_inputs(
    target: Target,
    incident: str = "",
    status: str = "Investigating",
    commander: str = "",
    next_update_minutes: float = 30,
    severity: str = "",
    procedure: str = "",
    address: str = "",
) -> None:
    """The incident notebook's parameters checked as `respond` and `emergency` check them,
    touching nothing (no sweep, no file written): BadInput for a bad status, interval,
    severity, commander, procedure or address, an unknown or damaged incident, one of
    another target, or a Resolved one given another status. The runner calls it before the
    kernel starts (the notebook's `preflight` cell)."""
    _check(status, next_update_minutes, severity)
    check_commander(commander)
    check_procedure(procedure, address)
    if incident.strip():
        _may_update(load(incident), target, status)


def _update(
    status: str, summary: str, commander: str, minutes: float, now: datetime
) -> dict[str, Any]:
    return {
        "at": _iso(now),
        "status": status,
        "summary": summary,
        "commander": commander,
        "next_update": _iso(now + timedelta(minutes=minutes)) if status != "Resolved" else None,
    }


def open_incident(
    target: Target,
    status: str = "Investigating",
    summary: str = "",
    commander: str = "",
    next_update_minutes: float = 30,
    severity: str = "",
    now: datetime | None = None,
) -> tuple[dict[str, Any], list[Result]]:
    """Sweep, open and save a new incident; returns (record, the sweep's results)."""
    _check(status, next_update_minutes, severity)
    commander, summary = check_commander(commander), clean_text(summary, target)
    now = now or datetime.now(UTC)
    results = triage.sweep(target)
    findings = triage.findings_from(results)
    top = worst(findings)
    client = containers.connect(target)
    try:
        users = affected_users(client, target, now - LOOKBACK)
    finally:
        client.close()
    first = sorted(findings, key=lambda f: f.priority)[:1]
    text = summary or (f"{first[0].subject}: {first[0].summary}" if first else "no finding")
    record: dict[str, Any] = {
        "id": f"INC-{now:%Y%m%d-%H%M%S}",
        "target": target.name,
        "severity": Priority.parse(severity).name
        if severity
        else (Priority.P3 if top is None else top).name,
        "severity_from": "override" if severity else "sweep",
        "detected": _iso(now),
        "start": users["first_5xx"] or _iso(now),
        "status": status,
        "commander": commander,
        "affected": {"services": affected_services(target, results), "users": users},
        "changes": recent_changes(target, now),
        "findings": [f.to_dict() for f in sorted(findings, key=lambda f: f.priority)[:20]],
        "updates": [_update(status, text, commander, next_update_minutes, now)],
        "resolved": _iso(now) if status == "Resolved" else None,
    }
    with _locked():
        if path_of(record["id"]).exists():
            raise BadInput(
                f"incident {record['id']} was opened in the same second: update it with "
                f"incident={record['id']}, or open again"
            )
        _save(record, target)
    return record, results


def update_incident(
    target: Target,
    incident_id: str,
    status: str,
    summary: str = "",
    commander: str = "",
    next_update_minutes: float = 30,
    severity: str = "",
    now: datetime | None = None,
) -> dict[str, Any]:
    """Append a status update to an incident; returns the record. BadInput before anything
    changes for bad input, an incident of another target, or a Resolved incident whose
    update is not Resolved (a recurrence is a new incident: the post-mortem's window and TTR
    end at the resolution)."""
    _check(status, next_update_minutes, severity)
    commander, summary = check_commander(commander), clean_text(summary, target)
    incident_id = normal_id(incident_id)
    first = load(incident_id)
    _may_update(first, target, status)
    start = jr.parse_time(first["start"])
    client = containers.connect(target)
    try:
        users = affected_users(client, target, start)
    finally:
        client.close()
    with _locked():  # read again: an update saved meanwhile is kept
        record = load(incident_id)
        _may_update(record, target, status)
        now = now or datetime.now(UTC)
        commander = commander or record.get("commander", "")
        text = summary or f"status {status}"
        update = _update(status, text, commander, next_update_minutes, now)
        record["updates"].append(update)
        record["status"], record["commander"] = status, commander
        if severity:
            record["severity"] = Priority.parse(severity).name
            record["severity_from"] = "override"
        if status == "Resolved" and not record.get("resolved"):
            record["resolved"] = update["at"]
        before = record["affected"].get("users") or {}
        if users.get("unreadable") and before and not before.get("unreadable"):
            users = before | {"unreadable": f"{users['unreadable']} (counts as of before)"}
        record["affected"]["users"] = users
        _save(record, target)
    return record


def _may_update(record: dict[str, Any], target: Target, status: str) -> None:
    if record["target"] != target.name:
        raise BadInput(f"incident {record['id']} is about {record['target']}, not {target.name}")
    if record.get("resolved") and status != "Resolved":
        raise BadInput(
            f"incident {record['id']} was resolved at {str(record['resolved'])[:19]}Z: "
            f"status {status} is refused (a recurrence is a new incident; open one)"
        )


# --- what the notebook shows -----------------------------------------------------------------


class Text(Result):
    """A result that is one block of text (shown preformatted, ready to paste)."""

    def _repr_html_(self) -> str:
        import html

        body = "\n".join(str(r["line"]) for r in self.rows)
        return f"<h4>{html.escape(self.title)}</h4><pre>{html.escape(body)}</pre>"

    def __str__(self) -> str:
        return "\n".join([self.title, *(str(r["line"]) for r in self.rows)])


def _minute(text: str | None) -> str:
    return jr.parse_time(text).strftime("%Y-%m-%d %H:%M UTC") if text else "—"


def impact_text(record: dict[str, Any]) -> str:
    users = record["affected"]["users"]
    services = ", ".join(record["affected"]["services"]) or "none identified yet"
    if users.get("unreadable") and not users.get("requests"):
        return f"affected users unknown ({users['unreadable']}); services affected: {services}"
    endpoints = ", ".join(list(users["failing_endpoints"])[:3]) or "none"
    return (
        f"{users['errors_5xx']} of {users['requests']} requests failed (5xx) for "
        f"{users['clients_5xx']} of {users['clients']} clients; failing: {endpoints}; "
        f"services affected: {services}"
    )


def communication(record: dict[str, Any]) -> Text:
    """The runbook's Incident Communication Template, filled in from the latest update."""
    last = record["updates"][-1]
    nxt = last.get("next_update")
    filled = runbook()["template"].format(
        severity=record["severity"],
        status=last["status"],
        start=_minute(record["start"]),
        impact=impact_text(record),
        summary=last["summary"],
        next_update=f"{_minute(nxt)}" if nxt else "none (resolved)",
        commander=last["commander"] or "(unassigned)",
    )
    scrub = load_target(record["target"]).scrubber()  # a summary may quote a secret
    lines = [{"line": line} for line in scrub(filled).rstrip("\n").split("\n")]
    return Text("communication", f"Incident notification — {record['id']}", lines)


@dataclass(frozen=True)
class PhaseRow:
    phase: str
    budget: str
    state: str
    steps: str


def phase_clock(record: dict[str, Any], now: datetime | None = None) -> Result:
    """Time since detection against the runbook's phase budgets; the current phase follows
    the status and is over budget when the clock has passed its end."""
    now = now or datetime.now(UTC)
    elapsed = (now - jr.parse_time(record["detected"])).total_seconds() / 60
    book = runbook()
    current = book["status_phase"][record["status"]]
    names = [p["name"] for p in book["phases"]]
    rows = []
    for p in book["phases"]:
        order = names.index(p["name"]) - names.index(current)
        state = "done" if order < 0 else "upcoming" if order > 0 else "current"
        if order == 0 and p["name"] != "Post-Mortem" and elapsed > p["to_min"]:
            state = f"current — over budget by {elapsed - p['to_min']:.0f} min"
        budget = f"{p['from_min']:g}–{p['to_min']:g} min"
        rows.append(PhaseRow(p["name"], budget, state, "; ".join(p["steps"])))
    title = f"Phase clock — {elapsed:.1f} min since detection, status {record['status']}"
    return Result.of(
        "phase_clock", title, rows, metrics={"incident.elapsed_min": round(elapsed, 2)}
    )


def changes_result(record: dict[str, Any]) -> Result:
    return Result.of(
        "recent_changes", "Recent changes (24 h: journal and ledger)", record["changes"]
    )


def updates_result(record: dict[str, Any], new: bool = True) -> Result:
    """The status updates; with `new`, the latest one's audit entry rides along, so that the
    run's ledger line holds it."""
    result = Result.of("incident_updates", f"Status updates — {record['id']}", record["updates"])
    if new:
        result.actions.append(audit(record, record["updates"][-1]))
    return result


def affected_result(record: dict[str, Any]) -> Result:
    users = record["affected"]["users"]
    rows = [{"what": "services", "value": ", ".join(record["affected"]["services"]) or "—"}]
    rows += [{"what": k, "value": str(v)} for k, v in users.items()]
    return Result.of("affected", "Affected services and users", rows)


@dataclass(frozen=True)
class Response:
    """What one run of the incident notebook did: the record, and the sweep when it opened."""

    record: dict[str, Any]
    sweep: list[Result]

    @property
    def id(self) -> str:
        return str(self.record["id"])


def respond(
    target: Target,
    incident: str = "",
    status: str = "Investigating",
    summary: str = "",
    commander: str = "",
    next_update_minutes: float = 30,
    severity: str = "",
) -> Response:
    """Open a new incident (`incident` empty or blank) or append a status update to it."""
    if incident.strip():
        record = update_incident(
            target, incident, status, summary, commander, next_update_minutes, severity
        )
        return Response(record, [])
    record, results = open_incident(
        target, status, summary, commander, next_update_minutes, severity
    )
    return Response(record, results)

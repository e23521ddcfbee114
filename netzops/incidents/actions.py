"""The runbook's three Emergency Procedures as guarded plans (netzops.guard): each is a dry
run that shows every step unless confirmed with `<action>@<target>#<fingerprint>`.

    complete_outage      docker compose ps / logs --tail=100 (kept as evidence), down, up -d
                         (compose starts in depends_on order), wait until every service is
                         healthy, smoke tests GET /health and GET /api/users
    database_corruption  stop backend, safety dump of the current database, restore the latest
                         verified backup (netzops.backups; the plan names what is missing when
                         that is not available), start backend, verify row counts
                         (observed by the procedure: a differing table is its P1 finding)
    security_breach      evidence first (every container log, the event journal, the ledger, an
                         archive of each project volume, a SHA-256 manifest), then stop the
                         services; the host firewall command to isolate an address is planned,
                         never run; a credential-rotation checklist naming every secret by reference
"""

from __future__ import annotations

import hashlib
import importlib
import json
import shutil
from datetime import UTC, datetime
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path
from typing import Any

import httpx
import psycopg
from docker import DockerClient

from netzops import endpoints, logs
from netzops.containers import compose
from netzops.containers.actions import snapshot, startup_order, wait_serving
from netzops.containers.status import PROJECT, project_containers
from netzops.errors import BadInput, NetzopsError, TargetUnreachable
from netzops.findings import Finding, Priority
from netzops.guard import Plan
from netzops.guard import run as guarded
from netzops.incidents import evidence, recorder
from netzops.incidents import journal as jr
from netzops.paths import outputs_dir
from netzops.postgres.client import Database
from netzops.results import Result
from netzops.secrets import Scrubber
from netzops.targets import Target

WAIT_S = 240.0  # how long a confirmed procedure waits for every service to be healthy
SMOKE = ("/health", "/api/users")  # the runbook's "Verify functionality" requests


def smoke_tests(target: Target) -> list[dict[str, Any]]:
    """GET /health and /api/users through the frontend: [{url, status, ok}]."""
    rows = []
    with endpoints.client(target) as http:
        for path in SMOKE:
            url = target.http.frontend_url.rstrip("/") + path
            try:
                status = http.get(url).status_code
            except httpx.HTTPError as exc:
                rows.append({"url": url, "status": 0, "ok": False, "error": str(exc)[:120]})
                continue
            rows.append({"url": url, "status": status, "ok": 200 <= status < 300})
    return rows


def _services(target: Target) -> list[str]:
    order = startup_order(target)
    return sorted(target.services, key=lambda s: order.get(s, len(order)))


def _healthy(snap: list[dict[str, Any]], target: Target) -> bool:
    serving = {r["container"] for r in snap if r["serving"]}
    return (
        bool(snap)
        and len(serving) == len(snap)
        and all(any(s in r["container"] for r in snap) for s in target.services)
    )


# --- complete outage ------------------------------------------------------------------------


def complete_outage(
    client: DockerClient, target: Target, confirm: str | None = None, timeout_s: float = WAIT_S
) -> Result:
    """Runbook *Complete Service Outage*: evidence (ps, last 100 log lines per container),
    `compose down`, `compose up -d`, wait healthy, smoke tests. Verified: every service's
    containers serve and both smoke tests answer 2xx."""
    project = target.compose.project
    base = " ".join(compose.base_command(target))
    checks: list[list[dict[str, Any]]] = []

    def plan() -> Plan:
        found = project_containers(client, project)
        return Plan(
            "complete_outage",
            target.name,
            "all services",
            [
                f"record `{base} ps` ({len(found)} containers) and the last 100 log lines of each",
                f"{base} down   (stops {', '.join(reversed(_services(target)))})",
                f"{base} up -d  (starts {', '.join(_services(target))}, depends_on order)",
                f"wait until every service is healthy (≤ {timeout_s:g} s)",
                *(f"smoke test GET {target.http.frontend_url.rstrip('/')}{p}" for p in SMOKE),
            ],
            {"containers": sorted(c.name for c in found), "smoke": list(SMOKE)},
        )

    def act(p: Plan) -> str:
        evidence = _outage_evidence(client, target)
        compose.run(target, "down", timeout_s=timeout_s)
        compose.run(target, "up", "-d", timeout_s=timeout_s)
        done, waited, _ = wait_serving(
            client, project, None, timeout_s, ready=lambda s: _healthy(s, target)
        )
        checks.append(smoke_tests(target))
        ok = sum(r["ok"] for r in checks[-1])
        state = "all healthy" if done else "NOT all healthy"
        return (
            f"down/up done, {state} after {waited:g} s, smoke {ok}/{len(SMOKE)} ok; "
            f"evidence {evidence}"
        )

    def observe(*_: Any) -> Any:  # guard passes the plan (newer guard) or nothing
        return snapshot(client, project, None)

    def verify(*states: Any) -> bool:  # (after) or (before, after), depending on the guard
        after = states[-1]
        return _healthy(after, target) and bool(checks) and all(r["ok"] for r in checks[-1])

    return guarded(target, plan, act, confirm, observe, verify)


def _evidence_dir(target: Target, kind: str) -> Path:
    """A new, empty evidence folder: <target>-<kind>-<UTC second>, with -2, -3 … when one of
    that second exists already (two collections in one second never share a folder, so no
    evidence or manifest is overwritten)."""
    base = outputs_dir() / "incidents" / "evidence"
    base.mkdir(parents=True, exist_ok=True)
    stem = f"{target.name}-{kind}-{datetime.now(UTC):%Y%m%dT%H%M%S}"
    for n in range(1, 1000):
        folder = base / (stem if n == 1 else f"{stem}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise NetzopsError(f"no free evidence folder for {stem} in {base}")


def _outage_evidence(client: DockerClient, target: Target) -> Path:
    folder, scrub = _evidence_dir(target, "outage"), Scrubber(target.resolve_secrets())
    ps = json.dumps(snapshot(client, target.compose.project, None), indent=1)
    (folder / "ps.json").write_text(scrub(ps))
    with (folder / "logs-tail100.txt").open("w") as fh:
        for line in logs.view(client, target, tail=100).rows:
            fh.write(scrub(f"{line['time']} {line['container']} {line['message']}\n"))
    return folder


# --- database corruption --------------------------------------------------------------------


def restore_api() -> tuple[Any, list[str]]:
    """netzops.backups when it offers `latest_verified` and a guarded `restore`, else
    (None, what is missing)."""
    try:
        backups = importlib.import_module("netzops.backups")
    except ImportError:
        return None, ["netzops.backups (verified backups, issue 10) is not installed"]
    missing = [
        f"netzops.backups.{n}" for n in ("latest_verified", "restore") if not hasattr(backups, n)
    ]
    return (backups if not missing else None), missing


def database_corruption(client: DockerClient, target: Target, confirm: str | None = None) -> Result:
    """Runbook *Database Corruption*: stop backend, safety dump of the current state
    (pg_dump -Fc into the evidence folder), restore the latest verified backup through the
    backups package's guarded restore, start backend, verify row counts. The plan says what is
    missing (no backups package, no verified backup); a confirmed run then refuses.

    Verified by this procedure itself (observed before and after, as data in its audit
    entry): every table the backup holds has the manifest's exact row count again
    (`after.differ`, {"schema.table": [rows now, rows in the backup]}, is empty) and the
    smoke tests (`after.smoke`) answer 2xx. A failed verification is a P1 finding of
    `database_corruption` naming the first differing table or failing request. The nested
    restore's own audit entry (`restore_backup`, with its `verified`) follows as the
    result's second action, and `metrics` hold `restore.verified` (1/0) and
    `restore.tables_differing`."""
    backups, missing = restore_api()
    nested: list[Result] = []  # the restore's confirmed result, kept as data of this one

    def plan() -> Plan:
        latest = backups.latest_verified(target) if backups else None
        lacking = list(missing)  # a fresh list per plan: the dry run and the re-plan must agree
        if backups and latest is None:
            lacking.append(f"a verified backup of {target.postgres.dbname} (run `backup`)")
        steps = [
            f"{' '.join(compose.base_command(target))} stop backend   (no further writes)",
            f"pg_dump -Fc {target.postgres.dbname} → evidence folder (safety dump of now)",
            f"restore {getattr(latest, 'file', '<latest verified backup>')} with "
            "netzops.backups.restore (pg_restore --exit-on-error)",
            f"{' '.join(compose.base_command(target))} start backend",
            "verify: row counts of every table equal the backup's manifest",
        ]
        steps += [f"MISSING: {m}" for m in lacking]
        return Plan(
            "database_corruption",
            target.name,
            target.postgres.dbname,
            steps,
            {
                "backup": getattr(latest, "file", None),
                "missing": lacking,
                "row_counts": _manifest_counts(latest.location) if latest else {},
            },
        )

    def act(p: Plan) -> str:
        if p.details["missing"]:
            raise BadInput(
                "database_corruption cannot run: missing " + "; ".join(p.details["missing"])
            )
        compose.run(target, "stop", "backend")
        try:
            dump = _safety_dump(client, target)
            nested.append(_restore(backups, client, target, p.details["backup"]))
        finally:
            compose.run(target, "start", "backend")
        entry = nested[-1].actions[-1] if nested[-1].actions else {}
        return f"safety dump {dump}; restore: {entry.get('outcome', nested[-1].title)}"

    def observe(p: Plan) -> dict[str, Any]:
        return _restored_state(target, p.details["row_counts"])

    def verify(before: dict[str, Any], after: dict[str, Any]) -> bool:
        return not after["differ"] and not after["error"] and all(r["ok"] for r in after["smoke"])

    result = guarded(target, plan, act, confirm, observe, verify)
    if not result.actions or result.actions[0]["dry_run"]:
        return result
    entry = result.actions[0]
    restore = nested[-1].actions[-1] if nested and nested[-1].actions else None
    if restore is not None:
        result.actions.append(restore)
    result.metrics["restore.verified"] = float(bool(entry["verified"]))
    result.metrics["restore.tables_differing"] = float(len(entry["after"]["differ"]))
    if entry["verified"] is False:
        result.findings = [
            Finding(
                "database_corruption",
                target.postgres.dbname,
                Priority.P1,
                _not_verified(entry["details"]["backup"], entry["after"], restore),
            )
        ]
    return result


def _manifest_counts(backup: Path) -> dict[str, int]:
    """The exact row counts ("schema.table" → rows) the backup's manifest holds."""
    from netzops.backups import Manifest  # the incidents layer composes the backups domain
    from netzops.backups.archive import manifest_path

    return dict(Manifest.read(manifest_path(backup)).tables)


def _restored_state(target: Target, expected: dict[str, int]) -> dict[str, Any]:
    """Row counts of every table now, those that differ from `expected` as
    {table: [now, expected]} (a missing table: None now), the smoke tests, and the error
    when the database did not answer (then every expected table differs)."""
    from netzops.backups.archive import row_counts

    db, counts, error = Database(target, "admin"), {}, ""
    try:
        counts = row_counts(db)
    except (TargetUnreachable, psycopg.Error) as exc:
        error = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
    finally:
        db.close()
    differ = {t: [counts.get(t), n] for t, n in sorted(expected.items()) if counts.get(t) != n}
    return {"row_counts": counts, "differ": differ, "smoke": smoke_tests(target), "error": error}


def _not_verified(backup: str, after: dict[str, Any], restore: dict[str, Any] | None) -> str:
    """The P1's one line: why the restored database is not the backup's."""
    why = [f"database not answering: {after['error']}"] if after["error"] else []
    if after["differ"]:
        table, (now, want) = next(iter(after["differ"].items()))
        why.append(
            f"{len(after['differ'])} table(s) differ from the backup's manifest, first "
            f"{table}: {now} rows now, {want} in the backup"
        )
    why += [f"smoke GET {r['url']} answered {r['status']}" for r in after["smoke"] if not r["ok"]]
    if restore is not None and restore.get("verified") is False:
        why.append(f"restore_backup: {restore.get('outcome', '')}")
    return f"restore of {backup} not verified: " + "; ".join(why or ["unknown"])


def _safety_dump(client: DockerClient, target: Target) -> Path:
    out = _evidence_dir(target, "db") / f"{target.postgres.dbname}-before-restore.dump"
    container = project_containers(client, target.compose.project, "postgres")[0]
    result = container.exec_run(
        ["pg_dump", "-Fc", "-U", target.postgres.user, target.postgres.dbname],
        stdout=True,
        stderr=False,
        stream=True,
    )
    with out.open("wb") as fh:
        for chunk in result.output:
            fh.write(chunk)
    if out.stat().st_size == 0:
        raise NetzopsError("safety dump is empty: pg_dump failed")
    return out


def _restore(backups: Any, client: DockerClient, target: Target, backup: str) -> Result:
    """The backups package's guarded restore, confirmed with its own fresh dry run; its
    Result (audit entry with `verified`, findings) is returned as it is."""
    dry = backups.restore(client, target, backup)
    entry = dry.actions[0]
    done: Result = backups.restore(
        client, target, backup, confirm=f"{entry['action']}@{target.name}#{entry['fingerprint']}"
    )
    return done


# --- security breach ------------------------------------------------------------------------


def _volumes(client: DockerClient, target: Target) -> list[Any]:
    found: list[Any] = client.volumes.list(filters={"label": f"{PROJECT}={target.compose.project}"})
    return found


def _secret_refs(target: Target) -> list[str]:
    rows = []
    for name, ref in sorted(target.secrets.items()):
        places = [f"environment variable {ref.env}"] if ref.env else []
        places += [f"file {ref.file}"] if ref.file else []
        where = " or ".join(places)
        rows.append(f"rotate {name} ({where}), then restart the services that read it")
    return rows


def security_breach(
    client: DockerClient, target: Target, address: str = "", confirm: str | None = None
) -> Result:
    """Runbook *Security Breach*, evidence first: every container log, the journal, the
    ledger and a tar of each project volume into an evidence folder with a SHA-256 manifest;
    then `compose stop`. Isolating `address` is a planned host firewall command (not run
    here); the credential checklist names each secret by reference only."""
    address = isolation_address(address)

    def plan() -> Plan:
        vols = sorted(v.name for v in _volumes(client, target))
        isolate = isolation_steps(address)
        return Plan(
            "security_breach",
            target.name,
            "all services",
            [
                "evidence: every container log (all lines, timestamps) → evidence folder",
                "evidence: the event journal and the ledger (copies)",
                *(f"evidence: tar of volume {v}" for v in vols),
                "evidence: SHA-256 manifest of every evidence file",
                f"{' '.join(compose.base_command(target))} stop   (containers kept)",
                *isolate,
                "notify the security team (Emergency Contacts L4)",
                *_secret_refs(target),
                "restore from a clean backup (database_corruption procedure) once cleared",
            ],
            {"volumes": vols, "address": address},
        )

    def act(p: Plan) -> str:
        folder = collect_evidence(client, target, p.details["volumes"])
        compose.run(target, "stop")
        notes = folder / "archive-notes.txt"
        changed = f"; files changed while archived: {notes.name}" if notes.exists() else ""
        return f"evidence in {folder} (manifest.sha256){changed}; services stopped"

    return guarded(target, plan, act, confirm)


def collect_evidence(
    client: DockerClient, target: Target, volumes: list[str] | None = None
) -> Path:
    """Logs, journal, ledger and volume archives into a new evidence folder, plus
    manifest.sha256 (`sha256sum -c` format). Read-only towards the stack."""
    folder, scrub = _evidence_dir(target, "breach"), Scrubber(target.resolve_secrets())
    for src in logs.read(client, target):  # logs are kept whole, less the target's secrets
        text = scrub(src.blob.decode("utf-8", "surrogateescape"))
        (folder / f"logs-{src.container}.txt").write_bytes(text.encode("utf-8", "surrogateescape"))
    where = recorder.status(target.name).journal
    journal = Path(where) if where else jr.journal_path(target.name)
    for path in (journal, outputs_dir() / "ledger.jsonl"):
        if path.exists():
            shutil.copy2(path, folder / path.name)
    notes = []
    for vol in _volumes(client, target):
        if volumes is None or vol.name in volumes:
            archived = f"volume-{vol.name}.tar.gz"
            changed = evidence.archive(Path(vol.attrs["Mountpoint"]), folder / archived)
            notes += [f"{archived}: {note}" for note in changed]
    if notes:  # files a live service changed while they were read, in the manifest too
        (folder / "archive-notes.txt").write_text("".join(f"{n}\n" for n in notes))
    _manifest(folder)
    return folder


def _manifest(folder: Path) -> None:
    lines = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        lines.append(f"{digest.hexdigest()}  {path.name}\n")
    (folder / "manifest.sha256").write_text("".join(lines))


PROCEDURES = ("complete_outage", "database_corruption", "security_breach")


def check_procedure(procedure: str, address: str = "") -> None:
    """BadInput for an unknown procedure name or a bad address (before anything runs)."""
    if procedure and procedure not in PROCEDURES:
        raise BadInput(f"unknown procedure {procedure!r}: use {', '.join(PROCEDURES)}")
    if address and procedure != "security_breach":
        raise BadInput(f"address is for security_breach only, not {procedure or 'no procedure'}")
    isolation_address(address)


def isolation_address(text: str) -> str:
    """The one host address to isolate, written as firewalls take it ("" for none); BadInput
    for what is no single address (a network, a host name, a scoped IPv6 address, text
    around it) or one whose blocking would cut the host off or block everyone (unspecified,
    loopback, multicast, broadcast). An IPv4-mapped IPv6 address is its IPv4 address."""
    if not text:
        return ""
    if not isinstance(text, str):
        raise BadInput(f"not an IP address: {text!r}")
    try:
        found = ip_address(text.strip())
    except ValueError:
        raise BadInput(
            f"not an IP address: {text!r} (one host's address, e.g. 203.0.113.7 or "
            "2001:db8::7; no network, no host name)"
        ) from None
    if isinstance(found, IPv6Address):
        if found.scope_id:
            raise BadInput(f"a scoped address cannot be isolated: {text!r} (leave out %zone)")
        found = found.ipv4_mapped or found
    bad = (
        "unspecified"
        if found.is_unspecified
        else "loopback"
        if found.is_loopback
        else "multicast"
        if found.is_multicast
        else "broadcast"
        if found == IPv4Address("255.255.255.255")
        else ""
    )
    if bad:
        raise BadInput(f"{text!r} is a {bad} address: isolating it would not block one host")
    return str(found)


def isolation_steps(address: str) -> list[str]:
    """The host firewall commands that isolate `address` (planned, run by hand): Docker's
    DOCKER-USER chain for the published ports (forwarded traffic to containers passes
    neither INPUT nor ufw), ufw for the host's own services; ip6tables for IPv6."""
    if not address:
        return ["isolation: no address given (pass address=<suspicious ip>)"]
    tables = "ip6tables" if ip_address(address).version == 6 else "iptables"
    return [
        f"on the host, by hand: sudo {tables} -I DOCKER-USER 1 -s {address} -j DROP   "
        "(published container ports: Docker's forwarding bypasses ufw)",
        f"on the host, by hand: sudo ufw prepend deny from {address}   (the host itself)",
    ]


def emergency(
    client: DockerClient,
    target: Target,
    procedure: str = "",
    address: str = "",
    confirm: str | None = None,
) -> Result:
    """The named Emergency Procedure (dry run unless `confirm`), or a note listing them."""
    check_procedure(procedure, address)
    if procedure == "complete_outage":
        return complete_outage(client, target, confirm)
    if procedure == "database_corruption":
        return database_corruption(client, target, confirm)
    if procedure == "security_breach":
        return security_breach(client, target, address, confirm)
    return Result.of(
        "emergency_procedure",
        "Emergency procedures (none chosen)",
        notes=[f"procedure= one of {', '.join(PROCEDURES)}; each is a dry run until confirmed"],
    )

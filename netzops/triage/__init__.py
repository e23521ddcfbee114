"""Triage composes the domains: it never measures anything itself.

clients       the lazily made clients of one target and the run's shared samples
sweep         every read-only check of a target in one pass, concurrently, within a deadline
causes        rules (data/causes.yaml) turning one sweep's evidence into ranked causes
troubleshoot  the runbook's Troubleshooting Guide as scenarios; `diagnose(target, "auto")`
response      response procedures and the escalation levels to page
"""

from __future__ import annotations

from netzops.triage.causes import Cause, causes, secret_source
from netzops.triage.clients import Clients
from netzops.triage.response import (
    escalation,
    findings_from,
    load_contacts,
    procedure_for,
    responses,
)
from netzops.triage.sweep import cut_short_checks, registry, summary
from netzops.triage.sweep import run as sweep
from netzops.triage.troubleshoot import SCENARIOS, Diagnosis, diagnose, verdict

__all__ = [
    "SCENARIOS",
    "Cause",
    "Clients",
    "Diagnosis",
    "causes",
    "cut_short_checks",
    "diagnose",
    "escalation",
    "findings_from",
    "load_contacts",
    "procedure_for",
    "registry",
    "responses",
    "secret_source",
    "summary",
    "sweep",
    "verdict",
]

"""Triage composes the domains: it never measures anything itself.

clients       the lazily made clients of one target, shared by every check of a run
sweep         every read-only check of a target in one pass (the alert sweep)
troubleshoot  the runbook's Troubleshooting Guide as scenarios of diagnoses
response      response procedures per finding and the escalation levels to page
"""

from __future__ import annotations

from netzops.triage.clients import Clients
from netzops.triage.response import (
    escalation,
    findings_from,
    load_contacts,
    procedure_for,
    responses,
)
from netzops.triage.sweep import registry, summary
from netzops.triage.sweep import run as sweep
from netzops.triage.troubleshoot import SCENARIOS, diagnose, verdict

__all__ = [
    "SCENARIOS",
    "Clients",
    "diagnose",
    "escalation",
    "findings_from",
    "load_contacts",
    "procedure_for",
    "registry",
    "responses",
    "summary",
    "sweep",
    "verdict",
]

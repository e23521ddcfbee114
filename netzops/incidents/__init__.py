"""Incident response and post-mortems. Like triage, a composing layer: it uses the domains
and triage; no domain imports it.

journal     the Docker event journal (container events, reconnect and gap entries)
recorder    the journal recorder as a detached process (start, stop, status)
incident    open an incident (sweep, severity, affected users, recent changes), status updates,
            the communication template and the phase clock
timeline    every source as a sorted stream, merged with heapq.merge
postmortem  timeline, impact window, TTD/TTA/TTM/TTR, root-cause candidates, swimlanes, Markdown
actions     the Emergency Procedures as guarded plans
evidence    volume archives of live services for the security-breach evidence
"""

from __future__ import annotations

from netzops.incidents.actions import (
    PROCEDURES,
    check_procedure,
    collect_evidence,
    complete_outage,
    database_corruption,
    emergency,
    security_breach,
    smoke_tests,
)
from netzops.incidents.incident import (
    STATUSES,
    Response,
    check_inputs,
    communication,
    load,
    phase_clock,
    respond,
)
from netzops.incidents.incident import affected_result as affected
from netzops.incidents.incident import changes_result as changes
from netzops.incidents.incident import updates_result as updates
from netzops.incidents.journal import journal_path
from netzops.incidents.postmortem import PostMortem
from netzops.incidents.postmortem import build as build_postmortem
from netzops.incidents.recorder import start as start_recorder
from netzops.incidents.recorder import status as recorder_status
from netzops.incidents.recorder import stop as stop_recorder

__all__ = [
    "PROCEDURES",
    "STATUSES",
    "PostMortem",
    "Response",
    "affected",
    "build_postmortem",
    "changes",
    "check_inputs",
    "check_procedure",
    "collect_evidence",
    "communication",
    "complete_outage",
    "database_corruption",
    "emergency",
    "journal_path",
    "load",
    "phase_clock",
    "recorder_status",
    "respond",
    "security_breach",
    "smoke_tests",
    "start_recorder",
    "stop_recorder",
    "updates",
]

# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: netzops (Python)
#     language: python
#     name: netzops
# ---

# %% [markdown]
# # Incident
#
# Runbook: *Incident Response*. Run without `incident` to open one: the sweep runs, its worst
# finding sets the severity (P0–P3, or `severity`), detection time is now, and the affected
# services and users (5xx answers, failing endpoints, distinct clients from nginx's access
# log) and the last 24 h of changes (event journal and ledger) are listed. Run again with
# `incident=<id>` and a `status` (Investigating, Identified, Monitoring, Resolved) to add a
# status update. Each run shows the *Incident Communication Template* filled in, ready to
# paste, and the phase clock against the runbook's budgets (Detection 0–5 min, Triage 5–15,
# Mitigation 15–60, Resolution 1–4 h, Post-Mortem 24–48 h). The incident lives in
# `outputs/incidents/<id>.json`; every update is also a ledger entry. With `procedure`, the
# last cell shows one of the runbook's Emergency Procedures as a guarded plan.

# %%
from typing import Literal  # the choices of the parameters below

# %% tags=["parameters"]
target: str = "sandbox"  # target file in parameters/targets/
incident: str = ""  # incident id (INC-YYYYMMDD-HHMMSS); empty: open a new incident
status: Literal["Investigating", "Identified", "Monitoring", "Resolved"] = "Investigating"  # phase
summary: str = ""  # current status, one or two sentences (empty: the worst finding)
commander: str = ""  # incident commander (name or handle)
next_update_minutes: int = 30  # when the next status update is due
severity: Literal["", "P0", "P1", "P2", "P3"] = ""  # override the sweep's worst; empty: sweep
procedure: Literal["", "complete_outage", "database_corruption", "security_breach"] = ""  # plan
address: str = ""  # security_breach: the suspicious IP address to isolate (planned, not run)
confirm: str = ""  # the procedure's confirmation from its dry run; empty: dry run

# %% tags=["preflight"]
from netzops import incidents, load_target

# bad input stops here, before anything runs (headless: before the kernel starts)
incidents.check_inputs(
    load_target(target),
    incident,
    status,
    commander,
    next_update_minutes,
    severity,
    procedure,
    address,
)

# %%
from netzops import triage

stack = load_target(target)
response = incidents.respond(
    stack, incident, status, summary, commander, next_update_minutes, severity
)
incidents.communication(response.record)

# %%
incidents.phase_clock(response.record)

# %%
incidents.affected(response.record)

# %%
incidents.changes(response.record)

# %%
triage.summary(response.sweep)

# %%
triage.responses(triage.findings_from(response.sweep))

# %%
incidents.updates(response.record)

# %% [markdown]
# Emergency Procedures (runbook): complete outage, database corruption, security breach —
# each a dry run listing every step until `confirm` repeats the dry run's confirmation.

# %%
from netzops import containers

incidents.emergency(containers.connect(stack), stack, procedure, address, confirm or None)

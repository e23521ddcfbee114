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
# # Post-mortem
#
# Runbook: *Incident Response*, Phase 5 (Post-Mortem, 24–48 h): document the timeline, analyse
# the root cause, identify improvements, create action items. The timeline is built from
# recorded evidence, merged in time order: the event journal (container start, die, health,
# oom), container logs (errors, failed logins, slow queries, out of memory, per minute),
# PostgreSQL's server log (FATAL/PANIC, shutdown, ready, terminated backends), nginx's access
# log (5xx and p95 per minute), the ledger (runs and guarded actions) and the incident's status
# updates. Give `incident`, or a window with `start`/`end` (RFC 3339, Unix seconds, or a
# duration before now such as 2h). A source that is missing is named, never fatal. The
# Markdown with the runbook's headings is written next to the incident record.

# %% tags=["parameters"]
target: str = "sandbox"  # target file in parameters/targets/
incident: str = ""  # incident id (INC-YYYYMMDD-HHMMSS); empty: use start/end
start: str = ""  # window start (e.g. 2026-11-30T10:00:00Z, 2h); empty: the incident's or 24h
end: str = ""  # window end; empty: the incident's resolution (+2 min) or now

# %% tags=["preflight"]
from netzops import load_target
from netzops.incidents.postmortem import check_inputs

# bad input stops here, before anything runs (headless: before the kernel starts)
check_inputs(load_target(target), incident, start or None, end or None)

# %%
from netzops import containers, incidents

stack = load_target(target)
pm = incidents.build_postmortem(
    containers.connect(stack), stack, incident, start or None, end or None
)
pm.impact_result()

# %%
pm.times()

# %%
pm.plot()

# %%
pm.candidates()

# %%
pm.timeline()

# %%
print(f"Markdown: {pm.markdown}")

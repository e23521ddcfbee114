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
# # Alerts
#
# Runbook: *Alert Handling*. Every read-only check runs once; each threshold becomes a
# finding with the runbook's priority (P0 critical: service down, database unavailable;
# P1 high: error rate > 5 %, disk > 90 %, several services degraded; P2 medium: warning
# thresholds; P3 low: optimization opportunities), and each finding gets the runbook's
# response procedure.

# %% tags=["parameters"]
target: str = "sandbox"  # target file in parameters/targets/
checks: list[str] = []  # run only these checks of the sweep; empty: all

# %%
from netzops import load_target, triage

stack = load_target(target)
results = triage.sweep(stack, checks or None)
findings = triage.findings_from(results)
triage.summary(results)

# %%
triage.responses(findings)

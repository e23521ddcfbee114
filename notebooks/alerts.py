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
# thresholds; P3 low: optimization opportunities). The findings are evidence: rules turn them
# into causes, most likely first, each with the one next step, its response procedure and
# whom to page; a finding that follows from a cause is shown as its consequence. Checks run
# concurrently within a deadline (a hanging service is a finding, not a wait).

# %% tags=["parameters"]
target: str = "sandbox"  # target file in parameters/targets/
checks: list[str] = []  # run only these checks of the sweep; empty: all

# %%
from netzops import load_target, triage

stack = load_target(target)
results = triage.sweep(stack, checks)
findings = triage.findings_from(results)
causes = triage.causes(results, stack)
causes

# %%
triage.summary(results)

# %%
triage.responses(findings, causes)

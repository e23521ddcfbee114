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
# # Troubleshooting
#
# Runbook: *Troubleshooting Guide* — seven scenarios: service won't start, database
# connection errors, Redis connection issues, slow performance, high memory usage, login
# issues, SSL certificate issues. Every run sweeps all checks (concurrently, within a
# deadline) and ranks the causes: the most likely first, with the next step and evidence.
# `symptom` adds one scenario's diagnoses; `auto` ranks the scenarios with evidence and
# lists the others as ruled out.

# %%
from typing import Literal  # the choices of the parameters below

# %% tags=["parameters"]
target: str = "sandbox"  # target file in parameters/targets/
symptom: Literal[
    "auto",
    "service-wont-start",
    "database-connection",
    "redis-connection",
    "slow-performance",
    "high-memory",
    "login-issues",
    "ssl-certificate",
] = "auto"  # which scenario to diagnose; auto: all

# %%
from netzops import load_target, triage

stack = load_target(target)
found = triage.diagnose(stack, symptom)
found.causes

# %%
found.scenarios

# %%
from IPython.display import display

for result in found.results:
    display(result)

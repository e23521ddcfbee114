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
# issues, SSL certificate issues. `symptom` picks one; `auto` runs every diagnosis and
# says which scenarios match what it found.

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
from IPython.display import display

from netzops import load_target, triage

stack = load_target(target)
chosen = list(triage.SCENARIOS) if symptom == "auto" else [symptom]
found = triage.diagnose(stack, chosen)

# %%
triage.verdict(found)

# %%
for results in found.values():
    for result in results:
        display(result)

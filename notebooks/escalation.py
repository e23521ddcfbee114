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
# # Escalation
#
# Runbook: *Emergency Contacts* — on-call schedule and the escalation path (L1 on-call
# engineer, L2 senior engineer, L3 engineering manager, L4 CTO/security team). The checks
# below find what is wrong now; the table says whom to page for each finding and how soon.
# Contacts come from `parameters/contacts.yaml` (yours, git-ignored) or the shipped
# example, which names roles, not people.

# %% tags=["parameters"]
target: str = "sandbox"  # target file in parameters/targets/
contacts_file: str = ""  # contacts YAML; empty: parameters/contacts.yaml or the example

# %%
from netzops import load_target, triage

stack = load_target(target)
contacts = triage.load_contacts(contacts_file)

# %%
results = triage.sweep(stack)
findings = triage.findings_from(results)
causes = triage.causes(results, stack)
triage.escalation(causes, contacts)

# %%
triage.summary(results)

# %%
triage.responses(findings, causes)

# %%
triage.escalation(findings, contacts)

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
# # Planned maintenance window
#
# Runbook: *Planned Maintenance Window*. `phase=pre` before the work: a full backup,
# verified by restore (not `gunzip | head -n 100`), and a snapshot of the stack
# (containers, images and their ids, versions, health, row counts, the compose
# configuration's hash) saved as JSON. `phase=post` after it: the same snapshot diffed
# against the newest *pre* one — what changed, what got worse (regressions are P1) —
# and the smoke tests (`/health`, `/api/users`).

# %%
from typing import Literal  # the choices of the parameters below

# %% tags=["parameters"]
target: str = "sandbox"  # target file in parameters/targets/
phase: Literal["pre", "post"] = "pre"  # before or after the maintenance work
backup: bool = True  # pre: make a backup and verify it by restore

# %%
from netzops import backups, containers, endpoints, load_target, maintenance

stack = load_target(target)
docker = containers.connect(stack)

# %% [markdown]
# ## Backup, verified by restore (pre)

# %%
made = backups.make(docker, stack) if phase == "pre" and backup else None
made

# %%
backups.verify(docker, stack) if made is not None and made.ok else None

# %% [markdown]
# ## Snapshot of the stack

# %%
now = maintenance.snapshot(docker, stack, phase)
saved = maintenance.save_snapshot(stack, now)
maintenance.snapshot_result(now)

# %% [markdown]
# ## What changed since *pre* (post)

# %%
maintenance.diff(maintenance.load_snapshot(stack, "pre"), now) if phase == "post" else None

# %% [markdown]
# ## Smoke tests (post)

# %%
with endpoints.client(stack) as http:
    smoke = endpoints.health(http, stack) if phase == "post" else None
smoke

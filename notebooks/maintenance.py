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
# # Regular maintenance
#
# Runbook: *Regular Maintenance Schedule*, *Log Rotation*. Every daily, weekly, monthly and
# quarterly item of the runbook, shown as **done / due / overdue** from the evidence netzops
# has: earlier runs in the ledger (logs, monitoring, performance, users), backups and their
# restore tests, the host (disk, apt), the engine (log configuration, reclaimable space) and
# the secret files' age. Items only a person can do are recorded with `done`.
# `docker system prune -f` is a **dry run** unless `confirm` holds its confirmation.

# %% tags=["parameters"]
target: str = "sandbox"  # target file in parameters/targets/
done: str = ""  # record an item as done by a person now, e.g. "Security audit"
note: str = ""  # what was done (kept with the record of `done`)
prune: bool = False  # plan (or with confirm: do) docker system prune -f
confirm: str = ""  # confirmation string from the dry run

# %%
from netzops import containers, load_target, maintenance

stack = load_target(target)
docker = containers.connect(stack)
maintenance.mark_done(stack, done, note) if done else None

# %% [markdown]
# ## The schedule

# %%
maintenance.schedule(docker, stack)

# %% [markdown]
# ## Log rotation (daemon.json log-opts, each container's max-size × max-file)

# %%
maintenance.log_rotation(docker, stack)

# %% [markdown]
# ## Security updates pending on the host

# %%
maintenance.security_updates()

# %% [markdown]
# ## Clean the Docker system (guarded)

# %%
maintenance.docker_prune(docker, stack, confirm or None) if prune else None

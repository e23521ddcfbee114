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
# # Backups, proven by restore
#
# Runbook: *Database backup* (quick reference), *Backup Verification* and the restore of
# *Database Corruption*. A backup is `pg_dump -Fc` run with the server's own version, with a
# manifest (versions, size, SHA-256, exact row counts in the dump's snapshot). It counts
# as good only once restored into a throwaway database with equal row counts — the
# runbook's `gunzip -c latest.sql.gz | head -n 100` passes for a truncated file. RPO (age of
# the newest verified backup) and RTO (measured restore time) are in the record's metrics.
# Restore and prune are **dry runs** unless `confirm` holds the dry run's confirmation.

# %%
from typing import Literal  # the choices of the parameters below

# %% tags=["parameters"]
target: str = "sandbox"  # target file in parameters/targets/
make: bool = True  # make a new backup first
verify: str = "newest"  # backup to verify by restore: a file name, "newest" or "none"
action: Literal["none", "restore", "prune"] = "none"  # guarded: dry run unless confirmed
restore_file: str = "latest-verified"  # for restore: a file name or "latest-verified"
confirm: str = ""  # confirmation string from the dry run

# %%
from netzops import backups, containers, load_target

stack = load_target(target)
docker = containers.connect(stack)
to_verify = {"newest": None, "none": ""}.get(verify, verify)
to_restore = None if restore_file == "latest-verified" else restore_file

# %% [markdown]
# ## Make a backup

# %%
backups.make(docker, stack) if make else None

# %% [markdown]
# ## Verify by restore (checksum, pg_restore --list, throwaway restore, row counts, amcheck)

# %%
backups.verify(docker, stack, to_verify) if to_verify != "" else None

# %% [markdown]
# ## The backups: age, size, verified; RPO

# %%
backups.catalog(stack)

# %% [markdown]
# ## Restore or prune (guarded)

# %%
guarded = {
    "restore": lambda: backups.restore(docker, stack, to_restore, confirm or None),
    "prune": lambda: backups.prune(stack, confirm or None),
}
guarded[action]() if action in guarded else None

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
# # Managing users
#
# Runbook: *Managing Users* — list users, update a user's role, disable (or enable) an
# account. New users are created in the application, not here. Changes are **dry runs**
# that show the exact UPDATE unless `confirm` holds the dry run's confirmation string.

# %%
from typing import Literal  # the choices of the parameters below

# %% tags=["parameters"]
target: str = "sandbox"  # target file in parameters/targets/
username: str = ""  # the user to look at or change
new_role: Literal["", "admin", "operator", "viewer"] = ""  # change the role to this (guarded)
set_active: Literal["", "true", "false"] = ""  # enable or disable the account (guarded)
confirm: str = ""  # confirmation string from the dry run

# %%
from IPython.display import display

from netzops import load_target, postgres

stack = load_target(target)

# %%
postgres.users(postgres.connect(stack), username)

# %%
admin = postgres.connect(stack, role="admin")
if username and new_role:
    display(postgres.set_user_role(admin, username, new_role, confirm))
if username and set_active:
    display(postgres.set_user_active(admin, username, set_active == "true", confirm))

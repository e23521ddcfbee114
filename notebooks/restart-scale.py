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
# # Restart and scale
#
# Runbook: *Restarting Services* (one or all; graceful recreate that waits for health)
# and *Scaling Services* (`--scale backend=N`). Every action is a **dry run** that shows the
# containers it would touch, unless `confirm` holds the confirmation string from the dry run.
# After a confirmed action the containers are checked healthy again.

# %%
from typing import Literal  # the choices of the parameters below

# %% tags=["parameters"]
target: str = "sandbox"  # target file in parameters/targets/
action: Literal["restart", "recreate", "scale"] = "restart"  # what to do (dry run unless confirmed)
service: str = "backend"  # a service of the target; "all" restarts every service in order
replicas: int = 1  # for scale: the wanted number of replicas
confirm: str = ""  # confirmation string from the dry run

# %%
from netzops import containers, load_target

stack = load_target(target)
docker = containers.connect(stack)
actions = {
    "restart": lambda: containers.restart(docker, stack, service, confirm),
    "recreate": lambda: containers.recreate(docker, stack, service, confirm),
    "scale": lambda: containers.scale(docker, stack, service, replicas, confirm),
}

# %%
containers.service_status(docker, stack)

# %%
actions[action]()

# %%
containers.service_status(docker, stack)

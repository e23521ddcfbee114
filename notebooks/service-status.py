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
# # Service status
#
# Runbook: *Checking Service Status* (`docker compose ps`, `docker ps | grep netzwaechter`,
# `docker inspect … Health`) and the four *Container Health Checks*: frontend `GET /health`,
# backend `GET /api/users`, PostgreSQL `pg_isready`, Redis `redis-cli ping`.

# %% tags=["parameters"]
target: str = "sandbox"  # target file in parameters/targets/ (no secrets in it)

# %%
from netzops import cache, certs, containers, endpoints, load_target, logs, postgres

stack = load_target(target)

# %% [markdown]
# ## Containers: state, health, restarts

# %%
containers.service_status(containers.connect(stack), stack)

# %% [markdown]
# ## Health checks

# %%
endpoints.health(endpoints.client(stack), stack)

# %%
postgres.ping(postgres.connect(stack))

# %%
cache.ping(cache.connect(stack))

# %% [markdown]
# ## The same facts the alert sweep judges
#
# The certificate, the backend's error rate over the last 5 minutes and out-of-memory kills:
# the same checks as in alerts and monitoring, so the same priority wherever they are shown.

# %%
certs.check(stack)

# %%
logs.request_rates_recent(containers.connect(stack), stack)

# %%
logs.out_of_memory(containers.connect(stack), stack, service=None, since="1h")

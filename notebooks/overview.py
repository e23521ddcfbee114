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
# # Overview
#
# Runbook: *Overview* and *System Architecture*. Netzwächter is four services:
#
# | component | role | port |
# |---|---|---|
# | frontend | nginx serving the React SPA, TLS termination, `/api/` proxy | 80 / 443 |
# | backend | Node.js/Express API | 5000 |
# | postgres | PostgreSQL database | 5432 |
# | redis | Redis cache and session store | 6379 |
#
# User request → frontend (nginx) → backend (Node.js) → database (PostgreSQL), and the
# backend → cache (Redis). Below: the dependencies as deployed, then the four container
# health checks (frontend `GET /health`, backend `GET /api/users`, `pg_isready`, `redis-cli ping`).

# %% tags=["parameters"]
target: str = "sandbox"  # target file in parameters/targets/

# %%
from netzops import cache, containers, endpoints, load_target, postgres
from netzops.containers import compose

stack = load_target(target)

# %%
compose.dependencies(stack)

# %%
containers.service_status(containers.connect(stack), stack)

# %%
endpoints.health(endpoints.client(stack), stack)

# %%
postgres.ping(postgres.connect(stack))

# %%
cache.ping(cache.connect(stack))

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
# # Performance optimization
#
# Runbook: *Performance Optimization* — slow queries (`pg_stat_statements`, with the
# column names of the server's version), index usage, unused and duplicate indexes, tables
# read by sequential scans, dead tuples and bloat, the buffer cache hit rate, transaction-ID
# wraparound, Redis cache statistics and container resources against their limits.

# %% tags=["parameters"]
target: str = "sandbox"  # target file in parameters/targets/
top_queries: int = 10  # how many statements to show, slowest mean first
unused_max_scans: int = 50  # an index scanned fewer times than this counts as unused
cache_interval_s: float = 5.0  # seconds between the two Redis samples for the hit rate

# %%
from netzops import (
    cache,
    containers,
    load_target,
    pg_indexes,
    pg_maintenance,
    pg_statements,
    postgres,
)

stack = load_target(target)
db = postgres.connect(stack)

# %% [markdown]
# ## Database

# %%
pg_statements.slow_queries(db, limit=top_queries)

# %%
pg_indexes.index_usage(db)

# %%
pg_indexes.unused_indexes(db, max_scans=unused_max_scans)

# %%
pg_indexes.duplicate_indexes(db)

# %%
pg_indexes.missing_indexes(db)

# %%
pg_maintenance.dead_tuples(db)

# %%
pg_maintenance.cache_hit_rate(db)

# %%
pg_maintenance.transaction_id_danger(db)

# %% [markdown]
# ## Cache and containers

# %%
cache.stats(cache.connect(stack), stack, interval_s=cache_interval_s)

# %%
containers.stats(containers.connect(stack), stack)

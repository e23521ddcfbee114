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
from netzops import cache, containers, load_target, postgres

stack = load_target(target)
db = postgres.connect(stack)

# %% [markdown]
# ## Database

# %%
postgres.slow_queries(db, limit=top_queries)

# %%
postgres.index_usage(db)

# %%
postgres.unused_indexes(db, max_scans=unused_max_scans)

# %%
postgres.duplicate_indexes(db)

# %%
postgres.missing_indexes(db)

# %%
postgres.dead_tuples(db)

# %%
postgres.cache_hit_rate(db)

# %%
postgres.transaction_id_danger(db)

# %%
postgres.table_bloat(db)

# %%
postgres.maintenance_staleness(db)

# %%
postgres.freeze_age(db)

# %%
postgres.rollback_ratio(db)

# %% [markdown]
# ## Cache and containers

# %%
cache.stats(cache.connect(stack), interval_s=cache_interval_s)

# %%
containers.stats(containers.connect(stack), stack)

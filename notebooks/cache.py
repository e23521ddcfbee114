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
# # Redis cache operations
#
# Runbook: *Redis Cache Operations* (INFO memory, CLIENT LIST, MONITOR, session keys,
# clearing keys, FLUSHDB) and *Cache Optimization* (hit rate, maxmemory-policy).
# Keys are found with SCAN, never KEYS. Clearing keys, FLUSHDB and policy changes are
# **dry runs** unless `confirm` holds the confirmation string that the dry run shows.

# %% tags=["parameters"]
target: str = "sandbox"  # target file in parameters/targets/
key_pattern: str = "session:*"  # keys to count and sample (SCAN MATCH pattern)
stats_interval_s: float = 5.0  # seconds between the two INFO stats samples for the hit rate
monitor_seconds: float = 0.0  # > 0: sample MONITOR for this long (bounded, AUTH masked)
delete_pattern: str = ""  # keys to delete (guarded; `*` and empty are refused)
flush: bool = False  # FLUSHDB of the target's db (guarded)
maxmemory_policy: str = ""  # new maxmemory-policy, e.g. allkeys-lru (guarded)
confirm: str = ""  # confirmation string from the dry run, e.g. delete_keys@sandbox#…

# %% tags=["preflight"]
from netzops import cache

# bad input stops here, before anything runs (headless: before the kernel starts)
if delete_pattern:
    cache.check_pattern(delete_pattern)
if maxmemory_policy:
    cache.check_policy(maxmemory_policy)

# %%
from IPython.display import display

from netzops import cache, load_target

stack = load_target(target)
redis = cache.connect(stack)

# %% [markdown]
# ## Connectivity and memory (`redis-cli ping`, `INFO memory`)

# %%
cache.ping(redis)

# %%
cache.memory(redis)

# %% [markdown]
# ## Persistence (`LASTSAVE`, `rdb_last_bgsave_status`): age of the last good RDB save

# %%
cache.persistence(redis)

# %% [markdown]
# ## Hit rate (`INFO stats`: two samples) and clients (`CLIENT LIST`)

# %%
cache.stats(redis, interval_s=stats_interval_s)

# %%
cache.clients(redis)

# %%
cache.client_capacity(redis)

# %%
cache.evictions(redis)

# %%
cache.slowlog(redis)

# %% [markdown]
# ## Keys (`SCAN MATCH`)

# %%
cache.keys(redis, key_pattern)

# %%
if monitor_seconds > 0:
    display(cache.monitor(redis, seconds=monitor_seconds))

# %% [markdown]
# ## Guarded actions (dry run unless confirmed)

# %%
if delete_pattern:
    display(cache.delete_keys(redis, delete_pattern, confirm))

# %%
if flush:
    display(cache.flushdb(redis, confirm))

# %%
if maxmemory_policy:
    display(cache.set_maxmemory_policy(redis, maxmemory_policy, confirm))

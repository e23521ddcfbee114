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
# # Database operations
#
# Runbook: *Database Operations* — database size, tables and their sizes, active
# connections (client backends only, against the 5–20 pool band), long-running queries and
# their termination, VACUUM ANALYZE. Read-only checks use the monitoring role in a
# read-only session. Cancelling, terminating and VACUUM are **dry runs** unless `confirm`
# holds the confirmation string that the dry run shows.

# %% tags=["parameters"]
target: str = "sandbox"  # target file in parameters/targets/
long_query_minutes: int = 5  # a query running longer than this counts as long-running
cancel_long_queries: bool = False  # plan (or with confirm: do) pg_cancel_backend on them
terminate_long_queries: bool = False  # plan (or do) cancel, then terminate what still runs
vacuum_table: str = ""  # plan (or do) VACUUM (ANALYZE) of this table; "*" for the database
confirm: str = ""  # confirmation string from the dry run

# %%
from datetime import timedelta

from IPython.display import display

from netzops import load_target, postgres

stack = load_target(target)
db = postgres.connect(stack)
long_running = timedelta(minutes=long_query_minutes)

# %% [markdown]
# ## Size and tables

# %%
postgres.database_size(db)

# %%
postgres.table_sizes(db)

# %% [markdown]
# ## Connections and queries

# %%
postgres.connections(db)

# %%
postgres.long_running_queries(db, long_running)

# %%
postgres.idle_in_transaction(db, long_running)

# %%
postgres.blocked_queries(db)

# %% [markdown]
# ## Transactions, locks, capacity (check_postgres txn_time, prepared_txns, locks, backends)

# %%
postgres.oldest_transaction(db, long_running)

# %%
postgres.prepared_transactions(db)

# %%
postgres.waiting_locks(db)

# %%
postgres.connection_capacity(db)

# %%
postgres.sequence_danger(db)

# %% [markdown]
# ## WAL: archiving, checkpoints, replication slots

# %%
postgres.wal_archiving(db)

# %%
postgres.checkpoint_age(db)

# %%
postgres.replication_slots(db)

# %% [markdown]
# ## Guarded actions (admin role; dry run unless confirmed)

# %%
admin = postgres.connect(stack, role="admin")
if cancel_long_queries:
    display(postgres.cancel_backend(admin, confirm=confirm, min_duration=long_running))
if terminate_long_queries:
    display(postgres.terminate_backend(admin, confirm=confirm, min_duration=long_running))
if vacuum_table:
    display(postgres.vacuum(admin, vacuum_table, confirm=confirm))

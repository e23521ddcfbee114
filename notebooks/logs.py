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
# # Logs
#
# Runbook: *Viewing Logs* (all services or one, last N lines, timestamps, search) and
# *Log Analysis* (errors in the last hour, slow queries, failed logins, out-of-memory),
# plus the error rate from the backend's request lines and from nginx's access log.

# %% tags=["parameters"]
target: str = "sandbox"  # target file in parameters/targets/
service: str = "backend"  # a service of the target, or "all"
tail: int = 100  # last N lines
since: str = "1h"  # window start: a duration (90s, 1h30m, 2d), Unix seconds or RFC 3339
pattern: str = ""  # only lines containing this text (case-insensitive); empty: all

# %%
from netzops import containers, load_target, logs

stack = load_target(target)
docker = containers.connect(stack)

# %% [markdown]
# ## Log lines

# %%
logs.view(docker, stack, service, tail=tail, since=since, pattern=pattern, ignore_case=True)

# %% [markdown]
# ## Log analysis

# %%
logs.errors_last_hour(docker, stack)

# %%
logs.slow_queries(docker, stack, since=since)

# %%
logs.failed_logins(docker, stack, since=since)

# %%
logs.out_of_memory(docker, stack, service=None, since=since)

# %%
logs.request_rates(docker, stack, since=since)

# %%
logs.nginx_error_rate(docker, stack, since=since)

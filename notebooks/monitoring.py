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
# # Monitoring — the daily health report
#
# Runbook: *Monitoring and Dashboards*: system resources (`docker stats`, `df -h`,
# `docker system df`, volumes, network, memory, CPU), application metrics (the health
# checks and response times), log analysis, and the *Performance Metrics* against their
# thresholds (API < 200 ms, 5–20 DB connections, memory < 80 %, CPU < 70 %, disk < 80 %,
# error rate < 1 %).

# %% tags=["parameters"]
target: str = "sandbox"  # target file in parameters/targets/
samples: int = 20  # requests per endpoint for the response-time percentiles
since: str = "1h"  # window of the log analysis: a duration (1h30m), Unix seconds or RFC 3339

# %%
from netzops import cache, certs, containers, endpoints, host, load_target, logs, plots, postgres

stack = load_target(target)
docker = containers.connect(stack)
http = endpoints.client(stack)
bands = stack.bands

# %% [markdown]
# ## System resources

# %%
containers.service_status(docker, stack)

# %%
stats = containers.stats(docker, stack)
stats

# %%
plots.resources(stats, bands["cpu_percent"], bands["memory_percent"])

# %%
host.disks(stack)

# %%
host.memory(stack)

# %%
host.cpu(stack)

# %%
host.load(stack)

# %%
host.inodes(stack)

# %%
containers.system_df(docker)

# %%
containers.project_volumes(docker, stack)

# %%
containers.network(docker, stack)

# %% [markdown]
# ## Application metrics

# %%
endpoints.health(http, stack)

# %%
timings = endpoints.response_times(http, stack, ("page", "api"), samples)
timings[0]

# %%
timings[1]

# %%
plots.response_times(timings, bands["api_response_ms"])

# %%
db = postgres.connect(stack)
postgres.database_size(db)

# %%
postgres.connections(db)

# %%
redis = cache.connect(stack)
cache.memory(redis)

# %%
cache.stats(redis, interval_s=2.0)

# %%
certs.check(stack)

# %% [markdown]
# ## Log analysis

# %%
logs.errors_last_hour(docker, stack)

# %%
rates = logs.request_rates(docker, stack, since=since)
rates

# %%
plots.errors_per_minute(rates)

# %%
logs.nginx_error_rate(docker, stack, since=since)

# %%
logs.request_rates_recent(docker, stack)  # the short window, as alerts judge it

# %%
logs.out_of_memory(docker, stack, service=None, since=since)

# %%
logs.failed_logins(docker, stack, since=since)

# %%
logs.slow_queries(docker, stack, since=since)

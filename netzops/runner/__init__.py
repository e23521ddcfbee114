"""The machine behind the CLI that no notebook imports: it runs a notebook headless and keeps
the record.

    notebooks   the runbook notebooks (jupytext py:percent sources) and their catalog
    parameters  the typed parameters cell, parameter files and `-p` assignments
    kernels     the `netzops` kernelspec and the pool of warm kernels
    resident    the resident warm kernel server (`netzops kernels start`); `handover` hands
                it a whole `netzops run`, which `forked_run` runs in a fork of the server
    engine      the papermill engine that runs a notebook on a warm kernel
    execution   one run: validate, execute with papermill, write the record, append the ledger
    records     executed notebook → scrubbed .ipynb, HTML and side-car JSON
    ledger      the append-only, hash-chained ledger of runs
    reports     several notebooks as one report (in parallel over the pool) with a summary page
    summary     the summary page (findings first, key figures, records) and `runs --html`
    trends      history from the ledger and side-cars: changes, medians, forecasts
    textfile    report metrics in the Prometheus text format (node_exporter textfile)
    schedules   parameters/schedules.yaml → systemd timer + service, or a cron.d line
    notify      mail (SMTP, STARTTLS + AUTH) and Slack/Mattermost webhook for a schedule
    schedule_cli  `netzops schedule …` and what `report --notify/--prometheus` does after

The names below load `execution` on first use (PEP 562): a kernel that imports a small part
of the runner (its extension) does not pay for papermill, jupytext and nbformat.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from netzops.runner.execution import Exit, RunResult, execute, prepare

__all__ = ["Exit", "RunResult", "execute", "prepare"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'netzops.runner' has no attribute {name!r}")
    from netzops.runner import execution

    return getattr(execution, name)

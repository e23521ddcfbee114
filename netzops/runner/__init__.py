"""The machine behind the CLI that no notebook imports: it runs a notebook headless and keeps
the record.

    notebooks   the runbook notebooks (jupytext py:percent sources) and their catalog
    parameters  the typed parameters cell, parameter files and `-p` assignments
    kernels     the `netzops` kernelspec and the kernel manager
    execution   one run: validate, execute with papermill, write the record, append the ledger
    records     executed notebook → scrubbed .ipynb, HTML and side-car JSON
    ledger      the append-only, hash-chained ledger of runs
    reports     several notebooks as one report with a summary page
"""

from __future__ import annotations

from netzops.runner.execution import Exit, RunResult, execute, prepare

__all__ = ["Exit", "RunResult", "execute", "prepare"]

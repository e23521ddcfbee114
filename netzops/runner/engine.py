"""The papermill engine `netzops-warm`: papermill's nbclient engine on a kernel started ahead
of time (`kernels.Pool`) instead of one it starts itself.

papermill hands engine keyword arguments through: `papermill.execute_notebook(...,
engine_name=ENGINE, km=<started kernel manager>)`. nbclient does not own a kernel it is
given, so it neither starts nor shuts it down; this engine closes the client's channels
afterwards and the pool discards the kernel.
"""

from __future__ import annotations

from typing import Any

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.log import logger
from papermill.utils import remove_args

ENGINE = "netzops-warm"


class WarmEngine(NBClientEngine):  # type: ignore[misc]  # papermill is untyped
    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: int = 60,
        execution_timeout: int | None = None,
        **kwargs: Any,
    ) -> Any:
        km = kwargs.pop("km")
        if km is None or not km.has_kernel:
            raise RuntimeError(f"engine {ENGINE} needs a started kernel (km=...)")
        client = PapermillNotebookClient(
            nb_man,
            km=km,
            timeout=execution_timeout,
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=logger,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
            **remove_args(["input_path", "timeout", "startup_timeout"], **kwargs),
        )
        try:
            return client.execute()
        finally:
            if client.kc is not None:
                client.kc.stop_channels()


papermill_engines.register(ENGINE, WarmEngine)

"""The papermill engine `netzops-warm`: papermill's nbclient engine on a kernel started ahead
of time (`kernels.Pool`) instead of one it starts itself.

papermill hands engine keyword arguments through: `papermill.execute_notebook(...,
engine_name=ENGINE, km=<started kernel manager>)`. nbclient does not own a kernel it is
given, so it neither starts nor shuts it down; this engine closes the client's channels
afterwards and the pool discards the kernel.

papermill itself writes nothing: it is given no output path, and the notebook is saved (at
its start, as each cell starts and completes, at the end, on failure) only through the
`sink` keyword argument, a callable taking the notebook node, which the runner makes write
the record scrubbed of secrets (`records.RecordWriter`). So papermill's autosave never puts
an unscrubbed notebook on disk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines
from papermill.log import logger
from papermill.utils import remove_args

ENGINE = "netzops-warm"


class SinkManager(NotebookExecutionManager):  # type: ignore[misc]  # papermill is untyped
    """papermill's execution manager that saves through `sink` instead of to a path."""

    def __init__(self, nb: Any, sink: Callable[[Any], None], **kwargs: Any) -> None:
        super().__init__(nb, output_path=None, **kwargs)
        self.sink = sink

    def save(self, **kwargs: Any) -> None:
        self.sink(self.nb)
        self.last_save_time = self.now()


class WarmEngine(NBClientEngine):  # type: ignore[misc]  # papermill is untyped
    @classmethod
    def execute_notebook(
        cls,
        nb: Any,
        kernel_name: str,
        output_path: str | None = None,
        progress_bar: bool = False,
        log_output: bool = False,
        autosave_cell_every: int = 30,
        **kwargs: Any,
    ) -> Any:
        """papermill's `Engine.execute_notebook` with every save going to `sink`."""
        if output_path is not None:
            raise RuntimeError(f"engine {ENGINE} writes through sink=..., not to {output_path}")
        sink = kwargs.pop("sink")
        nb_man = SinkManager(
            nb,
            sink,
            progress_bar=progress_bar,
            log_output=log_output,
            autosave_cell_every=autosave_cell_every,
        )
        nb_man.notebook_start()
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
        finally:
            nb_man.cleanup_pbar()
            nb_man.notebook_complete()
        return nb_man.nb

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

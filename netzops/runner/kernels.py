"""The kernel netzops runs notebooks in: the `netzops` kernelspec over IPC sockets.

IPC transport (unix sockets in a private temporary folder) avoids both ipykernel's warning
about unencrypted TCP and port races when several kernels start at once.
"""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

from netzops.runner.notebooks import KERNEL

NAME = KERNEL


class IPCKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel listens on unix sockets in a private folder."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.transport = "ipc"
        folder = tempfile.mkdtemp(prefix="netzops-kernel-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        self.ip = folder + "/kernel"


def ensure_kernelspec() -> None:
    """Install the `netzops` kernelspec for this interpreter when it is missing."""
    if NAME not in KernelSpecManager().find_kernel_specs():
        from ipykernel.kernelspec import install

        install(kernel_name=NAME, display_name="netzops (Python)", prefix=sys.prefix)

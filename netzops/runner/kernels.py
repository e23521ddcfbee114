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


#: Every `netzops` kernel loads this IPython extension (audit lines, Lab sessions).
EXTENSION = "netzops.runner.kernel_extension"


def ensure_kernelspec() -> None:
    """Install the `netzops` kernelspec for this interpreter when it is missing or does not
    load EXTENSION (see runner.kernel_extension)."""
    import json
    import sys
    from pathlib import Path

    from jupyter_client.kernelspec import NoSuchKernel

    option = f"--ext={EXTENSION}"
    try:
        if option in KernelSpecManager().get_kernel_spec(NAME).argv:
            return
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import install

    folder = Path(install(kernel_name=NAME, display_name="netzops (Python)", prefix=sys.prefix))
    spec = json.loads((folder / "kernel.json").read_text())
    spec["argv"].append(option)
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1))

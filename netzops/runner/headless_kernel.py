"""The kernel class of headless runs (`kernels.ARGUMENTS` names it): ipykernel's
`IPythonKernel` without the debugger.

ipykernel imports debugpy in every kernel it starts, for a debugger that only JupyterLab's
debug panel can use: 0.25 s of a fresh kernel's start idle, up to 0.7 s on busy cores. A
headless run never debugs, so its kernels go without: importing this module first makes
`import debugpy` fail, which ipykernel treats as "debugger not installed". A kernel forked
from a warm server that had imported debugpy keeps it (it costs nothing there). JupyterLab's
kernels use the kernelspec alone and keep their debugger.
"""

from __future__ import annotations

import sys

if "debugpy" not in sys.modules:  # before ipykernel.debugger is first imported
    sys.modules["debugpy"] = None  # type: ignore[assignment]

from ipykernel.ipkernel import IPythonKernel


class HeadlessKernel(IPythonKernel):
    """IPythonKernel; its module keeps debugpy out."""

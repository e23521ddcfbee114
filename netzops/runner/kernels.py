"""The kernels netzops runs notebooks in: the `netzops` kernelspec over IPC sockets, kept warm.

IPC transport (unix sockets in a private temporary folder) avoids both ipykernel's warning
about unencrypted TCP and port races when several kernels start at once.

A `Pool` starts kernels ahead of use, in background threads, with the heavy imports done
(`WARM`): a kernel runs one notebook and is then discarded (killed in the background: its
outputs have all arrived when the last cell replied), while the next one is already warm.
Headless mode reaches the kernel through its environment (`guard.HEADLESS_ENV`), never
through this process's `os.environ`.

    pool = Pool(env=headless_env(), cwd=root, budget=len(notebooks), size=2)
    km = pool.take()          # a started, ready, warmed AsyncKernelManager
    ...papermill.execute_notebook(..., km=km)...
    pool.discard(km)          # returns at once
    pool.close()              # waits for the background kills; kernels never outlive us
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from pathlib import Path
from queue import Empty
from typing import Any

from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

from netzops.guard import HEADLESS_ENV
from netzops.runner import resident
from netzops.runner.forkserver import ForkProvisioner, ForkServer

NAME = "netzops"  # the kernelspec (notebooks.KERNEL; not imported: it would load jupytext)
RUN_ID_ENV = "NETZOPS_RUN_ID"  # the run id of the one notebook a kernel runs
#: Imported in a kernel before it is handed out, without binding any name in the notebook's
#: namespace: by default what the runbook notebooks import; the runner passes the modules
#: the planned notebooks import (`execution.warm_modules`).
WARM = (
    "netzops.containers",
    "netzops.postgres",
    "netzops.cache",
    "netzops.logs",
    "netzops.endpoints",
    "netzops.certs",
    "netzops.host",
    "netzops.plots",
    "netzops.triage",
    "pandas",
    "matplotlib.figure",
)
#: What nbclient passes to kernels it starts itself (no IPython history file on disk), and
#: the kernel class without the debugger (runner.headless_kernel).
ARGUMENTS = [
    "--HistoryManager.hist_file=:memory:",
    "--IPKernelApp.kernel_class=netzops.runner.headless_kernel.HeadlessKernel",  # no debugpy
]
START_TIMEOUT_S = 60.0


class QuickClient(AsyncKernelClient):
    """jupyter_client's asyncio client whose `wait_for_ready` returns as soon as the kernel
    answered kernel_info on shell and IOPub delivered a message (both channels connected),
    without the further 0.2 s of IOPub silence jupyter_client waits for: paid twice per run
    (the pool's readiness check and nbclient's), on a single run's critical path. IOPub
    messages left over from kernel_info are skipped by whoever reads next (nbclient and
    `execute_interactive` match messages to their own request)."""

    async def _quick_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:
                    await self.iopub_channel.get_msg(timeout=0.2)
                except Empty:
                    pass  # IOPub not connected yet: ask again
                else:
                    self._handle_kernel_info_reply(reply)
                    return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

    wait_for_ready = _quick_ready


class IPCKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel listens on unix sockets in a private folder (removed
    when the kernel is discarded). `run_id` names the one run the kernel is for (its
    environment has it as RUN_ID_ENV)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client_factory = QuickClient
        self.transport = "ipc"
        self.folder = tempfile.mkdtemp(prefix="netzops-kernel-")
        self.ip = self.folder + "/kernel"
        self.run_id = uuid.uuid4().hex[:12]


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


@cache
def _kernelspec_checked() -> None:
    ensure_kernelspec()


NICE_ENV = "NETZOPS_NICE"  # niceness of headless runs (runner and kernels); 0: as started
NICE = 10  # below production, as monitoring agents run (node_exporter, pganalyze: nice 10–19)


def lower_priority() -> int:
    """Lower this process's CPU priority to NICE_ENV (default NICE) for a headless run; its
    kernels inherit it (the resident server's take the runner's niceness). Returns the
    niceness now; bad values in NICE_ENV are ignored (never an error that stops a run)."""
    try:
        wanted = int(os.environ.get(NICE_ENV, NICE))
    except ValueError:
        wanted = NICE
    now = os.nice(0)
    if wanted > now:
        now = os.nice(min(wanted, 19) - now)
    return now


def headless_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a headless kernel: `base` (default: ours) plus HEADLESS_ENV=1, so
    guarded actions in the kernel never wait for input."""
    return {**(os.environ if base is None else base), HEADLESS_ENV: "1"}


async def _start(
    env: Mapping[str, str], cwd: Path, warm: tuple[str, ...], server: ForkServer | None = None
) -> IPCKernelManager:
    km = IPCKernelManager(kernel_name=NAME)
    if server is not None:  # forked from the warm server: the imports are done
        km.kernel_id = str(uuid.uuid4())
        km.provisioner = ForkProvisioner(
            kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km
        )
        km.provisioner.server = server
        warm = ()
    elif resident.enabled():  # forked by the machine's resident server when one answers
        km.kernel_id = str(uuid.uuid4())
        km.provisioner = resident.ResidentProvisioner(
            kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km
        )
    env = {**env, RUN_ID_ENV: km.run_id}
    await km.start_kernel(extra_arguments=list(ARGUMENTS), env=env, cwd=str(cwd))
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=START_TIMEOUT_S)
        if warm:
            code = (
                f"for _m in {warm!r}:\n"
                "    try:\n        __import__(_m)\n"
                "    except ImportError:\n        pass\n"
                "del _m"
            )
            await client.execute_interactive(
                code, silent=True, store_history=False, timeout=START_TIMEOUT_S
            )
    finally:
        client.stop_channels()
    return km


def start(
    env: Mapping[str, str],
    cwd: Path,
    warm: tuple[str, ...] = WARM,
    server: ForkServer | None = None,
) -> IPCKernelManager:
    """A started kernel, ready and with `warm` imported (blocking; runs its own loop);
    forked from `server` when given."""
    return asyncio.run(_start(env, cwd, warm, server))


def kill(km: AsyncKernelManager) -> None:
    """Discard a kernel at once: kill the process, free its sockets and folder."""

    async def _kill() -> None:
        try:
            await km.shutdown_kernel(now=True)
        finally:
            await km.cleanup_resources()

    try:
        asyncio.run(_kill())
    finally:
        folder = getattr(km, "folder", None)
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


class Pool:
    """Up to `size` kernels warming ahead of use, `budget` kernels in all (None: no limit);
    each kernel serves one notebook."""

    def __init__(
        self,
        env: Mapping[str, str],
        cwd: Path,
        budget: int | None = None,
        size: int = 1,
        warm: tuple[str, ...] = WARM,
    ) -> None:
        _kernelspec_checked()
        self.env, self.cwd, self.warm = dict(env), cwd, warm
        self.budget = budget
        many = budget is None or budget > 1  # else a fork server costs what it saves
        self.server = ForkServer((EXTENSION, *warm)) if many else None
        self._lock = threading.Lock()
        self._starter = ThreadPoolExecutor(max(1, size), thread_name_prefix="netzops-kernel")
        self._reaper = ThreadPoolExecutor(2, thread_name_prefix="netzops-reaper")
        self._ready: deque[Future[IPCKernelManager]] = deque()
        self._pending: list[Future[None]] = []
        self._closed = False
        for _ in range(max(1, size) if budget is None else min(max(1, size), budget)):
            self._refill()

    def _refill(self) -> None:
        if self.budget is not None:
            if self.budget <= 0:
                return
            self.budget -= 1
        self._ready.append(self._starter.submit(start, self.env, self.cwd, self.warm, self.server))

    def take(self) -> IPCKernelManager:
        """The oldest warm kernel (waiting for it if it is still starting); another one
        starts warming in its place while the budget lasts."""
        with self._lock:
            if self._closed:
                raise RuntimeError("kernel pool is closed")
            if not self._ready:  # beyond the budget: start one now
                self._ready.append(
                    self._starter.submit(start, self.env, self.cwd, self.warm, self.server)
                )
            future = self._ready.popleft()
            self._refill()
        return future.result()

    def discard(self, km: AsyncKernelManager) -> None:
        """Kill `km` in the background; returns at once."""
        with self._lock:
            self._pending.append(self._reaper.submit(kill, km))

    def close(self) -> None:
        """Kill every kernel this pool started (warm ones too) and wait for it."""
        with self._lock:
            self._closed = True
            ready = list(self._ready)
            self._ready.clear()
        for future in ready:
            if not future.cancel():
                try:
                    km = future.result()
                except Exception:  # a kernel that failed to start has nothing to kill
                    continue
                self._pending.append(self._reaper.submit(kill, km))
        self._starter.shutdown(wait=True)
        for done in self._pending:
            with contextlib.suppress(Exception):  # already dead: nothing left to kill
                done.result()
        self._reaper.shutdown(wait=True)
        if self.server is not None:
            self.server.close()

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

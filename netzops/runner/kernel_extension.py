"""The IPython extension every `netzops` kernel loads (its kernelspec passes
`--ext=netzops.runner.kernel_extension`; see kernels.install).

In every kernel, headless or not:
    - each guarded action's audit entry (dry run, refusal, done) becomes a ledger line
      (`kind: action`) at the moment the guard makes it;
    - a refused action shows its audit entry before the usual traceback, so the record and
      the run's ledger line keep the refusal too.
In interactive kernels that a Jupyter server started (JupyterLab: JPY_SESSION_NAME is set;
not NETZOPS_HEADLESS):
    - the session is recorded (sessions.Recorder): saved after each guarded action, at least
      every SAVE_EVERY_S seconds while cells run, and at kernel shutdown;
    - each dry run shows a confirmation (ipywidgets): a button, then a field where the
      engineer types the target's name; confirming runs the action through the same guard
      (fingerprint, stale-plan check, audit). Headless runs never show or wait for it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
from typing import Any

from netzops import guard
from netzops.errors import GuardRefused
from netzops.results import Result
from netzops.runner import sessions

RUN_ID_ENV = "NETZOPS_RUN_ID"  # the runner's run id, when it starts the kernel


def refused_result(audit: dict[str, Any]) -> Result:
    """A refused action's audit entry as a Result (shown, hence kept in the record)."""
    refused = Result.of(
        str(audit["action"]),
        f"{audit['action']} on {audit['target']} — refused",
        [{"step": s} for s in audit.get("steps", [])],
        notes=[str(audit.get("outcome", ""))],
    )
    refused.actions.append(audit)
    return refused


def _show_refusals(shell: Any) -> None:
    from IPython.display import display

    def show(
        shell: Any,
        etype: type[BaseException],
        value: BaseException,
        tb: Any,
        tb_offset: int | None = None,
    ) -> Any:
        audit = getattr(value, "audit", None)
        if audit:
            display(refused_result(audit))  # type: ignore[no-untyped-call]
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)  # the usual error output

    shell.set_custom_exc((GuardRefused,), show)


class _Session:
    """The hooks of an interactive kernel: transcript, saves, confirmations."""

    def __init__(self, shell: Any, recorder: sessions.Recorder) -> None:
        self.shell = shell
        self.recorder = recorder
        self.pending: list[guard.Pending] = []
        self.acted = False

    def target(self) -> str | None:
        value = self.shell.user_ns.get("target")
        return value if isinstance(value, str) else None

    def pre_run_cell(self, info: Any) -> None:
        self.acted = False
        self.recorder.begin(str(info.raw_cell), self.shell.execution_count)

    def post_run_cell(self, result: Any) -> None:
        for pending in self.pending:
            self.confirmation(pending)
        self.pending.clear()
        if result.result is not None:
            data, _ = self.shell.display_formatter.format(result.result)
            self.recorder.result(data, result.execution_count)
        failure = result.error_before_exec or result.error_in_exec
        if failure is not None:
            self.recorder.error(failure)
        self.recorder.end()
        if self.acted or self.recorder.due():
            self.recorder.save(target=self.target())

    def audited(self, entry: dict[str, Any]) -> None:
        self.acted = True

    def confirmation(self, pending: guard.Pending) -> None:
        """Show the button; typing the target's name runs the action through the guard."""
        import ipywidgets as w  # type: ignore[import-untyped]
        from IPython.display import display

        plan = pending.plan
        ask = w.Button(
            description=f"Confirm {plan.action} on {pending.target}…",
            button_style="danger",
            tooltip=plan.confirmation,
            layout=w.Layout(width="auto"),
        )
        typed = w.Text(placeholder=f"type {pending.target} to confirm")
        run = w.Button(description="Run", button_style="danger")
        prompt = w.HTML(
            f"Type the target's name to run <code>{plan.confirmation}</code> "
            f"({len(plan.steps)} step(s) above)."
        )
        form = w.VBox([prompt, w.HBox([typed, run])], layout=w.Layout(display="none"))
        out = w.Output()

        def reveal(_: Any) -> None:
            form.layout.display = "flex"
            ask.disabled = True

        def confirm(_: Any) -> None:
            run.disabled = True
            self.recorder.begin(
                f"# confirmed in JupyterLab: {plan.confirmation} (typed {typed.value!r})", None
            )
            with out:
                try:
                    display(pending.confirm(typed.value))  # type: ignore[no-untyped-call]
                    typed.disabled = True
                except GuardRefused as exc:
                    display(refused_result(exc.audit or {}))  # type: ignore[no-untyped-call]
                    self.recorder.error(exc)
                    run.disabled = False
                except Exception as exc:  # shown, recorded; the guard audited what it did
                    self.recorder.error(exc)
                    print(f"{type(exc).__name__}: {exc}")
            self.recorder.end()
            self.recorder.save(target=pending.target)

        ask.on_click(reveal)
        run.on_click(confirm)
        typed.on_submit(confirm)
        display(w.VBox([ask, form, out]))  # type: ignore[no-untyped-call]


def _capture_displays(shell: Any, recorder: sessions.Recorder) -> None:
    publisher = shell.display_pub
    original = publisher.publish

    def publish(data: Any, metadata: Any = None, *args: Any, **kwargs: Any) -> Any:
        with contextlib.suppress(Exception):  # never break a display because of the record
            recorder.display(data, metadata)
        return original(data, metadata, *args, **kwargs)

    publisher.publish = publish


def load_ipython_extension(shell: Any) -> None:
    """Install the hooks (idempotent per kernel)."""
    if getattr(shell, "_netzops_extension", False):
        return
    shell._netzops_extension = True
    _show_refusals(shell)
    interactive = not guard.headless()
    recorder = sessions.Recorder()
    run_id = os.environ.get(RUN_ID_ENV) or recorder.run_id
    notebook = recorder.notebook if interactive else os.environ.get("NETZOPS_NOTEBOOK", "")

    def to_ledger(entry: dict[str, Any]) -> None:
        sessions.audit_line(entry, run_id, notebook, interactive)

    guard.on_audit(to_ledger)
    if not interactive or not os.environ.get("JPY_SESSION_NAME"):
        return  # sessions are recorded where a Jupyter server (Lab) started the kernel
    session = _Session(shell, recorder)
    guard.on_audit(session.audited)
    guard.on_dry_run(session.pending.append)
    _capture_displays(shell, recorder)
    shell.events.register("pre_run_cell", session.pre_run_cell)
    shell.events.register("post_run_cell", session.post_run_cell)

    _save_at_shutdown(shell, lambda: recorder.save(final=True, target=session.target()))


def _save_at_shutdown(shell: Any, save: Any) -> None:
    """Save when the kernel is asked to shut down (Lab's shutdown does not wait for atexit
    handlers), and at exit for other ends."""
    atexit.register(save)
    kernel = getattr(shell, "kernel", None)
    original = getattr(kernel, "do_shutdown", None)
    if kernel is None or original is None:
        return

    def do_shutdown(*args: Any, **kwargs: Any) -> Any:
        with contextlib.suppress(Exception):  # shutting down must not fail
            save()
        return original(*args, **kwargs)

    kernel.do_shutdown = do_shutdown

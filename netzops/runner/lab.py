"""JupyterLab for netzops: runbook sources stay sources, work happens in sessions.

A Jupyter server extension (`--ServerApp.jpserver_extensions={"netzops.runner.lab": true}`)
with a contents manager (`--ServerApp.contents_manager_class=netzops.runner.lab.ContentsManager`),
both written into the virtual environment's Jupyter configuration by `install()` (run by
`make bootstrap` and `make lab`), so they apply however Lab starts there (`make lab`,
`.venv/bin/jupyter lab`):

    notebooks/*.py      open as notebooks (jupytext), read-only: Lab shows them read-only and
                        a save is refused (403) unless NETZOPS_EDIT_SOURCES=1 (a developer
                        editing a runbook on purpose).
    /netzops            the runbooks, each with a "start a session" form (target, parameters)
    /netzops/session?notebook=NAME&target=T&KEY=VALUE…
                        creates a session notebook under outputs/ (parameters filled in,
                        checked first: a bad value is a 400 with the one-line reason) and
                        opens it in Lab. Its kernel records the session (runner.sessions).
    session notebooks   saved scrubbed of secret values.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from jupytext import AsyncTextFileContentsManager
from tornado import web

from netzops.paths import notebooks_dir, outputs_dir
from netzops.runner.sessions import scrubbed, scrubber

EDIT_SOURCES_ENV = "NETZOPS_EDIT_SOURCES"
#: KernelManager.shutdown_wait_time for Lab's kernels: half of it before SIGTERM, the other
#: half before SIGKILL; time for the session's final save (a few seconds here).
SHUTDOWN_S = 60.0


class ContentsManager(AsyncTextFileContentsManager):  # type: ignore[misc]
    """Jupytext's contents manager; runbook sources are read-only, sessions scrubbed."""

    def _os_path(self, path: str) -> Path:
        return Path(self.root_dir, path.strip("/")).resolve()

    def _is_source(self, path: str) -> bool:
        full = self._os_path(path)
        return full.parent == notebooks_dir().resolve() and full.suffix in (".py", ".ipynb")

    async def get(self, path: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        model: dict[str, Any] = await super().get(path, *args, **kwargs)
        if model.get("type") != "directory" and self._is_source(path):
            model["writable"] = os.environ.get(EDIT_SOURCES_ENV) == "1"
        return model

    async def save(self, model: dict[str, Any], path: str = "") -> dict[str, Any]:
        if self._is_source(path) and os.environ.get(EDIT_SOURCES_ENV) != "1":
            raise web.HTTPError(
                403,
                f"{path} is a runbook source and read-only here: start a session from "
                f"/netzops (or set {EDIT_SOURCES_ENV}=1 to edit the runbook on purpose)",
            )
        if model.get("type") == "notebook" and "content" in model and self._in_outputs(path):
            content = model["content"]
            meta = (
                content.get("metadata", {}).get("netzops", {}) if isinstance(content, dict) else {}
            )
            target = meta.get("target") if isinstance(meta, dict) else None
            scrub = scrubber(target if isinstance(target, str) else self._target_of(path))
            model = {**model, "content": scrubbed(content, scrub)}
        saved: dict[str, Any] = await super().save(model, path)
        return saved

    def _in_outputs(self, path: str) -> bool:
        return self._os_path(path).is_relative_to(outputs_dir().resolve())

    def _target_of(self, path: str) -> str | None:
        """outputs/<target>/... names the target of a notebook saved there."""
        parts = self._os_path(path).relative_to(outputs_dir().resolve()).parts
        return parts[0] if len(parts) > 1 else None

    async def delete_file(self, path: str) -> None:
        if self._is_source(path) and os.environ.get(EDIT_SOURCES_ENV) != "1":
            raise web.HTTPError(403, f"{path} is a runbook source: not deleted")
        await super().delete_file(path)

    async def rename_file(self, old_path: str, new_path: str) -> None:
        if self._is_source(old_path) and os.environ.get(EDIT_SOURCES_ENV) != "1":
            raise web.HTTPError(403, f"{old_path} is a runbook source: not renamed")
        await super().rename_file(old_path, new_path)


def _root(handler: JupyterHandler) -> Path:
    return Path(handler.settings["server_root_dir"]).expanduser().resolve()


class SessionHandler(JupyterHandler):
    """Create a session notebook and open it in Lab."""

    @web.authenticated
    def get(self) -> None:
        from netzops.errors import NetzopsError
        from netzops.runner.sessions import create

        name = self.get_argument("notebook")
        target = self.get_argument("target", "sandbox")
        params = {
            k: self.get_argument(k)
            for k in self.request.arguments
            if k not in ("notebook", "target", "token", "_xsrf") and self.get_argument(k) != ""
        }
        try:
            path = create(name, target, params)
        except NetzopsError as exc:
            raise web.HTTPError(400, str(exc)) from None
        try:
            rel = path.resolve().relative_to(_root(self))
        except ValueError:
            raise web.HTTPError(
                500, f"session {path} is outside Lab's root folder: set NETZOPS_OUTPUTS inside it"
            ) from None
        self.redirect(url_path_join(self.base_url, "lab", "tree", *rel.parts))


class IndexHandler(JupyterHandler):
    """The runbooks, each with a form that starts a session."""

    @web.authenticated
    def get(self) -> None:
        from netzops.runner import notebooks
        from netzops.targets import list_targets

        targets = "".join(f"<option>{html.escape(t)}</option>" for t in list_targets())
        action = html.escape(url_path_join(self.base_url, "netzops", "session"))
        rows = []
        for name in notebooks.catalog():
            nb = notebooks.load(name)
            fields = "".join(
                f'<label title="{html.escape(p.help)}">{html.escape(p.name)} '
                f'<input name="{html.escape(p.name)}" placeholder="{html.escape(repr(p.default))}">'
                "</label> "
                for p in nb.parameters
                if p.name != "target"
            )
            rows.append(
                f'<form method="get" action="{action}"><h3>{html.escape(nb.title)} '
                f"<small>({html.escape(name)})</small></h3>"
                f'<input type="hidden" name="notebook" value="{html.escape(name)}">'
                f'target <select name="target">{targets}</select> {fields}'
                f'<button type="submit" data-notebook="{html.escape(name)}">'
                "Start a session</button></form>"
            )
        self.finish(
            "<!doctype html><meta charset=utf-8><title>netzops runbooks</title>"
            "<h1>netzops runbooks</h1><p>Sources in notebooks/ are read-only. A session is a "
            "copy under outputs/ with your parameters; what you run there is recorded "
            "(<code>netzops runs --interactive</code>).</p>" + "".join(rows)
        )


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "netzops.runner.lab"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    web_app = serverapp.web_app
    base = web_app.settings["base_url"]
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "netzops"), IndexHandler),
            (url_path_join(base, "netzops", "session"), SessionHandler),
        ],
    )
    outputs = outputs_dir()
    serverapp.log.info(f"netzops: runbooks at {url_path_join(base, 'netzops')}; records {outputs}")


def install(prefix: str | None = None) -> Path:
    """Configure Jupyter in this environment (`prefix`, default sys.prefix) for netzops:
    this server extension and contents manager, and Lab opening py:percent files as
    notebooks. Returns the server config file. Idempotent."""
    import sys

    root = Path(prefix or sys.prefix)
    # Jupyter reads only `jpserver_extensions` from jupyter_server_config.d/*.json; every
    # other option (the contents manager) must be in jupyter_server_config.json itself, or
    # jupytext's extension derives its own manager and the sources become writable.
    enable = root / "etc" / "jupyter" / "jupyter_server_config.d" / "netzops.json"
    enable.parent.mkdir(parents=True, exist_ok=True)
    server = {"jpserver_extensions": {"netzops.runner.lab": True}}
    enable.write_text(json.dumps({"ServerApp": server}, indent=2) + "\n")
    config = root / "etc" / "jupyter" / "jupyter_server_config.json"
    try:
        data = json.loads(config.read_text())
    except (OSError, ValueError):
        data = {}
    data = data if isinstance(data, dict) else {}
    app = data.setdefault("ServerApp", {})
    app["contents_manager_class"] = "netzops.runner.lab.ContentsManager"
    # Lab's kernel shutdown waits shutdown_wait_time / 2 before SIGTERM: the kernel's final
    # session save (record, HTML, ledger line; see kernel_extension) needs longer than the
    # default 5 s allows.
    manager = data.setdefault("KernelManager", {})
    manager["shutdown_wait_time"] = max(float(manager.get("shutdown_wait_time", 0)), SHUTDOWN_S)
    config.write_text(json.dumps(data, indent=2) + "\n")
    settings = root / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    viewers = {"defaultViewers": {"python": "Jupytext Notebook"}}
    settings.write_text(json.dumps({"@jupyterlab/docmanager-extension:plugin": viewers}) + "\n")
    return config


if __name__ == "__main__":
    print(install())

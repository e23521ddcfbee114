"""The files the sandbox's containers read at run time, kept in the per-machine state folder.

A clone's `sandbox/{postgres,redis,backend,frontend}` are copied to
`<state>/assets/` (state: the sandbox target's NW_STATE_DIR, by default
`~/.local/state/netzops/sandbox`), which the compose file bind-mounts; so every clone on a
machine brings up the same stack and deleting a clone does not break it. The copy carries a
manifest (`MANIFEST.json`: relative path → SHA-256 of the file's bytes and mode) that tells
whether a clone's files are those of the running stack.

    clone = manifest(source())               # {"postgres/seed.sql": "ab12…", …}
    installed_manifest(target_dir(state))    # the running stack's, or None before the first up
    differences(installed, clone)            # ["postgres/seed.sql changed", …]
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

from netzops.errors import NetzopsError
from netzops.paths import project_root

#: The folders the containers bind-mount, by the compose service that mounts each.
SERVICES = {"postgres": "postgres", "redis": "redis", "backend": "backend", "frontend": "frontend"}
MANIFEST = "MANIFEST.json"
_SKIP = {"node_modules", ".gitignore", ".state"}  # installed or local, not part of the assets


def source() -> Path:
    """The clone's sandbox folder (the assets' source)."""
    return project_root() / "sandbox"


def target_dir(state: Path) -> Path:
    """Where the running stack's assets live: `<state>/assets`."""
    return state / "assets"


def _files(root: Path) -> list[Path]:
    found = []
    for folder in SERVICES:
        for path in sorted((root / folder).rglob("*")):
            rel = path.relative_to(root)
            if path.is_file() and not _SKIP & set(rel.parts):
                found.append(rel)
    return found


def _digest(path: Path) -> str:
    mode = "x" if os.access(path, os.X_OK) else "-"
    return hashlib.sha256(path.read_bytes()).hexdigest() + mode


def manifest(root: Path) -> dict[str, str]:
    """{relative path: sha256 hex digest + "x" (executable) or "-"} of the assets under
    `root` (a clone's `sandbox/` or an installed assets folder); node_modules is left out
    (it follows package-lock.json)."""
    return {str(rel): _digest(root / rel) for rel in _files(root)}


def installed_manifest(folder: Path) -> dict[str, str] | None:
    """The manifest written with the installed assets, or None when none are installed."""
    try:
        data = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else None


def differences(installed: dict[str, str], wanted: dict[str, str]) -> list[str]:
    """What differs, one phrase per file, sorted: "postgres/seed.sql changed" (or added,
    removed)."""
    out = [f"{p} changed" for p in wanted if p in installed and installed[p] != wanted[p]]
    out += [f"{p} added" for p in wanted if p not in installed]
    out += [f"{p} removed" for p in installed if p not in wanted]
    return sorted(out)


def services_of(changes: list[str]) -> list[str]:
    """The compose services whose mounted folder holds one of `changes`."""
    return sorted({SERVICES[c.split("/", 1)[0]] for c in changes})


def install(folder: Path, root: Path | None = None) -> dict[str, str]:
    """Copy the clone's assets (`root`, default `source()`) into `folder`, file by file in
    place (mounted folders stay the same inodes), remove files the clone no longer has,
    install the backend's npm packages when package-lock.json changed, and write the
    manifest last; returns the manifest. Raises NetzopsError when npm is needed but
    missing or fails."""
    root = root or source()
    wanted = manifest(root)
    before = installed_manifest(folder) or {}
    for rel in wanted:
        dest = folder / rel
        if before.get(rel) == wanted[rel] and dest.is_file():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
        shutil.copy2(root / rel, tmp)
        tmp.chmod(0o755 if wanted[rel].endswith("x") else 0o644)
        os.replace(tmp, dest)
    for rel in set(before) - set(wanted):
        (folder / rel).unlink(missing_ok=True)
    lock = "backend/package-lock.json"
    if before.get(lock) != wanted.get(lock) or not _has_packages(folder / "backend"):
        _install_packages(root / "backend", folder / "backend")
    (folder / MANIFEST).write_text(json.dumps({"files": wanted}, indent=1, sort_keys=True))
    return wanted


def _has_packages(backend: Path) -> bool:
    return (backend / "node_modules" / "express").is_dir()


def _install_packages(clone: Path, backend: Path) -> None:
    """node_modules for the installed backend: the clone's own when it has them (offline),
    else `npm ci` in the installed folder."""
    shutil.rmtree(backend / "node_modules", ignore_errors=True)
    if _has_packages(clone):
        shutil.copytree(clone / "node_modules", backend / "node_modules", symlinks=True)
        return
    npm = shutil.which("npm")
    if not npm:
        raise NetzopsError("npm not found: install Node.js and npm (apt-get install nodejs npm)")
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=backend,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise NetzopsError("npm ci for the sandbox backend failed: " + " | ".join(tail))

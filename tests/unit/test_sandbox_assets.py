"""The sandbox's per-machine assets (manifest, differences, install) and the per-container
lines of `sandbox up`, on temporary folders and plain values."""

from __future__ import annotations

import json
from pathlib import Path

from netzops.sandbox import assets
from netzops.sandbox.converge import Difference, Seen, changes, config_differences


def clone(root: Path) -> Path:
    src = root / "sandbox"
    for rel, text in {
        "postgres/seed.sql": "select 1;\n",
        "postgres/entrypoint.sh": "#!/bin/sh\n",
        "redis/entrypoint.sh": "#!/bin/sh\n",
        "frontend/nginx.conf": "events {}\n",
        "backend/server.js": "console.log(1)\n",
        "backend/package-lock.json": "{}\n",
        "backend/node_modules/express/index.js": "module.exports = 1\n",
        "base/build.sh": "not an asset\n",
    }.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    (src / "postgres/entrypoint.sh").chmod(0o755)
    return src


def test_install_copies_the_assets_and_writes_the_manifest(tmp_path: Path) -> None:
    src, dest = clone(tmp_path), tmp_path / "state" / "assets"
    wanted = assets.install(dest, src)
    assert set(wanted) == {
        "postgres/seed.sql",
        "postgres/entrypoint.sh",
        "redis/entrypoint.sh",
        "frontend/nginx.conf",
        "backend/server.js",
        "backend/package-lock.json",
    }  # neither node_modules nor base/
    assert wanted["postgres/entrypoint.sh"].endswith("x") and wanted["postgres/seed.sql"][-1] == "-"
    assert (dest / "postgres" / "entrypoint.sh").stat().st_mode & 0o111
    assert (dest / "backend/node_modules/express/index.js").is_file()  # the clone's packages
    assert json.loads((dest / assets.MANIFEST).read_text())["files"] == wanted
    assert assets.installed_manifest(dest) == assets.manifest(dest) == wanted


def test_differences_name_each_file_and_its_service(tmp_path: Path) -> None:
    src, dest = clone(tmp_path), tmp_path / "assets"
    installed = assets.install(dest, src)
    (src / "frontend/nginx.conf").write_text("events { }\n")
    (src / "redis/entrypoint.sh").unlink()
    (src / "postgres/new.sql").write_text("select 2;\n")
    found = assets.differences(installed, assets.manifest(src))
    assert found == [
        "frontend/nginx.conf changed",
        "postgres/new.sql added",
        "redis/entrypoint.sh removed",
    ]
    assert assets.services_of(found) == ["frontend", "postgres", "redis"]
    assets.install(dest, src)
    assert not (dest / "redis/entrypoint.sh").exists()
    assert assets.differences(assets.installed_manifest(dest) or {}, assets.manifest(src)) == []


def test_nothing_installed_reads_as_none(tmp_path: Path) -> None:
    assert assets.installed_manifest(tmp_path / "nowhere") is None


def seen(name: str, cid: str, status: str = "running", started: str = "t1", h: str = "h") -> Seen:
    return Seen(name, name.split("-")[-1], cid, status, started, h)


def test_one_line_per_container() -> None:
    before = {
        s.name: s
        for s in (
            seen("nw-postgres", "a"),
            seen("nw-redis", "b", "exited"),
            seen("nw-frontend", "c"),
            seen("nw-backend", "d"),
            seen("nw-old", "e"),
        )
    }
    after = {
        s.name: s
        for s in (
            seen("nw-postgres", "a"),
            seen("nw-redis", "b", started="t2"),
            seen("nw-frontend", "x"),
            seen("nw-backend", "d", started="t2"),
            seen("nw-new", "f"),
        )
    }
    assert changes(before, after) == [
        "nw-backend: restarted",
        "nw-frontend: recreated",
        "nw-new: created",
        "nw-postgres: left running",
        "nw-redis: started",
        "nw-old: removed",
    ]


def test_a_difference_is_refused_in_one_line_naming_recreate() -> None:
    running = {"nw-redis": seen("nw-redis", "b", h="old"), "nw-postgres": seen("nw-postgres", "a")}
    config = config_differences(running, {"redis": "new", "postgres": "h"})
    assert config == ["redis"]
    line = Difference(config, ["frontend/nginx.conf changed"]).refusal()
    assert "\n" not in line and "--recreate" in line
    assert "frontend/nginx.conf changed" in line and "compose configuration of redis" in line
    assert "recreates frontend, redis" in line
    assert not Difference([], [])

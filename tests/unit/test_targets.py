from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from netzops.errors import BadInput, UnknownService, UnknownTarget
from netzops.paths import targets_dir
from netzops.targets import list_targets, load_target, parse_target


def test_shipped_targets_load_and_hold_no_secret_values() -> None:
    assert "sandbox" in list_targets()
    example = parse_target(yaml.safe_load((targets_dir() / "production.example.yaml").read_text()))
    assert example.allow_destructive is False
    sandbox = load_target("sandbox")
    assert sandbox.compose.project == "netzwaechter"
    assert sandbox.services == ["frontend", "backend", "postgres", "redis"]
    for path in targets_dir().glob("*.yaml"):
        text = path.read_text().lower()
        assert "password:" not in text.replace("_password:", "")


@pytest.mark.parametrize("name", ["../etc/passwd", "Sandbox", "", "a b", "x;rm", "é"])
def test_hostile_target_names_are_refused(name: str) -> None:
    with pytest.raises(BadInput):
        load_target(name)


def test_unknown_target_and_service() -> None:
    with pytest.raises(UnknownTarget):
        load_target("nosuchtarget")
    with pytest.raises(UnknownService, match="backend"):
        load_target("sandbox").check_service("mysql")


@pytest.mark.parametrize("every", ["", "all", None])
def test_empty_and_all_both_mean_every_service(every: str | None) -> None:
    """What a parameters cell holds (`service = ""` or `"all"`) is every service: None, as
    the library's calls take it; a named service stays itself, an unknown one is refused."""
    target = load_target("sandbox")
    assert target.service_or_all(every) is None
    assert target.service_or_all("backend") == "backend"
    with pytest.raises(UnknownService, match="ALL"):
        target.service_or_all("ALL")  # only the lower-case word is the sentinel


def test_invalid_target_file_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("name: broken\ncompose: {}\n")
    with pytest.raises(BadInput, match="broken"):
        load_target("broken", tmp_path)

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netzops.errors import BadInput
from netzops.findings import Finding, Priority
from netzops.results import MIME_TYPE, Result
from netzops.secrets import MASK, Scrubber, SecretRef


def test_env_wins_over_file_and_values_are_scrubbed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pw").write_text("from-file-value\n")
    ref = SecretRef(env="NETZOPS_TEST_SECRET", file="pw")
    assert ref.resolve(tmp_path) == "from-file-value"
    monkeypatch.setenv("NETZOPS_TEST_SECRET", "canary-0123456789")
    assert ref.resolve(tmp_path) == "canary-0123456789"
    scrub = Scrubber([ref.resolve(tmp_path)])
    assert scrub("dsn password=canary-0123456789 x") == f"dsn password={MASK} x"


def test_missing_secret_names_the_reference_not_a_value(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="nope"):
        SecretRef(file="nope").resolve(tmp_path)
    with pytest.raises(ValueError):
        SecretRef()
    with pytest.raises(ValueError):
        SecretRef(env="NOT A NAME; rm -rf /")


def test_result_shows_itself_three_ways() -> None:
    result = Result.of(
        "demo",
        "Demo <b>",
        [{"name": "<script>x</script>", "n": 1}],
        [Finding("demo", "svc", Priority.P1, "bad & worse")],
        {"demo.n": 1.0},
    )
    bundle = result._repr_mimebundle_()
    assert json.loads(json.dumps(bundle[MIME_TYPE]))["metrics"] == {"demo.n": 1.0}
    assert "<script>" not in bundle["text/html"] and "&lt;script&gt;" in bundle["text/html"]
    assert "P1" in bundle["text/plain"]
    assert result.to_frame().shape == (1, 2)
    assert not result.ok


def test_escaped_forms_of_a_secret_are_scrubbed_too() -> None:
    import html
    import json
    from urllib.parse import quote

    value = 'pa"ss<&>\\word/ 1'
    scrub = Scrubber([value])
    for form in (
        value,
        json.dumps(value),
        html.escape(value),
        quote(value, safe=""),
        json.dumps(html.escape(value)),
    ):
        assert value not in scrub(form) and "pa" not in scrub(form).replace("********", "")

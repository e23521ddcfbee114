"""A secret in base64 or hex, alone or inside a longer encoded string (an `Authorization:
Basic` header with `user:password`, a token that holds it): masked wherever it sits. The
check decodes the scrubbed text itself, independently of how the scrubber finds forms."""

from __future__ import annotations

import base64
import binascii
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netzops import secrets
from netzops.runner.records import write_sidecar

B64_RUN = re.compile(r"[A-Za-z0-9+/_-]{4,}")
HEX_RUN = re.compile(r"[0-9A-Fa-f]{8,}")


def _decoded(text: str) -> list[bytes]:
    """Every byte string a reader could decode out of `text`: each run of base64 characters
    from each of its first four offsets (either alphabet), each run of hex digits from
    either of its first two offsets."""
    found = []
    for run in B64_RUN.findall(text):
        for offset in range(4):
            piece = run[offset:]
            piece = piece[: len(piece) // 4 * 4].replace("-", "+").replace("_", "/")
            try:
                found.append(base64.b64decode(piece, validate=True))
            except binascii.Error:
                continue
    for run in HEX_RUN.findall(text):
        for offset in range(2):
            piece = run[offset:]
            found.append(bytes.fromhex(piece[: len(piece) // 2 * 2]))
    return found


def _holds(text: str, secret: str) -> bool:
    return any(secret.encode() in blob for blob in _decoded(text))


SECRETS = ["S3cr3t-pa55word", "kurz1234", "pässwörd-ünïcode", "a+b/c=d?e&f#g"]


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize("before", ["", "u", "us", "netzwaechter:", '{"pw": "'])
@pytest.mark.parametrize("alphabet", ["standard", "urlsafe"])
def test_base64_of_a_secret_inside_other_bytes_is_masked(
    secret: str, before: str, alphabet: str
) -> None:
    encode = base64.b64encode if alphabet == "standard" else base64.urlsafe_b64encode
    blob = encode((before + secret + '"}').encode()).decode()
    text = f"GET /api/users Authorization: Basic {blob} 200"
    assert _holds(text, secret)  # the check finds it before scrubbing
    scrubbed = secrets.Scrubber([secret])(text)
    assert not _holds(scrubbed, secret), scrubbed
    assert scrubbed.startswith("GET /api/users Authorization: Basic ")


@pytest.mark.parametrize("secret", SECRETS)
def test_hex_of_a_secret_is_masked_in_either_case(secret: str) -> None:
    for blob in (("\\x" + secret.encode().hex()), ("00ff" + secret.encode().hex().upper())):
        assert _holds(blob, secret)
        assert not _holds(secrets.Scrubber([secret])(blob), secret)


@settings(max_examples=60, deadline=None)
@given(
    secret=st.text(min_size=8, max_size=40).filter(lambda s: "\x00" not in s),
    before=st.binary(max_size=7),
    after=st.binary(max_size=7),
)
def test_any_secret_at_any_alignment(secret: str, before: bytes, after: bytes) -> None:
    blob = base64.b64encode(before + secret.encode() + after).decode()
    assert not _holds(secrets.Scrubber([secret])(f"token={blob};"), secret)


def test_short_values_and_ordinary_text_are_left_alone() -> None:
    text = "deadbeef cafe GET /static/app.3f9c2a1b.js aGVsbG8gd29ybGQ="
    assert "aGVsbG8gd29ybGQ" not in secrets.Scrubber(["hello world"])(text)  # a real value
    assert secrets.Scrubber(["abcd"])(text) == text  # too short for any binary form
    assert all(len(f) >= secrets.MIN_BINARY_FORM for f in secrets.binary_forms("abcd1234"))


def test_a_side_car_holds_no_base64_of_a_secret(tmp_path: Path) -> None:
    secret = "S3cr3t-pa55word"
    header = "Basic " + base64.b64encode(f"netzwaechter:{secret}".encode()).decode()
    path = tmp_path / "run.json"
    write_sidecar(path, {"rows": [{"header": header}]}, secrets.Scrubber([secret]))
    written = path.read_text()
    assert not _holds(written, secret)
    assert json.loads(written)["rows"][0]["header"].startswith("Basic bmV0endhZWNodGVy")

"""Issue 11, kind D: names compared by the rules of their domain — host names as DNS
compares them (case, trailing dot, IDNA, IP forms), wildcards for exactly one label."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netzops.certs import _matches, host_key


@pytest.mark.parametrize(
    ("server_name", "names", "expected"),
    [
        ("LocalHost", ["localhost"], True),
        ("localhost.", ["localhost"], True),
        ("api.Example.com", ["*.example.COM"], True),
        ("example.com", ["*.example.com"], False),  # a wildcard needs a label
        ("a.b.example.com", ["*.example.com"], False),  # … exactly one
        ("::1", ["0:0:0:0:0:0:0:1"], True),
        ("[::1]", ["::1"], True),
        ("127.0.0.1", ["127.0.0.2"], False),
        ("1.2.3.4", ["*.3.4"], False),  # never a wildcard for an IP address
        ("1.2.3.4", ["*.3.4", "1.2.3.4"], True),
        ("bücher.de", ["xn--bcher-kva.de"], True),
        ("other.example", ["localhost"], False),
    ],
)
def test_host_names_match_as_dns_compares_them(
    server_name: str, names: list[str], expected: bool
) -> None:
    assert _matches(server_name, names) is expected


LABEL = st.from_regex(r"[a-zA-Z][a-zA-Z0-9-]{0,10}", fullmatch=True)


@given(st.lists(LABEL, min_size=1, max_size=4))
def test_case_and_trailing_dot_never_matter(labels: list[str]) -> None:
    name = ".".join(labels)
    assert host_key(name.upper() + ".") == host_key(name.lower())
    assert _matches(name.swapcase(), [name])

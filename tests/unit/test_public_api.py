from __future__ import annotations

import netzops
from netzops import errors


def test_public_names_are_exported_and_exist() -> None:
    assert netzops.__all__ == sorted(netzops.__all__)
    for name in netzops.__all__:
        assert getattr(netzops, name) is not None


def test_every_error_descends_from_the_root() -> None:
    classes = [
        v
        for v in vars(errors).values()
        if isinstance(v, type) and issubclass(v, Exception) and v.__module__ == errors.__name__
    ]
    assert len(classes) >= 8
    assert all(issubclass(c, errors.NetzopsError) for c in classes)
    assert errors.__doc__ is not None
    assert all(c.__name__ in errors.__doc__ for c in classes)  # the tree is drawn

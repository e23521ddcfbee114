"""Issue 16: the pure formulas behind the DBA checks (no server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from netzops.postgres.bloat import BloatSource, expected_bytes, row_bytes
from netzops.postgres.sequences import SequenceUse, used_percent
from netzops.postgres.wal import Archiver, failing


def source(attlens: list[int], aligns: list[str], widths: list[int | None]) -> BloatSource:
    return BloatSource(
        "public", "t", 0, 8192, 1000.0, 100, attlens, aligns, widths, [0.0] * len(attlens), False
    )


def test_row_bytes_pads_columns_to_their_alignment() -> None:
    # (int4, bool, int2): 4 + 1, pad to 2, + 2 = 8 bytes of data; header 23 → 24; + 4 pointer
    narrow = source([4, 1, 2], ["i", "c", "s"], [4, 1, 2])
    assert row_bytes(narrow) == (24 + 8 + 4, True)
    # bool then int8: 1, pad to 8, + 8 = 16 (without padding it would be 9 → 16 anyway)
    padded = source([1, 8, 1, 8], ["c", "d", "c", "d"], [1, 8, 1, 8])
    assert row_bytes(padded)[0] == 24 + 32 + 4  # 1+7+8+1+7+8 = 32; unpadded sum 18 → 24
    unknown = source([-1], ["i"], [None])
    assert row_bytes(unknown)[1] is False


def test_expected_bytes_fills_whole_pages_at_fillfactor() -> None:
    assert expected_bytes(0, 36, 8192, 100) == 0
    assert expected_bytes(226, 36, 8192, 100) == 8192  # (8192 − 24) // 36 = 226 per page
    assert expected_bytes(227, 36, 8192, 100) == 2 * 8192
    assert expected_bytes(226, 36, 8192, 50) == 2 * 8192  # 4072 usable bytes: 113 a page


def seq(last: int | None, readable: bool = True, limit: int = 2147483647) -> SequenceUse:
    return SequenceUse("public", "s", "bigint", "t", "id", "integer", last, 1, 1, limit, readable)


def test_sequence_use_is_against_the_binding_limit() -> None:
    assert used_percent(seq(2147483647 // 2)) == 50.0
    assert used_percent(seq(None)) == 0.0
    assert used_percent(seq(5, readable=False)) is None


def test_archiver_failing_only_when_no_success_since_the_failure() -> None:
    now = datetime.now(UTC)
    base = Archiver("on", 10, 1, "a", now, "b", now - timedelta(minutes=1), 0)
    assert not failing(base)
    assert failing(Archiver("on", 10, 1, "a", now - timedelta(minutes=2), "b", now, 0))
    assert failing(Archiver("on", 0, 1, None, None, "b", now, 0))

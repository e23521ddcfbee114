"""PostgreSQL table bloat: heap space beyond what the live rows need.

Bloat here is `heap bytes − bytes the live rows would fill when packed at the table's
fillfactor` (never below 0), the definition of pgHero and ioguix's bloat queries. Two methods,
named in every row:

- ``pgstattuple_approx`` when the pgstattuple extension is installed in the database (the
  monitoring role needs pg_stat_scan_tables, part of pg_monitor): the live rows counted from
  the pages (not reltuples), and `not_live_bytes` = dead tuples + free space as measured
  (this includes the free space a packed table has too: fillfactor, page tails).
- ``estimate`` otherwise: live rows from pg_class.reltuples.

Both size a row from pg_stats' average column widths *with* the alignment padding
PostgreSQL inserts before each column
(typalign) and the MAXALIGNed tuple header and null bitmap, 4 bytes of line pointer per row
and 24 bytes of page header per page. check_postgres's `bloat` ignores the padding (and
reports bloat on narrow, freshly loaded tables); netzops's estimate does not. Tested against
pgstattuple's exact figures on the sandbox (tests/integration/test_postgres_dba.py).

Columns this role may not read have no pg_stats row: their width counts as `UNKNOWN_WIDTH`
and the row says `complete=False`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from netzops.checks import Outcome
from netzops.findings import Finding, Priority
from netzops.postgres.client import Database, check

PAGE_HEADER = 24  # SizeOfPageHeaderData
LINE_POINTER = 4  # sizeof(ItemIdData)
TUPLE_HEADER = 23  # offsetof(HeapTupleHeaderData, t_bits)
MAXALIGN = 8  # 64-bit servers
UNKNOWN_WIDTH = 32  # width assumed for a varlena column without statistics
_ALIGN = {"c": 1, "s": 2, "i": 4, "d": 8}


@dataclass(frozen=True)
class BloatSource:
    schema: str
    table_name: str
    heap_bytes: int
    block_size: int
    reltuples: float
    fillfactor: int
    attlens: list[int]
    attaligns: list[str]
    avg_widths: list[int | None]
    null_fracs: list[float]
    has_pgstattuple: bool


@dataclass(frozen=True)
class ApproxTuples:
    table_bytes: int
    live_tuples: float
    live_bytes: int
    dead_bytes: int
    free_bytes: int
    scanned_percent: float


@dataclass(frozen=True)
class TableBloat:
    schema: str
    table_name: str
    heap_bytes: int
    live_rows: int
    row_bytes: float  # per row on the page: aligned header + data + line pointer
    expected_bytes: int  # the live rows packed at fillfactor, whole pages
    bloat_bytes: int
    bloat_percent: float  # of heap_bytes
    method: str  # "pgstattuple_approx" | "estimate" | "no statistics"
    complete: bool  # every column's width was known
    not_live_bytes: int | None  # pgstattuple_approx: dead tuples + free space, measured


def _align(offset: float, to: int) -> float:
    return math.ceil(offset / to) * to if to > 1 else offset


def row_bytes(s: BloatSource) -> tuple[float, bool]:
    """Bytes one live row takes on a heap page (header, padding, data, line pointer), and
    whether every column's width was known. Pure: follows heap_form_tuple's layout."""
    has_nulls = any(f > 0 for f in s.null_fracs)
    header = TUPLE_HEADER + (math.ceil(len(s.attlens) / 8) if has_nulls else 0)
    offset, complete = 0.0, True
    for length, align, width, null_frac in zip(
        s.attlens, s.attaligns, s.avg_widths, s.null_fracs, strict=True
    ):
        if width is None:
            complete = False
            width = length if length > 0 else UNKNOWN_WIDTH
        # a varlena under 127 bytes is stored with a 1-byte header and is not aligned
        to = 1 if length == -1 and width < 127 else _ALIGN.get(align, 1)
        present = _align(offset, to) + width
        offset = (1 - null_frac) * present + null_frac * offset
    return _align(header, MAXALIGN) + _align(offset, MAXALIGN) + LINE_POINTER, complete


def expected_bytes(rows: float, per_row: float, block_size: int, fillfactor: int) -> int:
    """Whole pages that `rows` rows of `per_row` bytes fill at `fillfactor` percent."""
    if rows <= 0:
        return 0
    usable = (block_size - PAGE_HEADER) - block_size * (100 - fillfactor) / 100
    max_per_page = (block_size - PAGE_HEADER) // (_align(TUPLE_HEADER, MAXALIGN) + LINE_POINTER)
    per_page = max(1, min(int(usable // per_row), int(max_per_page)))
    return math.ceil(rows / per_page) * block_size


def _row(s: BloatSource, approx: ApproxTuples | None) -> TableBloat:
    per_row, complete = row_bytes(s)
    heap, rows, method, not_live = s.heap_bytes, max(s.reltuples, 0.0), "estimate", None
    if approx is not None:
        heap, rows, method = approx.table_bytes, approx.live_tuples, "pgstattuple_approx"
        not_live = approx.dead_bytes + approx.free_bytes
    elif s.reltuples < 0:
        method = "no statistics"
    expected = expected_bytes(rows, per_row, s.block_size, s.fillfactor)
    bloat = max(0, heap - expected) if method != "no statistics" else 0
    return TableBloat(
        s.schema,
        s.table_name,
        heap,
        round(rows),
        round(per_row, 1),
        expected,
        bloat,
        round(100.0 * bloat / heap, 1) if heap else 0.0,
        method,
        complete,
        not_live,
    )


def _approx(db: Database, s: BloatSource) -> ApproxTuples | None:
    if not s.has_pgstattuple or s.heap_bytes == 0:
        return None
    params = {"schema": s.schema, "table": s.table_name}
    return db.rows("table_bloat_approx", ApproxTuples, params)[0]


def estimate(db: Database, use_pgstattuple: bool = True) -> list[TableBloat]:
    """Bloat of every user table (raises TargetUnreachable, psycopg errors)."""
    sources = db.rows("table_bloat", BloatSource)
    return [_row(s, _approx(db, s) if use_pgstattuple else None) for s in sources]


def _mb(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB"


@check("postgres_table_bloat", "PostgreSQL table bloat")
def table_bloat(
    db: Database,
    min_percent: float = 50.0,  # pgHero bloated_tables: bloat over 50 % of the table …
    min_bytes: int = 100 * 1_048_576,  # … and over 100 MB (pgHero's bloat_bytes threshold)
    use_pgstattuple: bool = True,
) -> Outcome:
    """Per table: heap bytes, the bytes its live rows need at fillfactor, bloat (bytes and %)
    and the method that produced it. P3 where bloat passes both `min_percent` and
    `min_bytes` (VACUUM FULL or pg_repack would give the space back)."""
    found = sorted(
        estimate(db, use_pgstattuple), key=lambda b: (-b.bloat_bytes, b.schema, b.table_name)
    )
    findings = [
        Finding(
            "postgres_table_bloat",
            f"{b.schema}.{b.table_name}",
            Priority.P3,
            f"{_mb(b.bloat_bytes)} of {_mb(b.heap_bytes)} ({b.bloat_percent:g} %) beyond the "
            f"live rows ({b.method}): VACUUM FULL or pg_repack gives it back",
            b.bloat_bytes,
            min_bytes,
        )
        for b in found
        if b.bloat_percent >= min_percent and b.bloat_bytes >= min_bytes
    ]
    metrics = {"postgres.bloat_bytes": float(sum(b.bloat_bytes for b in found))}
    metrics |= {
        f"postgres.bloat_bytes.{b.schema}.{b.table_name}": float(b.bloat_bytes) for b in found
    }
    notes = [
        "bloat = heap bytes − the live rows packed at fillfactor; method per row "
        "(pgstattuple_approx when the extension is installed, else a statistics estimate "
        "with alignment padding)"
    ]
    if not all(b.complete for b in found):
        notes.append(
            f"columns this role cannot read have no statistics: counted as {UNKNOWN_WIDTH} bytes"
        )
    return Outcome(found, findings, metrics, notes)

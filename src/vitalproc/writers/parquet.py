"""Parquet: the long table of ``vitalproc.ops.frames`` (one row per record), zstd, streamed.

Rows are written a batch at a time (``frames.LongTable.batches``), gathered into row
groups of about ``ROW_GROUP_BYTES``; the schema's metadata carries the tracks'
metadata (``frames.metadata``). Listings (``--list-tracks``...) write their table.
Readable by pyarrow, polars, pandas and duckdb.
"""

from __future__ import annotations

from typing import IO, Any

from .._deps import available, require
from ..ops.selection import Plan, listing

FORMAT = "parquet"
SUFFIXES = (".parquet", ".pq")
BINARY = True
REQUIRES = ("pyarrow",)
EXTRA = "formats"

#: Batches are gathered until they hold this many bytes, then written as one row group.
ROW_GROUP_BYTES = 16 << 20
COMPRESSION = "zstd"
DICTIONARY_COLUMNS = ("device", "track", "type", "unit")


def is_available() -> bool:
    return available("pyarrow.parquet")


def listing_table(plan_: Plan) -> Any:
    """The listing of a plan without records, as an Arrow table."""
    pa = require("pyarrow", EXTRA)
    from ..ops.frames import track_table

    kind, rows = listing(plan_)
    if kind == "tracks" and not plan_.selection.summary:
        return track_table(plan_)
    return pa.Table.from_pylist(rows)


def write_plan(plan_: Plan, out: IO[bytes]) -> None:
    """Write ``plan_`` as a Parquet file to the binary stream ``out``."""
    pa = require("pyarrow", EXTRA)
    import pyarrow.parquet as pq

    from ..ops.frames import LongTable

    if not plan_.selection.records:
        pq.write_table(listing_table(plan_), out, compression=COMPRESSION)
        return
    table = LongTable(plan_)
    # Dictionary pages only for the dictionary columns: trying them on samples costs a
    # hash table per column chunk, for values that are not repetitive enough to gain.
    with pq.ParquetWriter(
        out, table.schema, compression=COMPRESSION, use_dictionary=list(DICTIONARY_COLUMNS)
    ) as writer:
        held: list = []
        size = 0
        for i, part in enumerate(plan_.parts):
            for a, b in part.ranges():
                held.append(table.batch(i, a, b))
                size += held[-1].nbytes
                if size >= ROW_GROUP_BYTES:
                    writer.write_table(pa.Table.from_batches(held), row_group_size=1 << 62)
                    held, size = [], 0
            if held and part.data.nbytes >= ROW_GROUP_BYTES:
                # Batches are views: held over, they would keep the whole track alive
                # (with a grouped export, beside the next group).
                writer.write_table(pa.Table.from_batches(held), row_group_size=1 << 62)
                held, size = [], 0
            plan_.written(part)
        if held:
            writer.write_table(pa.Table.from_batches(held), row_group_size=1 << 62)

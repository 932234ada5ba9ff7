"""Arrow IPC file (Feather v2): the long table of ``vitalproc.ops.frames``, streamed.

One record batch per ``frames.LongTable.batches`` batch, uncompressed, so readers can
memory-map the file and use the samples without a copy. The schema's metadata carries
the tracks' metadata (``frames.metadata``). Listings write their table.
"""

from __future__ import annotations

from typing import IO

from .._deps import available, require
from ..ops.selection import Plan

FORMAT = "arrow"
SUFFIXES = (".arrow", ".feather", ".ipc")
BINARY = True
REQUIRES = ("pyarrow",)
EXTRA = "formats"


def is_available() -> bool:
    return available("pyarrow.ipc")


def write_plan(plan_: Plan, out: IO[bytes]) -> None:
    """Write ``plan_`` as an Arrow IPC file to the binary stream ``out``."""
    require("pyarrow", EXTRA)
    import pyarrow.ipc as ipc

    from ..ops.frames import LongTable
    from .parquet import listing_table

    if not plan_.selection.records:
        table = listing_table(plan_)
        with ipc.new_file(out, table.schema) as writer:
            writer.write_table(table)
        return
    long_table = LongTable(plan_)
    with ipc.new_file(out, long_table.schema) as writer:
        for batch in long_table.batches():
            writer.write_batch(batch)

"""Arrow IPC file (Feather v2): the long table of ``vitalproc.ops.frames``, streamed.

One record batch per ``frames.LongTable.batches`` batch, uncompressed, so readers can
memory-map the file and use the samples without a copy. The schema's metadata carries
the tracks' metadata (``frames.metadata``). Listings write their table.
"""
from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

from .._deps import available, require
from ..ops.selection import Plan, Selection, plan
from ._output import write_to

if TYPE_CHECKING:
    from ..model import VitalFile

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


def write(vf: VitalFile, dest: Any, selection: Selection | None = None) -> None:
    """Write a recording's long table as an Arrow IPC file.

    Parameters
    ----------
    vf
        The recording.
    dest
        A path (written under a temporary name, then renamed) or a binary file object.
    selection
        Tracks and records to write (default: everything).

    Raises
    ------
    ImportError
        pyarrow is not installed (``pip install 'vitalproc[formats]'``).
    """
    require("pyarrow", EXTRA)
    write_to(dest, write_plan, plan(vf, selection))

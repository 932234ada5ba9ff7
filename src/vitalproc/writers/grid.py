"""The ``vitalproc grid`` output: vitaldb's ``to_numpy`` grid as CSV or Parquet.

Columns: ``Time`` (float64; Unix seconds, or seconds from the start), then one per track
in the order asked: float32 for waves and numerics (the grid's own values, exactly),
string for string tracks; vitaldb's NaN (no value) is an empty CSV field or a null.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

from .._deps import require
from ..ops.selection import Plan
from .csv import field

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

FORMATS = ("csv", "parquet")
TIME_COLUMN = "Time"


def grid_table(plan_: Plan, names: list[str], grid: np.ndarray, time: str) -> pa.Table:
    """``grid`` (``vf.to_numpy(names, interval, return_timestamp=True)``) as a table.

    Parameters
    ----------
    plan_
        The selection the names come from (it tells which tracks hold strings).
    names
        The grid's track columns, in order.
    grid
        Rows x (1 + len(names)): the time column first.
    time
        ``"unix"``, ``"relative"`` (seconds from the grid's start) or ``"none"``.
    """
    import numpy as np

    pa = require("pyarrow", "formats")
    kinds = {p.name: p.kind for p in plan_.parts}
    columns: dict[str, Any] = {}
    rows = grid.shape[0] if grid.ndim == 2 else 0
    if time != "none":
        stamps = grid[:, 0].astype(np.float64) if rows else np.empty(0)
        columns[TIME_COLUMN] = stamps - plan_.vf.dtstart if time == "relative" else stamps
    for j, name in enumerate(names, start=1):
        col = grid[:, j] if rows else np.empty(0)
        if kinds.get(name) == "string":
            columns[name] = pa.array(
                [v if isinstance(v, str) else None for v in col.tolist()], pa.string()
            )
        else:  # the grid's float32 values, widened only by the time column's dtype
            columns[name] = pa.array(col.astype(np.float32), from_pandas=True)
    return pa.table(columns)


def write_grid(table: pa.Table, fmt: str, out: IO[bytes]) -> None:
    """Write a grid table as ``fmt`` (``csv`` or ``parquet``) to the binary stream ``out``."""
    pa = require("pyarrow", "formats")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, out, compression="zstd")
        return
    import pyarrow.csv as pcsv

    out.write(b",".join(field(name) for name in table.column_names) + b"\n")
    sink = pa.BufferOutputStream()
    pcsv.write_csv(table, sink, pcsv.WriteOptions(include_header=False))
    out.write(memoryview(sink.getvalue()))

"""The metrics table: its schema, made from the cases' results, written and read back."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .metrics import METRICS

if TYPE_CHECKING:
    import pyarrow as pa

    from .runner import CaseResult

#: Columns after the metrics: how the row came to be.
PROVENANCE = ("status", "error", "source", "size", "mtime_ns", "settings")

_STRING = {"caseid", "track", "kind", "type", "status", "error", "source", "settings"}
_INT = {
    "records",
    "samples",
    "gaps",
    "spikes",
    "duplicates",
    "out_of_order",
    "bad_times",
    "size",
    "mtime_ns",
}
_BOOL = {"inverted"}


def columns(windows: Sequence[str]) -> list[str]:
    """The table's columns, ``coverage_<window>`` after ``coverage``."""
    names = ["caseid", "track"]
    for name in METRICS:
        names.append(name)
        if name == "coverage":
            names += [f"coverage_{w}" for w in windows]
    return names + list(PROVENANCE)


def schema(windows: Sequence[str]) -> pa.Schema:
    import pyarrow as pa

    def kind(name: str) -> pa.DataType:
        if name in _STRING:
            return pa.string()
        if name in _INT:
            return pa.int64()
        if name in _BOOL:
            return pa.bool_()
        return pa.float64()

    return pa.schema([(n, kind(n)) for n in columns(windows)])


def to_table(results: Sequence[CaseResult], windows: Sequence[str]) -> pa.Table:
    """One row per measured track of each case, one per failed case (no track)."""
    import pyarrow as pa

    rows: list[dict[str, Any]] = []
    for r in results:
        if r.status == "failed":
            rows.append(
                {
                    "caseid": r.caseid,
                    "status": "failed",
                    "error": r.error,
                    "source": r.source,
                    "size": r.size,
                    "mtime_ns": r.mtime_ns,
                    "settings": r.settings,
                }
            )
            continue
        for row in r.rows:
            rows.append(
                {
                    **row,
                    "status": "ok",
                    "error": None,
                    "source": r.source,
                    "size": r.size,
                    "mtime_ns": r.mtime_ns,
                    "settings": r.settings,
                }
            )
    return pa.Table.from_pylist(rows, schema=schema(windows))


def write_table(table: pa.Table, path: str) -> None:
    """Write the table atomically as Parquet, or CSV for a ``.csv`` name."""
    from .._files import atomic_file

    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with atomic_file(path) as f:
        if path.lower().endswith(".csv"):
            import pyarrow.csv as pcsv

            pcsv.write_csv(table, f)
        else:
            import pyarrow.parquet as pq

            pq.write_table(table, f, compression="zstd")


def read_table(path: str) -> list[dict[str, Any]]:
    """The rows of a table ``write_table`` wrote ([] if there is none)."""
    if not os.path.exists(path):
        return []
    if path.lower().endswith(".csv"):
        import pyarrow.csv as pcsv

        table = pcsv.read_csv(path)
    else:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
    if "settings" not in table.column_names:
        return []  # not a table of ours: measured again
    return table.to_pylist()

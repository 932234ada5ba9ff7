"""A dataset's own tables: the manifest (one row per source file: where it came from, what
it held, how its conversion went) and the track table (one row per track of every
converted recording), their schemas, rows, atomic writing, and reconciling them with the
folder's files.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .._constants import TYPE_NAMES
from . import schema as vp
from .case_reader import read_layout

if TYPE_CHECKING:
    import pyarrow as pa

MANIFEST_NAME = "_manifest.parquet"
TRACKS_NAME = "_tracks.parquet"

#: Manifest statuses of a converted recording (``warned``: read with recoveries, listed
#: in ``warnings``); ``failed`` rows have no output and say why in ``error``.
CONVERTED = ("ok", "warned")


# ---- the manifest and the track table -------------------------------------------------


def manifest_schema() -> pa.Schema:
    """``_manifest.parquet``: one row per source file."""
    pa = vp.require_pyarrow()
    return pa.schema(
        [
            ("caseid", pa.string()),  # the output's name: <caseid>.parquet
            ("source", pa.string()),  # absolute path of the .vital file
            ("output", pa.string()),  # file name in the dataset; null when failed
            ("status", pa.string()),  # ok, warned (read with recoveries), failed
            ("error", pa.string()),
            ("size", pa.int64()),
            ("mtime", pa.timestamp("ns", "UTC")),
            ("hash", pa.string()),  # sha256:<hex> of the file's bytes
            ("dtstart", pa.float64()),  # recording span, Unix seconds (vitaldb's)
            ("dtend", pa.float64()),
            ("dgmt", pa.int32()),  # minutes, UTC minus local time (vitaldb's)
            ("timezone", pa.string()),  # the same as an offset, "+09:00"
            ("tracks", pa.int32()),
            ("records", pa.int64()),
            ("warnings", pa.list_(pa.string())),
            ("output_bytes", pa.int64()),
            ("seconds", pa.float64()),  # conversion time
            ("converted_at", pa.timestamp("us", "UTC")),
            ("vitalproc_version", pa.string()),
        ]
    )


def tracks_schema() -> pa.Schema:
    """``_tracks.parquet``: one row per track of every converted recording."""
    pa = vp.require_pyarrow()
    return pa.schema(
        [
            ("caseid", pa.string()),
            ("dtname", pa.string()),
            ("dname", pa.string()),
            ("name", pa.string()),
            ("kind", pa.string()),
            ("type", pa.int8()),
            ("fmt", pa.int8()),
            ("unit", pa.string()),
            ("srate", pa.float64()),
            ("gain", pa.float64()),
            ("offset", pa.float64()),
            ("mindisp", pa.float64()),
            ("maxdisp", pa.float64()),
            ("col", pa.int64()),
            ("montype", pa.int32()),
            ("records", pa.int64()),
            ("values", pa.int64()),
            ("dtstart", pa.float64()),
            ("dtend", pa.float64()),  # its records' span
        ]
    )


def _timezone(dgmt: int) -> str:
    minutes = -int(dgmt)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def manifest_row(
    caseid: str,
    output: str,
    status: str,
    error: str | None,
    layout: dict[str, Any],
    output_bytes: int | None,
    seconds: float | None,
) -> dict[str, Any]:
    """A converted recording's manifest row, from its output's layout."""
    import time

    source = layout["source"]
    return {
        "caseid": caseid,
        "source": source["path"],
        "output": output,
        "status": status,
        "error": error,
        "size": source["size"],
        "mtime": source["mtime_ns"],
        "hash": source["hash"],
        "dtstart": layout["dtstart"],
        "dtend": layout["dtend"],
        "dgmt": layout["dgmt"],
        "timezone": _timezone(layout["dgmt"]),
        "tracks": len(layout["tracks"]),
        "records": sum(t["records"] for t in layout["tracks"]),
        "warnings": [w["message"] for w in layout["warnings"]],
        "output_bytes": output_bytes,
        "seconds": seconds,
        "converted_at": time.time_ns() // 1000,
        "vitalproc_version": layout["vitalproc"],
    }


def failed_row(
    caseid: str,
    source: str,
    error: str,
    size: int | None,
    mtime_ns: int | None,
    hash: str | None,
    seconds: float | None,
) -> dict[str, Any]:
    """The manifest row of an input that could not be converted."""
    import time

    from .._version import __version__

    row = dict.fromkeys(manifest_schema().names)
    row.update(
        caseid=caseid,
        source=source,
        status="failed",
        error=error,
        size=size,
        mtime=mtime_ns,
        hash=hash,
        warnings=[],
        seconds=seconds,
        converted_at=time.time_ns() // 1000,
        vitalproc_version=__version__,
    )
    return row


def track_rows(caseid: str, layout: dict[str, Any]) -> list[dict[str, Any]]:
    """A recording's rows of the track table, from its output's layout."""
    rows = []
    for t in layout["tracks"]:
        _, earliest, latest, last_end = t["span"]
        ends = [v for v in (latest, last_end) if v is not None]
        rows.append(
            {
                "caseid": caseid,
                "dtname": t["dtname"],
                "dname": t["dname"],
                "name": t["name"],
                "kind": TYPE_NAMES.get(t["type"], str(t["type"])),
                "type": t["type"],
                "fmt": t["fmt"],
                "unit": t["unit"],
                "srate": t["srate"],
                "gain": t["gain"],
                "offset": t["offset"],
                "mindisp": t["mindisp"],
                "maxdisp": t["maxdisp"],
                "col": t["col"],
                "montype": t["montype"],
                "records": t["records"],
                "values": t["values"],
                "dtstart": earliest,
                "dtend": max(ends) if ends else None,
            }
        )
    return rows


def read_rows(path: str) -> list[dict[str, Any]]:
    """A table's rows; timestamps as integers (the manifest compares mtimes exactly)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not os.path.exists(path):
        return []
    table = pq.ParquetFile(path).read()
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.int64()))
    return table.to_pylist()


def _write_table(path: str, table: pa.Table) -> None:
    import pyarrow.parquet as pq

    from .._files import atomic_file

    with atomic_file(path) as f:
        pq.write_table(table, f, compression="zstd")


def write_tables(folder: str, manifest: list[dict[str, Any]], tracks: pa.Table) -> None:
    """Write the manifest (rows sorted by case) and the track table (sorted by case,
    each case's tracks in file order), each replaced whole, atomically."""
    import pyarrow as pa
    import pyarrow.compute as pc

    schema = manifest_schema()
    plain = pa.schema(
        [pa.field(f.name, pa.int64()) if pa.types.is_timestamp(f.type) else f for f in schema]
    )  # timestamps are kept as integers in the rows
    rows = sorted(manifest, key=lambda r: (r["caseid"], r["source"]))
    _write_table(
        os.path.join(folder, MANIFEST_NAME), pa.Table.from_pylist(rows, schema=plain).cast(schema)
    )
    order = pc.sort_indices(tracks, [("caseid", "ascending")])  # a stable sort
    _write_table(os.path.join(folder, TRACKS_NAME), tracks.take(order))


def _read_tracks(folder: str) -> pa.Table:
    import pyarrow.parquet as pq

    path = os.path.join(folder, TRACKS_NAME)
    if not os.path.exists(path):
        return tracks_schema().empty_table()
    return pq.ParquetFile(path).read()


def reconcile(folder: str) -> tuple[dict[str, dict], pa.Table]:
    """The manifest rows (by source) and the track table of a dataset folder, brought up
    to date with its files: outputs a killed run finished are added from their footers,
    rows whose output is gone are dropped."""
    import glob

    import pyarrow as pa
    import pyarrow.compute as pc

    rows = {r["source"]: r for r in read_rows(os.path.join(folder, MANIFEST_NAME))}
    tracks = _read_tracks(folder)
    gone = set()
    for source, row in list(rows.items()):
        if row["status"] in CONVERTED and not os.path.exists(os.path.join(folder, row["output"])):
            del rows[source]
            gone.add(row["caseid"])
    listed = {r["output"] for r in rows.values() if r["status"] in CONVERTED}
    found = []
    for path in sorted(glob.glob(os.path.join(folder, "*.parquet"))):
        name = os.path.basename(path)
        if name.startswith(("_", ".")) or name in listed:
            continue
        layout = read_layout(path)
        if layout is None or "path" not in layout["source"]:
            continue  # not written by convert: not ours to list
        caseid = layout["source"]["caseid"]
        rows[layout["source"]["path"]] = manifest_row(
            caseid,
            name,
            "warned" if layout["warnings"] else "ok",
            None,
            layout,
            os.path.getsize(path),
            None,
        )
        gone.add(caseid)
        found.append(pa.Table.from_pylist(track_rows(caseid, layout), schema=tracks.schema))
    kept = tracks.filter(
        pc.invert(pc.is_in(tracks.column("caseid"), pa.array(sorted(gone), pa.string())))
    )
    return rows, pa.concat_tables([kept, *found])

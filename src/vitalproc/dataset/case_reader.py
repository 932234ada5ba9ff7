"""A converted case back into a ``VitalFile``: a Parquet file in vitaldb's v1.7 long schema,
written by ``vitalproc convert`` (its layout in the file's metadata lets a read fetch only
the row groups and columns asked for) or by vitaldb's own ``to_parquet``.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

from .._constants import FMT_DTYPE, TrackType
from .._names import matches, split_names
from ..model import Device, ReadIssue, Segment, Track, VitalFile
from ..model._arrays import record_ends
from ..ops.edit import find_color, keep_records
from . import schema as vp

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

#: Row groups are read on parallel threads once the columns asked for inflate to this
#: many bytes: below it, a thread and a reader of its own (half a millisecond) cost more
#: than they save.
PARALLEL_READ_BYTES = 1 << 20


# ---- one case ------------------------------------------------------------------------


def read_layout(path: str | os.PathLike) -> dict[str, Any] | None:
    """The layout a case file's footer holds (see ``vitaldb_parquet.write``), or None for
    a file vitaldb's own ``to_parquet`` wrote. Reads only the footer."""
    vp.require_pyarrow()
    import json

    import pyarrow.parquet as pq

    meta = pq.read_metadata(path).metadata or {}
    raw = meta.get(vp.METADATA_KEY)
    return json.loads(raw) if raw is not None else None


def read_case(
    path: str | os.PathLike,
    tracks: Any = None,
    exclude: Any = None,
    header_only: bool = False,
    maxlen: float | None = None,
) -> VitalFile:
    """Read one recording of a dataset (or a Parquet file vitaldb's ``to_parquet`` wrote).

    ``vitalproc.read(path)`` and ``VitalFile(path)`` call this for a ``.parquet`` path.

    Parameters
    ----------
    path
        The case's ``.parquet`` file.
    tracks, exclude
        As in ``vitalproc.read``: exact names, suffixes (``HR``) or ``Device/*``; only
        the row groups and columns of the selected tracks are read.
    header_only
        Devices, tracks and span, no records (only the footer is read).
    maxlen
        Skip records more than ``maxlen`` seconds after the start. The .vital reader
        measures from the start as known when it reaches a record; this measures from
        the recording's start, which is the same when the earliest record comes first.

    Returns
    -------
    VitalFile
        For a file ``convert`` wrote: what reading the source ``.vital`` gives (devices,
        tracks, records bit for bit, span, order; raw device packets are not kept), with
        the ``warnings`` of the conversion's read of the whole file. With a selection,
        the span is rebuilt as the .vital reader widens it by the selected tracks'
        records (``docs/datasets.md`` lists the rare cases where that differs). For a
        file vitaldb wrote: what ``vitaldb.VitalFile(path)`` gives (which has no
        ``header_only``: here, the tracks without their records).

    Raises
    ------
    ImportError
        Without pyarrow.
    VitalFormatError
        Not a Parquet file of vitaldb's long schema.
    """
    vf = VitalFile.blank(path)
    load_case_into(vf, path, tracks, exclude, header_only, maxlen)
    return vf


def load_case_into(
    vf: VitalFile,
    path: str | os.PathLike,
    tracks: Any,
    exclude: Any,
    header_only: bool,
    maxlen: float | None,
) -> None:
    """``read_case`` into an existing, blank ``VitalFile``."""
    vp.require_pyarrow()
    import pyarrow.parquet as pq

    from ..errors import VitalFormatError

    try:
        pf = pq.ParquetFile(path)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        if isinstance(exc, (FileNotFoundError, IsADirectoryError)):
            raise
        raise VitalFormatError(
            f"not a Parquet file ({exc})", os.fspath(path), None, "compressed"
        ) from exc
    names = split_names(tracks)
    excluded = split_names(exclude)
    raw = (pf.metadata.metadata or {}).get(vp.METADATA_KEY)
    if raw is None:
        if not {"ivals", "fvals", "dt", "tname"} <= set(pf.schema_arrow.names):
            raise VitalFormatError(
                "a Parquet file without vitaldb's long-schema columns",
                os.fspath(path),
                None,
                "compressed",
            )
        _load_vitaldb_written(vf, pf, names, excluded)
        import numpy as np

        for trk in vf.trks.values():
            if header_only:
                keep_records(trk, np.zeros(len(trk), bool))
            elif maxlen is not None and vf.dtstart > 0:
                keep_records(trk, ~(trk.dt > vf.dtstart + maxlen))
        return
    import json

    layout = json.loads(raw)
    # A track kept apart from a name declared again ("Name#k") goes with that name.
    entries = [
        e
        for e in layout["tracks"]
        if _wanted(e.get("apart_from") or e["dtname"], e["dname"], names, excluded)
    ]
    # A packed file read with a selection stops after the last selected track's block,
    # before the order command vitaldb's packed writer puts last.
    _load_recording(vf, layout, entries, keep_order=not (layout["packed"] and names))
    # Only a full read of every track has the span stored; otherwise it is rebuilt. A
    # read without records (header_only) or one skipping them (maxlen) does not widen
    # the span by wave record ends.
    complete = not header_only and maxlen is None
    vf.dtstart, vf.dtend = _span(
        layout, entries, len(entries) == len(layout["tracks"]), wave_ends=complete
    )
    if not header_only:
        _load_records(vf, pf, path, entries, maxlen)


def _wanted(dtname: str, dname: str, names: list[str] | None, excluded: list[str] | None) -> bool:
    if names and not matches(dtname, dname, names):
        return False
    return not (excluded and matches(dtname, dname, set(excluded)))


def _load_recording(
    vf: VitalFile, layout: dict[str, Any], entries: list[dict[str, Any]], keep_order: bool
) -> None:
    vf.dgmt, vf.packed = layout["dgmt"], layout["packed"]
    vf.compat = layout["compat"]
    vf.devs = {name: Device(name, typename, port) for name, typename, port in layout["devices"]}
    # The .vital reader keeps only the order entries of the tracks it selected.
    kept = {e["dtname"] for e in entries} if keep_order else set()
    vf.order = [name for name in layout["order"] if name in kept]
    vf.warnings = [ReadIssue(**w) for w in layout["warnings"]]
    for e in entries:
        vf.trks[e["dtname"]] = Track(
            e["name"],
            e["type"],
            col=e["col"],
            montype=e["montype"],
            dname=e["dname"],
            unit=e["unit"],
            fmt=e["fmt"],
            srate=e["srate"],
            gain=e["gain"],
            offset=e["offset"],
            mindisp=e["mindisp"],
            maxdisp=e["maxdisp"],
        )
        trk = vf.trks[e["dtname"]]
        if e.get("segments") is not None:
            trk.segments = [Segment(*s) for s in e["segments"]]
        trk.apart_from = e.get("apart_from")


def _span(
    layout: dict[str, Any], entries: list[dict[str, Any]], everything: bool, wave_ends: bool
) -> tuple[float, float]:
    """The span a .vital read of the selected tracks has: the header's span, widened by
    their records as the walk widens it (the first non-zero time if the start is still
    0, else any earlier positive time; any later time, and with ``wave_ends`` any wave
    record end). Records the reader could not parse widen a .vital read's span too:
    only the stored span of the full read counts them."""
    if layout["header_span"] is None or (everything and wave_ends):
        return layout["dtstart"], layout["dtend"]
    start, end = layout["header_span"]
    spans = [e["span"] for e in entries if e["records"]]
    positives = [s[1] for s in spans if s[1] is not None]
    if everything:  # the start does not depend on wave ends
        start = layout["dtstart"]
    elif start == 0:
        # The first non-zero time sets the start; a negative (or NaN) one then sticks.
        # Which selected track's came first is not stored: the full read's start if it
        # is one of them, else the first such track's.
        odd = [s[0] for s in spans if s[0] is not None and not s[0] > 0]
        if odd:
            full = layout["dtstart"]
            start = full if any(_same(full, v) for v in odd) else odd[0]
        elif positives:
            start = min(positives)
    elif start > 0 and positives:
        start = min(start, *positives)
    for s in spans:
        for late in (s[2], s[3]) if wave_ends else (s[2],):
            if late is not None and late > end:
                end = late
    return start, end


def _same(a: float, b: float) -> bool:
    """Equal, NaN included."""
    return a == b or (math.isnan(a) and math.isnan(b))


def _load_records(
    vf: VitalFile,
    pf: Any,
    path: str | os.PathLike,
    entries: list[dict[str, Any]],
    maxlen: float | None,
) -> None:
    """Read the selected tracks' row groups, one read per column kind."""
    for column in ("ivals", "fvals", "nval", "sval"):
        group = [e for e in entries if e["column"] == column and e["records"]]
        if not group:
            continue
        groups = [
            g
            for e in group
            for g in range(e["row_groups"][0], e["row_groups"][0] + e["row_groups"][1])
        ]
        table = _read_row_groups(pf, path, groups, ["dt", column])
        row = 0
        for e in group:
            part = table.slice(row, e["records"])
            row += e["records"]
            trk = vf.trks[e["dtname"]]
            _fill_track(trk, e, part.column("dt").chunks, part.column(column).chunks)
            if maxlen is not None and vf.dtstart > 0:
                # the .vital reader's maxlen skip (its dtstart is the running one)
                keep_records(trk, ~(trk.dt > vf.dtstart + maxlen))
                vf.dtend = _later_end(trk, vf.dtend)


def _read_row_groups(
    pf: Any, path: str | os.PathLike, groups: list[int], columns: list[str]
) -> pa.Table:
    """``columns`` of the row groups ``groups``, in order, the row groups split over
    up to ``pyarrow.cpu_count()`` threads in runs of about equal size.

    pyarrow's own threads split a row group's columns, and here one column (a wave's
    samples) is nearly all the work: a long wave's row groups decode one after the
    other. Each thread reads with a reader of its own over the footer already parsed.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    meta = pf.metadata
    threads = min(len(groups), pa.cpu_count())
    leaves = [
        c for c in range(meta.num_columns) if meta.schema.column(c).path.split(".")[0] in columns
    ]
    sizes = [_inflated_size(meta.row_group(g), leaves) for g in groups] if threads > 1 else []
    if threads < 2 or sum(sizes) < PARALLEL_READ_BYTES:
        return pf.read_row_groups(groups, columns=columns, use_threads=True)
    runs = _balanced_runs(groups, sizes, threads)

    def read(run: list[int]) -> pa.Table:
        return pq.ParquetFile(path, metadata=meta).read_row_groups(
            run, columns=columns, use_threads=False
        )

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(runs)) as pool:
        return pa.concat_tables(list(pool.map(read, runs)))


def _inflated_size(row_group: Any, leaves: list[int]) -> int:
    return sum(row_group.column(c).total_uncompressed_size for c in leaves)


def _balanced_runs(items: list[int], sizes: list[int], parts: int) -> list[list[int]]:
    """``items`` cut into at most ``parts`` consecutive runs of about equal total size:
    each item goes to the part its middle falls in."""
    total = sum(sizes) or 1
    runs: dict[int, list[int]] = {}
    done = 0
    for item, size in zip(items, sizes):
        runs.setdefault(min(parts - 1, int((done + size / 2) * parts / total)), []).append(item)
        done += size
    return list(runs.values())


#: numpy dtype of each list column's element type.
_STORED_DTYPE = {"int16": "<i2", "int32": "<i4", "float": "<f4", "double": "<f8"}


def _fill_track(trk: Track, e: dict[str, Any], dt: list[pa.Array], values: list[pa.Array]) -> None:
    """The track's arrays, back in their on-disk dtypes, from its rows (one chunk per
    row group, each converted straight into the track's arrays: one pass, no copy of
    the column first)."""
    import numpy as np

    trk.dt = np.concatenate([vp.numpy_view(c, np.float64) for c in dt] or [np.empty(0)])
    dtype = np.dtype(FMT_DTYPE.get(trk.fmt, "<f4"))
    if e["column"] == "nval":
        stored = np.concatenate([vp.numpy_view(c, np.float64) for c in values])
        trk.data = vp.narrow_f64(stored) if trk.fmt == 1 else stored.astype(dtype, copy=False)
        return
    spans = [(_offsets(c), c) for c in values]
    lengths = np.concatenate([np.diff(o) for o, _ in spans])
    offsets = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    trk.offsets = offsets
    if e["column"] == "sval":  # (no data buffer when every text is empty)
        trk.data = np.concatenate(
            [np.frombuffer(c.buffers()[2] or b"", np.uint8)[o[0] : o[-1]] for o, c in spans]
        )
        return
    out = np.empty(int(offsets[-1]), dtype)
    pos = 0
    for o, c in spans:
        flat = vp.numpy_view(c.values, _STORED_DTYPE[str(c.type.value_type)])[o[0] : o[-1]]
        part = out[pos : pos + len(flat)]
        pos += len(flat)
        if e["shift"]:  # the top bit was flipped to fit a signed column
            unsigned = flat.view(flat.dtype.str.replace("i", "u"))
            np.bitwise_xor(unsigned, unsigned.dtype.type(e["shift"]), out=part)
        elif flat.dtype == np.float64 and trk.fmt == 1:
            part[:] = vp.narrow_f64(flat)
        else:
            part[:] = flat
    trk.data = out


def _offsets(arr: pa.Array) -> np.ndarray:
    """The int32 offsets of a list or string array (its slice of them), as int64."""
    import numpy as np

    return np.frombuffer(
        arr.buffers()[1], np.int32, count=len(arr) + 1, offset=arr.offset * 4
    ).astype(np.int64)


def _later_end(trk: Track, end: float) -> float:
    """``end``, or the end of the track's last wave record if that is later."""
    import numpy as np

    if trk.type != TrackType.WAVE or trk.srate <= 0 or not len(trk):
        return end
    ends = record_ends(trk)
    latest = ends[~np.isnan(ends)].max(initial=-np.inf)
    return float(latest) if latest > end else end


# ---- a file vitaldb wrote --------------------------------------------------------------


def _load_vitaldb_written(
    vf: VitalFile, pf: Any, names: list[str] | None, excluded: list[str] | None
) -> None:
    """vitaldb's ``_load_parquet_new``, on whole columns: tracks in order of first row,
    each kind from its first row holding data, waves as float32 physical values (fmt 1,
    gain 1, offset 0), the span from the smallest and largest ``dt`` of all rows."""
    import numpy as np
    import pyarrow.compute as pc

    table = pf.read(
        columns=[c for c in vp.COLUMNS if c in pf.schema_arrow.names], use_threads=True
    ).combine_chunks()
    if not table.num_rows:
        return
    dt = _floats(table.column("dt"))
    if not np.isnan(dt).all():  # pandas' min and max skip NaN
        vf.dtstart, vf.dtend = float(np.nanmin(dt)), float(np.nanmax(dt))
    else:
        vf.dtstart = vf.dtend = float("nan")
    dname = pc.fill_null(table.column("dname"), "")
    tname = pc.fill_null(table.column("tname"), "")
    key = pc.binary_join_element_wise(dname, tname, "\x00").combine_chunks()
    codes = key.dictionary_encode()  # codes in order of first appearance
    index = vp.numpy_view(codes.indices, np.int32)
    order = np.argsort(index, kind="stable")
    bounds = np.searchsorted(index[order], np.arange(len(codes.dictionary) + 1))
    kinds = {c: _valid(table, c) for c in ("ivals", "fvals", "sval")}
    nval = _floats(table.column("nval")) if "nval" in table.column_names else None
    kinds["nval"] = ~np.isnan(nval) if nval is not None else np.zeros(len(dt), bool)
    has_list = kinds["ivals"] | kinds["fvals"]
    any_data = has_list | kinds["nval"] | kinds["sval"]
    for g, joined in enumerate(codes.dictionary.to_pylist()):
        dev, name = joined.split("\x00", 1)
        rows = order[bounds[g] : bounds[g + 1]]
        dtname = f"{dev}/{name}" if dev else name
        if not name or not _wanted(dtname, dev, names, excluded):
            continue
        vf.order.append(dtname)
        data_rows = rows[any_data[rows]]
        if not len(data_rows):
            continue
        first = data_rows[0]
        if dev and dev not in vf.devs:
            vf.devs[dev] = Device(dev)
        unit = table.column("unit")[first].as_py() or ""
        col = find_color(name)  # vitaldb's parquet reader: the colour by name
        if has_list[first]:
            srate = table.column("srate")[first].as_py()
            trk = Track(
                name,
                int(TrackType.WAVE),
                col=col,
                dname=dev,
                unit=unit,
                fmt=1,
                srate=0.0 if srate is None or math.isnan(srate) else float(srate),
                gain=1.0,
                offset=0.0,
            )
            _foreign_wave(trk, table, rows[has_list[rows]], kinds["ivals"], dt)
        else:
            kind = TrackType.NUMERIC if kinds["nval"][first] else TrackType.STRING
            trk = Track(
                name, int(kind), col=col, dname=dev, unit=unit, srate=0, mindisp=0, maxdisp=0
            )
        if trk.type == TrackType.NUMERIC:
            keep = rows[kinds["nval"][rows]]
            values = nval[keep]
            with np.errstate(over="ignore"):  # a float64 beyond float32's range
                exact = (values.astype(np.float32).astype(np.float64) == values).all()
            trk.fmt = 1 if exact else 2  # no value rounded; fmt 1 as vitaldb says if none is
            trk.dt, trk.data = dt[keep], values.astype(FMT_DTYPE[trk.fmt])
        elif trk.type == TrackType.STRING:
            keep = rows[kinds["sval"][rows]]
            texts = table.column("sval").take(keep).to_pylist()
            encoded = [t.encode("utf-8") for t in texts]
            offsets = np.zeros(len(encoded) + 1, np.int64)
            np.cumsum([len(b) for b in encoded], out=offsets[1:])
            trk.dt, trk.offsets = dt[keep], offsets
            trk.data = np.frombuffer(b"".join(encoded), np.uint8)
        vf.trks[dtname] = trk


def _floats(column: Any) -> np.ndarray:
    """A float64 column as numpy, nulls as NaN."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    filled = pc.fill_null(column.cast(pa.float64()), float("nan"))
    if isinstance(filled, pa.ChunkedArray):
        filled = filled.combine_chunks()
    return vp.numpy_view(filled, np.float64)


def _valid(table: pa.Table, column: str) -> np.ndarray:
    """Which rows hold a value in ``column`` (none if the file lacks it)."""
    import numpy as np
    import pyarrow as pa

    if column not in table.column_names:
        return np.zeros(table.num_rows, bool)
    valid = table.column(column).is_valid().cast(pa.uint8()).combine_chunks()
    return vp.numpy_view(valid, np.uint8).astype(bool)


def _foreign_wave(
    trk: Track, table: pa.Table, rows: np.ndarray, from_ivals: np.ndarray, dt: np.ndarray
) -> None:
    """One record per row: ``ivals * gain + bias`` in float64 rounded to float32 (as
    vitaldb computes it), else ``fvals``; null samples are NaN."""
    import numpy as np

    use_i = from_ivals[rows]
    pieces, lengths = [], np.zeros(len(rows), np.int64)
    for column, mask in (("ivals", use_i), ("fvals", ~use_i)):
        if not mask.any():
            pieces.append(np.empty(0, np.float32))
            continue
        lists = table.column(column).take(rows[mask]).combine_chunks()
        offsets = _offsets(lists)
        counts = np.diff(offsets)
        lengths[mask] = counts
        values = _floats(lists.flatten())
        if column == "ivals":
            gain = _floats(table.column("gain").take(rows[mask]))
            bias = _floats(table.column("bias").take(rows[mask]))
            gain[np.isnan(gain)], bias[np.isnan(bias)] = 1.0, 0.0
            values = values * np.repeat(gain, counts) + np.repeat(bias, counts)
        pieces.append(values.astype(np.float32))
    offsets = np.zeros(len(rows) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    data = np.empty(int(offsets[-1]), np.float32)
    for piece, mask in zip(pieces, (use_i, ~use_i)):
        if len(piece):
            data[np.repeat(mask, lengths)] = piece
    trk.dt, trk.data, trk.offsets = dt[rows], data, offsets

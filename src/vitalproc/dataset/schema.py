"""One recording as vitaldb's v1.7 long Parquet schema, which ``vitaldb.read_parquet`` reads.

vitaldb 1.7's ``to_parquet`` writes one table with the columns ``dt, dname, tname, unit,
ivals, fvals, nval, sval, srate, gain, bias`` (``COLUMNS``); its reader
(``VitalFile._load_parquet_new``) groups the rows by ``(dname, tname)`` in order of first
appearance, takes a track's kind from its first row that holds data (a list in ``ivals`` or
``fvals``: wave; ``nval`` not null and not NaN: numeric; ``sval`` not null: string), turns
every wave row into one record of ``ivals * gain + bias`` (or ``fvals``) as float32, and
sets ``dtstart``/``dtend`` to the smallest and largest ``dt`` of all rows.

This writer keeps to that contract and writes what vitaldb's own writer loses:

- one row per record, in file order, with the record's own ``dt`` (vitaldb's writer
  re-cuts waves into rows of one second), so a reader gets back the very records;
- two first rows with an empty ``tname`` and no values at ``dt = dtstart`` and
  ``dt = dtend``: vitaldb skips them as tracks but takes its span from them, so it keeps
  the last second that its own round trip drops (its ``dtend`` is the last row's start);
- samples at their own width: ``ivals`` is ``list<int16>`` unless a wave is 32-bit
  integer, then ``list<int32>`` (vitaldb squeezes those into int16); ``fvals`` is
  ``list<float32>`` unless a wave is float64. Unsigned waves are stored shifted by half
  their range where the signed column needs it (uint16 into int16, as vitaldb does; uint32
  into int32), and ``bias`` compensates, so ``ivals * gain + bias`` is the physical value;
- the recording's own metadata (devices with type and port, every track field, span,
  timezone, order, read warnings) as JSON under the footer key ``METADATA_KEY``, with each
  track's row groups: a reader finds a track without touching the others' data.

Each track is one row group (several past ``ROWS_PER_GROUP`` records or
``SAMPLES_PER_GROUP`` samples), so ``tname`` statistics prune row groups in any Parquet
engine too. ``docs/datasets.md`` describes the format for its readers.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, BinaryIO

from .._constants import METADATA_KEY, TrackType
from .._deps import available, require
from .._version import __version__
from ..model._arrays import record_ends

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from ..model import Track, VitalFile

REQUIRES = ("pyarrow",)

COLUMNS = (
    "dt",
    "dname",
    "tname",
    "unit",
    "ivals",
    "fvals",
    "nval",
    "sval",
    "srate",
    "gain",
    "bias",
)
#: The Parquet columns (leaves) of ``COLUMNS``, as the writer's options name them.
_LEAVES = tuple(f"{c}.list.element" if c in ("ivals", "fvals") else c for c in COLUMNS)

LAYOUT_VERSION = 1

#: A track is split over several row groups past this many records or this many wave
#: samples: the writer holds a row group's levels and pages in memory (about 13 bytes a
#: sample), which bounds a worker's memory.
ROWS_PER_GROUP = 1 << 20
SAMPLES_PER_GROUP = 1 << 21

#: zstd level: on the standard corpus level 1 is within 2 % of level 3's size (and 3 %
#: of level 9's) at two thirds of level 3's time.
COMPRESSION_LEVEL = 1

#: zstd level of ``ivals`` (integer samples, delta-encoded: already bit-packed). Level -1
#: leaves the files 0.3 to 2.6 % bigger than level 1 (icu_1h, or_4h) and takes 4 to 8 %
#: off the writer's time; reading a wave back is a sixth faster, as the fast levels store
#: what they cannot shrink as it is.
IVALS_COMPRESSION_LEVEL = -1

#: Per integer fmt, what is subtracted from a raw sample to fit the signed ``ivals``
#: column (int16, or int32 in files with 32-bit integer waves).
_INT_SHIFT_NARROW = {3: 0, 4: 0, 5: 0, 6: 1 << 15}
_INT_SHIFT_WIDE = {3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 1 << 31}


def is_available() -> bool:
    return available("pyarrow.parquet")


def require_pyarrow() -> Any:
    """``pyarrow`` (with ``pyarrow.parquet`` loaded), or an ImportError naming the extra."""
    require("pyarrow.parquet", "dataset")
    return require("pyarrow", "dataset")


def schema(wide_ints: bool = False, wide_floats: bool = False) -> pa.Schema:
    """vitaldb's v1.7 schema; ``wide_*`` widen ``ivals`` to int32, ``fvals`` to float64.

    List elements are declared not null (a record has no missing sample; vitaldb's
    writer nulls the gaps of its one-second rows): readers then skip a level of nesting,
    about a fifth of the time of reading a wave.
    """
    pa = require_pyarrow()
    return pa.schema(
        [
            ("dt", pa.float64()),
            ("dname", pa.string()),
            ("tname", pa.string()),
            ("unit", pa.string()),
            (
                "ivals",
                pa.list_(
                    pa.field("element", pa.int32() if wide_ints else pa.int16(), nullable=False)
                ),
            ),
            (
                "fvals",
                pa.list_(
                    pa.field(
                        "element", pa.float64() if wide_floats else pa.float32(), nullable=False
                    )
                ),
            ),
            ("nval", pa.float64()),
            ("sval", pa.string()),
            ("srate", pa.float64()),
            ("gain", pa.float64()),
            ("bias", pa.float64()),
        ]
    )


def column_of(trk: Track) -> str | None:
    """The column that holds a track's values, None for a type no column holds."""
    if trk.type == TrackType.WAVE:
        return "fvals" if trk.fmt in (1, 2) else "ivals"
    if trk.type == TrackType.NUMERIC:
        return "nval"
    if trk.type == TrackType.STRING:
        return "sval"
    return None


def int_shift(fmt: int, wide_ints: bool) -> int:
    """What is subtracted from a raw integer sample of ``fmt`` to store it in ``ivals``."""
    return (_INT_SHIFT_WIDE if wide_ints else _INT_SHIFT_NARROW)[fmt]


# ---- floats moved between widths bit for bit ---------------------------------------
# The FPU quiets a signalling NaN when it widens or narrows one (and numpy warns);
# these keep every NaN payload, so a float32 track stored as float64 comes back exact.


def widen_f32(a: np.ndarray) -> np.ndarray:
    """float32 -> float64, NaN payloads and signalling NaNs kept."""
    import numpy as np

    with np.errstate(invalid="ignore"):
        out = a.astype(np.float64)
    nan = np.isnan(a)
    if nan.any():
        bits = a.view(np.uint32)[nan].astype(np.uint64)
        out.view(np.uint64)[nan] = (
            ((bits & 0x80000000) << 32) | (0x7FF << 52) | ((bits & 0x7FFFFF) << 29)
        )
    return out


def narrow_f64(a: np.ndarray) -> np.ndarray:
    """float64 -> float32 for values that came from float32 (``widen_f32``'s inverse)."""
    import numpy as np

    with np.errstate(invalid="ignore", over="ignore"):
        out = a.astype(np.float32)
    nan = np.isnan(a)
    if nan.any():
        bits = a.view(np.uint64)[nan]
        out.view(np.uint32)[nan] = (
            ((bits >> 32) & 0x80000000) | 0x7F800000 | ((bits >> 29) & 0x7FFFFF)
        ).astype(np.uint32)
    return out


# ---- numpy <-> Arrow without pandas -------------------------------------------------
# pa.array() and Array.to_numpy() import pandas when it is installed (0.2 s, 45 MB per
# worker); building arrays from buffers does not, and shares the memory.


def arrow_array(values: np.ndarray, type: pa.DataType) -> pa.Array:
    """A primitive Arrow array over ``values``' memory (no nulls, no copy)."""
    import numpy as np
    import pyarrow as pa

    values = np.ascontiguousarray(values)
    return pa.Array.from_buffers(type, len(values), [None, pa.py_buffer(values)])


def arrow_strings(texts: list[str]) -> pa.Array:
    """A string array of ``texts`` (no nulls)."""
    import numpy as np
    import pyarrow as pa

    encoded = [t.encode("utf-8") for t in texts]
    offsets = np.zeros(len(encoded) + 1, np.int32)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return pa.Array.from_buffers(
        pa.string(), len(encoded), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    )


def arrow_repeat(value: str | float, n: int) -> pa.Array:
    """``value`` ``n`` times, as a string or float64 array."""
    import numpy as np
    import pyarrow as pa

    if isinstance(value, str):
        raw = value.encode("utf-8")
        offsets = np.arange(n + 1, dtype=np.int64) * len(raw)
        return pa.Array.from_buffers(
            pa.string(), n, [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(raw * n)]
        )
    return arrow_array(np.full(n, value, np.float64), pa.float64())


def numpy_view(arr: pa.Array, dtype: Any) -> np.ndarray:
    """The values of a primitive Arrow array without nulls, as numpy (no copy)."""
    import numpy as np

    dtype = np.dtype(dtype)
    return np.frombuffer(
        arr.buffers()[1], dtype, count=len(arr), offset=arr.offset * dtype.itemsize
    )


# ---- one track's rows ----------------------------------------------------------------


def _wave_values(trk: Track, wide_ints: bool, wide_floats: bool) -> tuple[np.ndarray, int]:
    """Samples as the column stores them, and the shift applied to them."""
    import numpy as np

    data = trk.data
    if trk.fmt == 1:
        return (widen_f32(data) if wide_floats else data), 0
    if trk.fmt == 2:
        return data, 0
    shift = int_shift(trk.fmt, wide_ints)
    target = np.int32 if wide_ints else np.int16
    if shift:  # unsigned of the column's width: flipping the top bit subtracts the shift
        flipped = data ^ data.dtype.type(shift)
        return flipped.view(target), shift
    return data.astype(target, copy=False), 0


def _span(trk: Track) -> list[float | None]:
    """What the track adds to a recording's span (see ``reader``: the walk widens
    ``dtstart``/``dtend`` by every record): the first non-zero time, the earliest
    positive time, the latest time and the latest wave record end."""
    import numpy as np

    dt = trk.dt
    if not len(dt):
        return [None, None, None, None]
    nonzero = np.flatnonzero(dt != 0)
    positive = dt[dt > 0]
    finite_late = dt[~np.isnan(dt)]
    latest = float(finite_late.max()) if len(finite_late) else None
    end = None
    if trk.type == TrackType.WAVE and trk.srate > 0:
        ends = record_ends(trk)
        ends = ends[~np.isnan(ends)]
        end = float(ends.max()) if len(ends) else None
    return [
        float(dt[nonzero[0]]) if len(nonzero) else None,
        float(positive.min()) if len(positive) else None,
        latest,
        end,
    ]


def _track_table(
    trk: Track, sch: pa.Schema, wide_ints: bool, wide_floats: bool
) -> tuple[pa.Table, int]:
    """A track's rows (one per record) and the shift of its integer samples."""
    import numpy as np
    import pyarrow as pa

    n = len(trk)
    column = column_of(trk)
    cols: dict[str, pa.Array] = {
        "dt": arrow_array(trk.dt, pa.float64()),
        "dname": arrow_repeat(trk.dname, n),
        "tname": arrow_repeat(trk.name, n),
        "unit": arrow_repeat(trk.unit, n),
    }
    shift = 0
    if column in ("ivals", "fvals"):
        values, shift = _wave_values(trk, wide_ints, wide_floats)
        offsets = trk.offsets
        if offsets[-1] >= 2**31:
            raise ValueError(
                f"{trk.dtname!r} holds {offsets[-1]} samples: over the 2**31 "
                "a Parquet list column can index"
            )
        list_type = sch.field(column).type
        cols[column] = pa.ListArray.from_arrays(
            arrow_array(offsets.astype(np.int32), pa.int32()),
            arrow_array(values, list_type.value_type),
            type=list_type,
        )
        cols["srate"] = arrow_repeat(float(trk.srate), n)
        if column == "ivals":
            cols["gain"] = arrow_repeat(float(trk.gain), n)
            cols["bias"] = arrow_repeat(float(trk.offset) + shift * float(trk.gain), n)
    elif column == "nval":
        values = trk.data
        cols["nval"] = arrow_array(
            widen_f32(values) if trk.fmt == 1 else values.astype(np.float64, copy=False),
            pa.float64(),
        )
    elif column == "sval":
        cols["sval"] = arrow_strings(trk.texts())
    arrays = [cols[name] if name in cols else pa.nulls(n, sch.field(name).type) for name in COLUMNS]
    return pa.Table.from_arrays(arrays, schema=sch), shift


def _span_rows(vf: VitalFile, sch: pa.Schema) -> pa.Table:
    """The two rows that carry the recording's span to vitaldb (no track, no values)."""
    import numpy as np
    import pyarrow as pa

    cols = {
        "dt": arrow_array(np.array([vf.dtstart, vf.dtend], np.float64), pa.float64()),
        "dname": arrow_repeat("", 2),
        "tname": arrow_repeat("", 2),
        "unit": arrow_repeat("", 2),
    }
    return pa.Table.from_arrays(
        [cols.get(name, pa.nulls(2, sch.field(name).type)) for name in COLUMNS], schema=sch
    )


def _rows_per_group(trk: Track) -> int:
    """Records per row group: all of them, unless that is too many rows or samples;
    then as few groups as keep under both limits, of equal record counts (a reader
    decodes a long wave's row groups on parallel threads: equal parts finish together)."""
    records = len(trk)
    samples = len(trk.data) if column_of(trk) in ("ivals", "fvals") else 0
    groups = max(-(-records // ROWS_PER_GROUP), -(-samples // SAMPLES_PER_GROUP), 1)
    return max(1, -(-records // groups))


def _stored(trk: Track) -> bool:
    """Whether the track has rows (records, of a type a column holds)."""
    return len(trk) > 0 and column_of(trk) is not None


# ---- the file ------------------------------------------------------------------------


def write(
    vf: VitalFile,
    dest: str | BinaryIO,
    *,
    compression: str = "zstd",
    compression_level: int | None = None,
    header_span: tuple[float, float] | None = None,
    source: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write ``vf`` as one Parquet file in vitaldb's v1.7 long schema.

    Parameters
    ----------
    vf
        The recording.
    dest
        A path or a writable binary file object.
    compression, compression_level
        Parquet codec and its level for every column (vitaldb's writer: zstd, 10).
        A level of None with zstd: ``COMPRESSION_LEVEL``, and ``IVALS_COMPRESSION_LEVEL``
        for ``ivals``.
    header_span
        The ``dtstart``/``dtend`` of the ``.vital`` file header, before records widened
        them: lets a reader give a track selection the span a ``.vital`` read of that
        selection has. None: unknown (a selection then gets the whole recording's span).
    source
        Anything to keep in the layout under ``"source"`` (path, size, hash ...).

    Returns
    -------
    dict
        The layout stored as JSON in the footer under ``METADATA_KEY``: the recording's
        fields (``dtstart``, ``dtend``, ``dgmt``, ``packed``, ``order``, ``devices``,
        ``warnings``, ``compat``, ``header_span``, ``packets_dropped``, ``source``), and
        per track its vitaldb fields, ``records``, ``values`` (samples, values or
        bytes), ``column``, ``shift``, ``row_groups`` (first, count) and ``span`` (first
        non-zero, earliest positive, latest time, latest wave end).

    Raises
    ------
    ImportError
        Without pyarrow.
    ValueError
        A track with over 2**31 samples.
    """
    require_pyarrow()
    import pyarrow.parquet as pq

    stored = [t for t in vf.trks.values() if _stored(t)]
    wide_ints = any(t.type == TrackType.WAVE and t.fmt in (7, 8) for t in stored)
    wide_floats = any(t.type == TrackType.WAVE and t.fmt == 2 for t in stored)
    sch = schema(wide_ints, wide_floats)
    layout: dict[str, Any] = {
        "layout": LAYOUT_VERSION,
        "vitalproc": __version__,
        "compat": vf.compat,
        "dtstart": vf.dtstart,
        "dtend": vf.dtend,
        "dgmt": vf.dgmt,
        "packed": vf.packed,
        "order": list(vf.order),
        "header_span": list(header_span) if header_span else None,
        "devices": [[d.name, d.type, d.port] for d in vf.devs.values()],
        "warnings": [w._asdict() for w in vf.warnings],
        "packets_dropped": len(vf.packets),
        "source": source or {},
        "tracks": [],
    }
    if compression_level is None and compression == "zstd":
        levels: int | dict[str, int] | None = {
            leaf: IVALS_COMPRESSION_LEVEL if leaf.startswith("ivals.") else COMPRESSION_LEVEL
            for leaf in _LEAVES
        }
    else:
        levels = compression_level
    options = {
        "compression": compression,
        "compression_level": levels,
        "use_dictionary": ["dname", "tname", "unit"],
        "write_statistics": ["dt", "dname", "tname"],
        "column_encoding": {
            "dt": "BYTE_STREAM_SPLIT",
            "nval": "BYTE_STREAM_SPLIT",
            "ivals.list.element": "DELTA_BINARY_PACKED",
            "fvals.list.element": "BYTE_STREAM_SPLIT",
        },
    }
    with pq.ParquetWriter(dest, sch, **options) as writer:
        writer.write_table(_span_rows(vf, sch))
        group = 1
        for dtname, trk in vf.trks.items():
            entry = {
                "dtname": dtname,
                **trk.metadata(),
                "records": len(trk),
                "values": len(trk.data),
                "column": column_of(trk),
                "shift": 0,
                "row_groups": [group, 0],
                "span": _span(trk),
                "segments": (None if trk.segments is None else [list(s) for s in trk.segments]),
                "apart_from": trk.apart_from,
            }
            if _stored(trk):
                table, entry["shift"] = _track_table(trk, sch, wide_ints, wide_floats)
                rows = _rows_per_group(trk)
                writer.write_table(table, row_group_size=rows)
                count = -(-len(trk) // rows)
                entry["row_groups"] = [group, count]
                group += count
                del table
            layout["tracks"].append(entry)
        writer.add_key_value_metadata({METADATA_KEY: json.dumps(layout)})
    return layout

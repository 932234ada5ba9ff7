"""The long table: one row per record, as Arrow (zero-copy for samples, times and texts) or polars.

Columns (``docs/formats.md`` has the full description):

=================  ==============================  ======================================
column             type                            holds
=================  ==============================  ======================================
device             dictionary<int32, string>       the track's device ("" when it has none)
track              dictionary<int32, string>       the full ``Device/Track`` name
type               dictionary<int8, string>        ``wave``, ``numeric``, ``string`` (``other``)
unit               dictionary<int32, string>       the track's unit
dt                 float64                         the record's time (Unix seconds)
value              float64                         a numeric record's value (null otherwise)
text               large_string                    a string record's text (null otherwise)
samples_<dtype>    large_list<dtype>               a wave record's samples, one column per
                                                   wave dtype selected (null otherwise)
=================  ==============================  ======================================

Every wave keeps its on-disk dtype: a track's samples are in the column
``samples_<dtype>`` named after the track's ``dtype`` (``samples_uint16``,
``samples_float32``; ``samples_float64`` for integer waves in physical mode), in fmt
order. The table has one chunk per track, whose wave column is a list array over the
track's own ``offsets`` and ``samples`` buffers, and whose ``dt`` (and float64 values,
valid UTF-8 texts) are the model's buffers too: nothing per sample is copied. The other
columns of a track's chunk are all null, built over one shared zero-filled buffer.
Per-track metadata and the file's span are JSON in the schema metadata under
``b"vitalproc"``; ``track_table`` gives the same metadata as a table.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .._constants import FMT_DTYPE, KIND_NAMES, METADATA_KEY
from .._deps import require
from .._names import split_names
from .selection import Part, Plan, Selection, plan

if TYPE_CHECKING:
    import numpy as np
    import polars as pl
    import pyarrow as pa

    from ..model import VitalFile

#: Version of the layout (2: one samples column per wave dtype, none promoted).
VERSION = 2
TYPE_VALUES = (*KIND_NAMES.values(), "other")
#: Wave columns are named this prefix plus the samples' numpy dtype name.
SAMPLES_PREFIX = "samples_"


def _pa() -> Any:
    return require("pyarrow", "frames")


def samples_column(dtype: Any) -> str:
    """The name of the column holding waves of ``dtype`` (``samples_uint16``)."""
    import numpy as np

    return SAMPLES_PREFIX + np.dtype(dtype).name


def sample_dtypes(parts: list[Part]) -> list[np.dtype]:
    """The dtypes of the selected waves' samples, each once, in fmt order."""
    import numpy as np

    rank = {np.dtype(code).name: fmt for fmt, code in FMT_DTYPE.items()}
    present = {p.dtype.name: p.dtype for p in parts if p.kind == "wave"}
    return [present[name] for name in sorted(present, key=rank.__getitem__)]


class LongTable:
    """The schema and the dictionaries of one plan's long table, and its record batches."""

    def __init__(self, plan_: Plan):
        pa = _pa()
        self.plan = plan_
        parts = plan_.parts
        self.samples_columns = {dt.name: samples_column(dt) for dt in sample_dtypes(parts)}
        self.devices = list(dict.fromkeys(p.track.dname for p in parts))
        self.units = list(dict.fromkeys(p.track.unit for p in parts))
        self.dicts = {
            "device": pa.array(self.devices, pa.string()),
            "track": pa.array([p.name for p in parts], pa.string()),
            "type": pa.array(TYPE_VALUES, pa.string()),
            "unit": pa.array(self.units, pa.string()),
        }
        meta = {
            "format": "vitalproc long table",
            "version": VERSION,
            "file_info": plan_.file_info(),
            "devices": plan_.devices_info(),
            "samples_columns": list(self.samples_columns.values()),
            "tracks": {p.name: {**p.metadata(), "records_count": len(p)} for p in parts},
        }
        self.schema = pa.schema(
            [
                pa.field("device", pa.dictionary(pa.int32(), pa.string()), nullable=False),
                pa.field("track", pa.dictionary(pa.int32(), pa.string()), nullable=False),
                pa.field("type", pa.dictionary(pa.int8(), pa.string()), nullable=False),
                pa.field("unit", pa.dictionary(pa.int32(), pa.string()), nullable=False),
                pa.field("dt", pa.float64(), nullable=False),
                pa.field("value", pa.float64()),
                pa.field("text", pa.large_string()),
                *(
                    pa.field(column, pa.large_list(pa.from_numpy_dtype(dtype)))
                    for dtype, column in self.samples_columns.items()
                ),
            ],
            metadata={
                METADATA_KEY: json.dumps(
                    _jsonable(meta), ensure_ascii=False, allow_nan=False
                ).encode()
            },
        )
        self._zeros = pa.py_buffer(b"")

    def _null_buffer(self, n: int) -> pa.Buffer:
        """A zero-filled buffer serving as validity, offsets and values of ``n`` nulls:
        one allocation shared by every null chunk, not one per chunk and column."""
        import numpy as np

        pa = _pa()
        size = (n + 1) * 8
        if self._zeros.size < size:
            self._zeros = pa.py_buffer(np.zeros(size, np.uint8))
        return self._zeros

    def _nulls(self, column: str, n: int) -> pa.Array:
        """``n`` nulls of ``column``'s type, over the shared zero buffer."""
        pa = _pa()
        type_ = self.schema.field(column).type
        zeros = self._null_buffer(n)
        if pa.types.is_large_list(type_):
            empty = pa.Array.from_buffers(type_.value_type, 0, [None, zeros])
            return pa.Array.from_buffers(type_, n, [zeros, zeros], null_count=n, children=[empty])
        buffers = [zeros, zeros, zeros] if pa.types.is_large_string(type_) else [zeros, zeros]
        return pa.Array.from_buffers(type_, n, buffers, null_count=n)

    def _dictionary(self, column: str, code: int, n: int) -> pa.Array:
        import numpy as np

        pa = _pa()
        index_type = np.int8 if column == "type" else np.int32
        # safe=False: the codes are ours and in range; checking them costs a pass.
        return pa.DictionaryArray.from_arrays(
            _primitive(np.full(n, code, index_type)), self.dicts[column], safe=False
        )

    def batch(self, index: int, a: int, b: int) -> pa.RecordBatch:
        """Records ``[a, b)`` of the plan's ``index``-th track as one record batch."""
        import numpy as np

        pa = _pa()
        part = self.plan.parts[index]
        n = b - a
        filled: dict[str, pa.Array] = {}
        if part.kind == "numeric":
            # A signalling NaN stays a NaN when widened; numpy's warning about it is noise.
            with np.errstate(invalid="ignore"):
                filled["value"] = _primitive(part.values(a, b).astype(np.float64, copy=False))
        elif part.kind == "string":
            filled["text"] = _texts(part, a, b)
        elif part.kind == "wave":
            column = self.samples_columns[part.dtype.name]
            data, offsets = part.samples(a, b)
            # The reader stores samples in the fmt's dtype, so this never copies; it
            # keeps the child's type that of the column should a track be built otherwise.
            data = data.astype(part.dtype, copy=False)
            filled[column] = pa.Array.from_buffers(
                self.schema.field(column).type,
                n,
                [None, pa.py_buffer(offsets)],
                children=[_primitive(data)],
            )
        columns = [
            self._dictionary("device", self.devices.index(part.track.dname), n),
            self._dictionary("track", index, n),
            self._dictionary("type", TYPE_VALUES.index(part.kind), n),
            self._dictionary("unit", self.units.index(part.track.unit), n),
            _primitive(part.dt[a:b]),
        ]
        columns += [
            filled[name] if name in filled else self._nulls(name, n)
            for name in self.schema.names[len(columns) :]
        ]
        return pa.RecordBatch.from_arrays(columns, schema=self.schema)

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Bounded batches, track after track (``Part.ranges``): for streaming writers."""
        for i, part in enumerate(self.plan.parts):
            for a, b in part.ranges():
                yield self.batch(i, a, b)
            self.plan.written(part)

    def table(self) -> pa.Table:
        """One chunk per track, each a view of the model's arrays where dtypes allow."""
        pa = _pa()
        self._null_buffer(max((len(p) for p in self.plan.parts), default=0))
        chunks = [self.batch(i, 0, len(p)) for i, p in enumerate(self.plan.parts)]
        return pa.Table.from_batches(chunks, schema=self.schema)


def _primitive(values: np.ndarray) -> pa.Array:
    """A numpy array as an Arrow array over the same memory (no copy unless it is strided)."""
    import numpy as np

    pa = _pa()
    values = np.ascontiguousarray(values)
    return pa.Array.from_buffers(
        pa.from_numpy_dtype(values.dtype), len(values), [None, pa.py_buffer(values)]
    )


def _texts(part: Part, a: int, b: int) -> pa.Array:
    """String records as large_string: the model's UTF-8 bytes when they are valid text,
    else decoded as vitaldb decodes them (invalid bytes dropped)."""
    pa = _pa()
    offsets = part.offsets[a : b + 1]
    arr = pa.Array.from_buffers(
        pa.large_string(), b - a, [None, pa.py_buffer(offsets), pa.py_buffer(part.data)]
    )
    try:
        arr.validate(full=True)
    except pa.ArrowInvalid:
        arr = pa.array(part.texts(a, b), pa.large_string())
    return arr


def _jsonable(obj: Any) -> Any:
    """Metadata for the standard json module: non-finite floats become null."""
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def metadata(table_or_schema: Any) -> dict[str, Any]:
    """The file's and tracks' metadata stored in a long table's schema."""
    schema = getattr(table_or_schema, "schema", table_or_schema)
    return json.loads(schema.metadata[METADATA_KEY])


def _plan(vf: VitalFile, track_names: Any, physical: bool) -> Plan:
    names = split_names(track_names)
    return plan(vf, Selection(tracks=names, physical=physical))


def to_arrow(vf: VitalFile, track_names: Any = None, *, physical: bool = False) -> pa.Table:
    """The recording as a long Arrow table: one row per record.

    Parameters
    ----------
    vf
        The recording.
    track_names
        Tracks to include, matched as ``vitalproc.read`` matches them (exact, suffix,
        ``Device/*``) or as shell globs; a string is split on commas. None: all.
    physical
        Apply gain and offset to integer samples and values (float64 results).

    Returns
    -------
    pyarrow.Table
        Columns ``device, track, type, unit, dt, value, text``, then one
        ``samples_<dtype>`` column per wave dtype selected (in fmt order: float32,
        float64, int8, uint8, int16, uint16, int32, uint32); one chunk per track, tracks
        and records in file order; metadata under ``b"vitalproc"`` in the schema. Wave
        samples, times, float64 values and valid UTF-8 texts share the model's memory:
        the table is valid as long as it is, and the model's arrays must not be
        modified in place while it is used.

    Raises
    ------
    ImportError
        pyarrow is not installed (``pip install 'vitalproc[frames]'``).
    """
    return LongTable(_plan(vf, track_names, physical)).table()


def to_polars(vf: VitalFile, track_names: Any = None, *, physical: bool = False) -> pl.DataFrame:
    """The long table (``to_arrow``) as a polars DataFrame.

    Dictionary columns become ``Categorical``; each ``samples_<dtype>`` column a
    ``List`` of its dtype. The frame keeps the table's chunks (one per track, not
    rechunked), so the samples, times and float64 values stay the model's memory;
    polars keeps no schema metadata (``frames.metadata(vf.to_arrow())`` has it).

    Raises
    ------
    ImportError
        polars or pyarrow is not installed (``pip install 'vitalproc[frames]'``).
    """
    pl = require("polars", "frames")
    return pl.from_arrow(to_arrow(vf, track_names, physical=physical), rechunk=False)


def track_table(plan_: Plan) -> pa.Table:
    """The selected tracks' metadata as a table (one row per track, the JSON keys)."""
    pa = _pa()
    rows = [{**p.metadata(), "records_count": len(p)} for p in plan_.parts]
    return pa.Table.from_pylist(rows, schema=track_table_schema())


def track_table_schema() -> pa.Schema:
    """The columns of ``track_table``."""
    pa = _pa()
    return pa.schema(
        [
            ("name", pa.string()),
            ("type", pa.uint8()),
            ("type_name", pa.string()),
            ("fmt", pa.uint8()),
            ("dtype", pa.string()),
            ("unit", pa.string()),
            ("sample_rate", pa.float64()),
            ("gain", pa.float64()),
            ("offset", pa.float64()),
            ("min_display", pa.float64()),
            ("max_display", pa.float64()),
            ("color", pa.uint32()),
            ("monitor_type", pa.uint8()),
            ("device_name", pa.string()),
            ("physical", pa.bool_()),
            ("records_count", pa.int64()),
        ]
    )

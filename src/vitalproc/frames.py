"""The long table: one row per record, as Arrow (zero-copy where the dtypes allow) or polars.

Columns (``docs/formats.md`` has the full description):

==========  ==============================  =============================================
column      type                            holds
==========  ==============================  =============================================
device      dictionary<int32, string>       the track's device ("" when it has none)
track       dictionary<int32, string>       the full ``Device/Track`` name
type        dictionary<int8, string>        ``wave``, ``numeric``, ``string`` (``other``)
unit        dictionary<int32, string>       the track's unit
dt          float64                         the record's time (Unix seconds)
value       float64                         a numeric record's value (null otherwise)
text        large_string                    a string record's text (null otherwise)
samples     large_list<T>                   a wave record's samples (null otherwise)
==========  ==============================  =============================================

``T`` is the on-disk dtype when every selected wave track has the same one (the
samples are then the model's own memory, not a copy), else the narrowest type that
holds every sample exactly (numpy's promotion: int16 and uint16 give int32, uint16 and
float32 give float32). Per-track metadata and the file's span are JSON in the schema
metadata under ``b"vitalproc"``; ``track_table`` gives the same metadata as a table.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .reader import split_names
from .writers._base import Part, Plan, Selection, plan, require

if TYPE_CHECKING:
    import numpy as np
    import polars as pl
    import pyarrow as pa

    from .model import VitalFile

#: Key of the schema metadata holding the file's and the tracks' metadata.
METADATA_KEY = b"vitalproc"
TYPE_VALUES = ("wave", "numeric", "string", "other")
#: The item type of ``samples`` when no wave track is selected.
DEFAULT_SAMPLE_DTYPE = "float32"


def _pa() -> Any:
    return require("pyarrow", "frames")


def sample_dtype(parts: list[Part]) -> tuple[np.dtype, bool]:
    """The item type of the ``samples`` column and whether any track was promoted to it."""
    import numpy as np

    dtypes = list(dict.fromkeys(p.dtype for p in parts if p.kind == "wave"))
    if not dtypes:
        return np.dtype(DEFAULT_SAMPLE_DTYPE), False
    return np.result_type(*dtypes), len(dtypes) > 1


class LongTable:
    """The schema and the dictionaries of one plan's long table, and its record batches."""

    def __init__(self, plan_: Plan):
        pa = _pa()
        self.plan = plan_
        parts = plan_.parts
        self.item_dtype, promoted = sample_dtype(parts)
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
            "version": 1,
            "file_info": plan_.file_info(),
            "devices": plan_.devices_info(),
            "samples_dtype": self.item_dtype.name,
            "samples_promoted": promoted,
            "tracks": {p.name: {**p.metadata(), "records_count": len(p)} for p in parts},
        }
        self.schema = pa.schema([
            pa.field("device", pa.dictionary(pa.int32(), pa.string()), nullable=False),
            pa.field("track", pa.dictionary(pa.int32(), pa.string()), nullable=False),
            pa.field("type", pa.dictionary(pa.int8(), pa.string()), nullable=False),
            pa.field("unit", pa.dictionary(pa.int32(), pa.string()), nullable=False),
            pa.field("dt", pa.float64(), nullable=False),
            pa.field("value", pa.float64()),
            pa.field("text", pa.large_string()),
            pa.field("samples", pa.large_list(pa.from_numpy_dtype(self.item_dtype))),
        ], metadata={METADATA_KEY: json.dumps(_jsonable(meta), ensure_ascii=False,
                                              allow_nan=False).encode()})

    def _dictionary(self, column: str, code: int, n: int) -> pa.Array:
        import numpy as np

        pa = _pa()
        index_type = np.int8 if column == "type" else np.int32
        return pa.DictionaryArray.from_arrays(
            pa.array(np.full(n, code, index_type)), self.dicts[column])

    def batch(self, index: int, a: int, b: int) -> pa.RecordBatch:
        """Records ``[a, b)`` of the plan's ``index``-th track as one record batch."""
        import numpy as np

        pa = _pa()
        part = self.plan.parts[index]
        n = b - a
        fields = self.schema
        value = text = samples = None
        # A signalling NaN stays a NaN when widened; numpy's warning about it is noise.
        if part.kind == "numeric":
            with np.errstate(invalid="ignore"):
                value = _primitive(part.values(a, b).astype(np.float64, copy=False))
        elif part.kind == "string":
            text = _texts(part, a, b)
        elif part.kind == "wave":
            data, offsets = part.samples(a, b)
            with np.errstate(invalid="ignore"):
                data = data.astype(self.item_dtype, copy=False)
            samples = pa.Array.from_buffers(
                fields.field("samples").type, n, [None, pa.py_buffer(offsets)],
                children=[_primitive(data)])
        columns = [
            self._dictionary("device", self.devices.index(part.track.dname), n),
            self._dictionary("track", index, n),
            self._dictionary("type", TYPE_VALUES.index(part.kind), n),
            self._dictionary("unit", self.units.index(part.track.unit), n),
            _primitive(np.ascontiguousarray(part.dt[a:b])),
            value if value is not None else pa.nulls(n, pa.float64()),
            text if text is not None else pa.nulls(n, pa.large_string()),
            samples if samples is not None else pa.nulls(n, fields.field("samples").type),
        ]
        return pa.RecordBatch.from_arrays(columns, schema=fields)

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Bounded batches, track after track (``Part.ranges``): for streaming writers."""
        for i, part in enumerate(self.plan.parts):
            for a, b in part.ranges():
                yield self.batch(i, a, b)
            self.plan.written(part)

    def table(self) -> pa.Table:
        """One chunk per track, each a view of the model's arrays where dtypes allow."""
        pa = _pa()
        chunks = [self.batch(i, 0, len(p)) for i, p in enumerate(self.plan.parts)]
        return pa.Table.from_batches(chunks, schema=self.schema)


def _primitive(values: np.ndarray) -> pa.Array:
    """A numpy array as an Arrow array over the same memory (no copy)."""
    pa = _pa()
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values),
                                 [None, pa.py_buffer(values)])


def _texts(part: Part, a: int, b: int) -> pa.Array:
    """String records as large_string: the model's UTF-8 bytes when they are valid text,
    else decoded as vitaldb decodes them (invalid bytes dropped)."""
    pa = _pa()
    offsets = part.offsets[a:b + 1]
    arr = pa.Array.from_buffers(pa.large_string(), b - a,
                                [None, pa.py_buffer(offsets), pa.py_buffer(part.data)])
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
        Columns ``device, track, type, unit, dt, value, text, samples``; tracks in
        file order, records in file order; metadata under ``b"vitalproc"`` in the schema.

    Raises
    ------
    ImportError
        pyarrow is not installed (``pip install 'vitalproc[frames]'``).
    """
    return LongTable(_plan(vf, track_names, physical)).table()


def to_polars(vf: VitalFile, track_names: Any = None, *, physical: bool = False) -> pl.DataFrame:
    """The long table (``to_arrow``) as a polars DataFrame.

    Dictionary columns become ``Categorical``; ``samples`` a ``List`` of the sample dtype.
    Numeric buffers are shared with the Arrow table where polars allows it.

    Raises
    ------
    ImportError
        polars or pyarrow is not installed (``pip install 'vitalproc[frames]'``).
    """
    pl = require("polars", "frames")
    return pl.from_arrow(to_arrow(vf, track_names, physical=physical))


def track_table(plan_: Plan) -> pa.Table:
    """The selected tracks' metadata as a table (one row per track, the JSON keys)."""
    pa = _pa()
    rows = [{**p.metadata(), "records_count": len(p)} for p in plan_.parts]
    return pa.Table.from_pylist(rows, schema=track_table_schema())


def track_table_schema() -> pa.Schema:
    """The columns of ``track_table``."""
    pa = _pa()
    return pa.schema([
        ("name", pa.string()), ("type", pa.uint8()), ("type_name", pa.string()),
        ("fmt", pa.uint8()), ("dtype", pa.string()), ("unit", pa.string()),
        ("sample_rate", pa.float64()), ("gain", pa.float64()), ("offset", pa.float64()),
        ("min_display", pa.float64()), ("max_display", pa.float64()),
        ("color", pa.uint32()), ("monitor_type", pa.uint8()), ("device_name", pa.string()),
        ("physical", pa.bool_()), ("records_count", pa.int64()),
    ])

"""CSV, long format: ``track,dt,value``, one row per record, or per sample for waves.

A wave record gives one row per sample, at ``dt + i / srate`` (``i`` the sample's index in
its record; ``dt`` when the track has no sampling rate); with ``wave_cells`` one row per
record whose value is the JSON array of its samples. Numbers are written in their
dtype's shortest round-trip form (float32 as float32: ``60.1``), NaN and infinities as
``nan``, ``inf``, ``-inf``; a field is quoted only when it holds a comma, a quote or a
line break. Listings (``--list-tracks``, ``--summary``,
``--list-devices``, ``--info-only``) write their table instead. Written a batch at a time.
"""

from __future__ import annotations

import csv
import io
from typing import IO, TYPE_CHECKING, Any

from .._deps import available, require
from ..ops.selection import Part, Plan, listing

if TYPE_CHECKING:
    import pyarrow as pa


FORMAT = "csv"
SUFFIXES = (".csv",)
BINARY = False
REQUIRES = ("pyarrow",)
EXTRA = "formats"

HEADER = b"track,dt,value\n"
#: Samples per batch: a wave batch becomes one row per sample, ~35 bytes each.
BATCH_SAMPLES = 1 << 17
_STRUCTURAL = frozenset(',"\r\n')


def is_available() -> bool:
    return available("pyarrow.csv")


def _sample_times(part: Part, a: int, b: int) -> tuple[Any, Any]:
    """A wave's samples of records ``[a, b)`` and the time of each."""
    import numpy as np

    dt = part.dt[a:b]
    samples, offsets = part.samples(a, b)
    lengths = offsets[1:] - offsets[:-1]
    record = np.repeat(np.arange(b - a), lengths)
    times = dt[record]
    if part.track.srate > 0:
        times = times + (np.arange(len(samples)) - offsets[record]) / part.track.srate
    return samples, times


def _wave_rows(part: Part, a: int, b: int, wave_cells: bool, prefix: bytes) -> bytearray | None:
    """Rows of wave records ``[a, b)`` by the compiled formatter (``_text``): the bytes
    Arrow's writer gives, or None where it is left to Arrow (samples that are not 8 to
    32-bit integers, or a time outside the formatter's range)."""
    import numpy as np

    from . import _text

    if wave_cells:
        samples, offsets = part.samples(a, b)
        if samples.dtype.kind not in "iu" or samples.dtype.itemsize > 4:
            return None
        return _text.csv_cell_rows(
            prefix,
            np.ascontiguousarray(part.dt[a:b], np.float64),
            np.ascontiguousarray(samples),
            np.ascontiguousarray(offsets, np.int64),
        )
    samples, times = _sample_times(part, a, b)
    if samples.dtype.kind not in "iu" or samples.dtype.itemsize > 4:
        return None
    return _text.csv_sample_rows(
        prefix, np.ascontiguousarray(times, np.float64), np.ascontiguousarray(samples)
    )


def _batch(part: Part, a: int, b: int, wave_cells: bool) -> pa.Table:
    """Rows of records ``[a, b)``: ``dt`` and ``value`` (the track name is added later)."""
    import numpy as np

    pa = require("pyarrow", EXTRA)
    dt = part.dt[a:b]
    if part.kind == "wave" and not wave_cells:
        values: Any
        values, times = _sample_times(part, a, b)
    elif part.kind == "wave":
        from .json import record_values

        orjson = require("orjson", EXTRA)
        option = orjson.OPT_SERIALIZE_NUMPY
        times = dt
        values = pa.array(
            [orjson.dumps(row, option=option).decode() for row in record_values(part, a, b)],
            pa.string(),
        )
    elif part.kind == "numeric":
        times, values = dt, part.values(a, b)
    else:
        times, values = dt, pa.nulls(b - a, pa.float64())
    if isinstance(values, np.ndarray):
        values = _arrow(pa, values)
    return pa.Table.from_arrays([_arrow(pa, times), values], names=["dt", "value"])


def _arrow(pa: Any, values: Any) -> Any:
    """A numeric numpy array as an Arrow array over its buffer: ``pa.array`` would
    import pandas (most of a small export's time) to ask whether it was given a Series."""
    import numpy as np

    values = np.ascontiguousarray(values)
    if values.dtype.byteorder == ">":
        values = values.astype(values.dtype.newbyteorder("="))
    return pa.Array.from_buffers(
        pa.from_numpy_dtype(values.dtype), len(values), [None, pa.py_buffer(values)]
    )


def field(text: str) -> bytes:
    """One CSV field, quoted only when it must be."""
    if _STRUCTURAL & set(text) or text[:1] == " ":
        return ('"' + text.replace('"', '""') + '"').encode()
    return text.encode()


def write_plan(plan_: Plan, out: IO[bytes], wave_cells: bool = False) -> None:
    """Write ``plan_`` as CSV (UTF-8, LF line ends) to the binary stream ``out``."""
    if not plan_.selection.records:
        write_listing(plan_, out)
        return
    pa = require("pyarrow", EXTRA)
    import pyarrow.csv as pcsv

    out.write(HEADER)
    for part in plan_.parts:
        prefix = field(part.name) + b","
        for a, b in part.ranges(samples=BATCH_SAMPLES, records=BATCH_SAMPLES):
            if part.kind == "string":  # texts may hold line breaks: Python's csv module
                times = pa.array(part.dt[a:b]).cast(pa.string()).to_pylist()  # as Arrow's
                text = io.StringIO(newline="")
                csv.writer(text, lineterminator="\n").writerows(
                    (part.name, t, v) for t, v in zip(times, part.texts(a, b))
                )
                out.write(text.getvalue().encode())
                continue
            if part.kind == "wave":
                rows = _wave_rows(part, a, b, wave_cells, prefix)
                if rows is not None:
                    out.write(rows)
                    continue
            table = _batch(part, a, b, wave_cells)
            sink = pa.BufferOutputStream()
            # Numbers (or JSON arrays of them) hold no line break: each line gets the
            # track name put in front, which is much cheaper than a column of it.
            quoting = "needed" if wave_cells and part.kind == "wave" else "none"
            pcsv.write_csv(
                table, sink, pcsv.WriteOptions(include_header=False, quoting_style=quoting)
            )
            lines = sink.getvalue().to_pybytes().replace(b"\n", b"\n" + prefix)
            out.write(prefix)
            out.write(memoryview(lines)[: len(lines) - len(prefix)])
        plan_.written(part)


def write_listing(plan_: Plan, out: IO[bytes]) -> None:
    kind, rows = listing(plan_)
    text = io.StringIO(newline="")
    columns = list(rows[0]) if rows else list(LISTING_COLUMNS[kind])
    writer = csv.DictWriter(text, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
    out.write(text.getvalue().encode())


#: Columns of the listings, for an empty one.
LISTING_COLUMNS = {
    "tracks": (
        "name",
        "type",
        "type_name",
        "fmt",
        "dtype",
        "unit",
        "sample_rate",
        "gain",
        "offset",
        "min_display",
        "max_display",
        "color",
        "monitor_type",
        "device_name",
        "physical",
        "records_count",
    ),
    "devices": ("name", "type_name", "port"),
    "file_info": ("dt_start", "dt_end", "duration", "gmt_offset", "tracks_count", "devices_count"),
}


def _cell(value: Any) -> Any:
    """repr of floats (shortest round trip), nothing for None, lower-case booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return "" if value is None else value

"""CSV, long format: ``track,dt,value``, one row per record, or per sample for waves.

A wave record gives one row per sample, at ``dt + i / srate`` (``i`` the sample's index in
its record; ``dt`` when the track has no sampling rate); with ``wave_cells`` one row per
record whose value is the JSON array of its samples. Numbers are written in their
dtype's shortest round-trip form (float32 as float32: ``60.1``), NaN and infinities as
``nan``, ``inf``, ``-inf``; a field is quoted only when it holds a comma, a quote or a
line break. Listings (``--list-tracks``, ``--summary``,
``--list-devices``, ``--info-only``) write their table instead. Written a batch at a time.

The numbers are Arrow's CSV writer's text. The compiled row kernel (``_text.csv_rows``)
writes every batch whose numbers it can format exactly, straight from the track's
buffers (a plan over the reader's own buffers included: no numpy, no pyarrow); a batch
holding a number it leaves to Arrow (a time before 1970-01-01 00:00:00.001, a float32
past 2^24...) is written by Arrow's CSV writer, the same bytes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import closing
from typing import IO, TYPE_CHECKING, Any

from .._deps import installed, require
from ..ops.selection import Part, Plan, listing

if TYPE_CHECKING:
    import pyarrow as pa


FORMAT = "csv"
SUFFIXES = (".csv",)
BINARY = False
REQUIRES = ("pyarrow",)
EXTRA = "formats"
#: ``write_plan`` takes a plan over the reader's own buffers (``writers/_raw.py``).
TAKES_RAW_PLAN = True

HEADER = b"track,dt,value\n"
#: Samples per batch: a wave batch becomes one row per sample, ~35 bytes each.
BATCH_SAMPLES = 1 << 17
_STRUCTURAL = frozenset(',"\r\n')


def is_available() -> bool:
    # Looked up, not imported: most exports never need pyarrow (``_text.csv_rows``).
    return installed("pyarrow")


def _kernel_args(part: Part, a: int, b: int, wave_cells: bool, prefix: bytes) -> tuple | None:
    """The compiled kernel's arguments for records ``[a, b)`` of a wave or numeric track
    (taken here, on the writer's thread: a grouped part reads its data when first
    used), or None for a track it does not write."""
    if part.kind not in ("wave", "numeric"):
        return None
    dt = _contiguous(part.dt[a:b])
    if part.kind == "numeric":
        return (prefix, dt, _contiguous(part.values(a, b)))
    if part.physical:  # float64 samples, offsets rebased to them
        samples, offsets = part.samples(a, b)
    else:
        samples, offsets = part.data, part.offsets[a : b + 1]
    srate = float(part.track.srate)
    return (
        prefix,
        dt,
        _contiguous(samples),
        _contiguous(offsets),
        srate if srate > 0 else 0.0,
        wave_cells,
    )


def _contiguous(values: Any) -> Any:
    """``values`` as one C-contiguous native-order buffer (memoryviews already are)."""
    if isinstance(values, memoryview):
        return values
    import numpy as np

    values = np.ascontiguousarray(values)
    if values.dtype.byteorder == ">":
        values = values.astype(values.dtype.newbyteorder("="))
    return values


def _numpy_part(part: Part) -> None:
    """A ``RawPart``'s memoryviews as numpy arrays, for the Arrow path."""
    if isinstance(part.dt, memoryview):
        import numpy as np

        part.dt = np.asarray(part.dt)
        part.data = np.asarray(part.data)
        if part.offsets is not None:
            part.offsets = np.asarray(part.offsets)


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


def _arrow_rows(part: Part, a: int, b: int, wave_cells: bool, prefix: bytes) -> bytes:
    """Rows of records ``[a, b)`` by Arrow's CSV writer."""
    pa = require("pyarrow", EXTRA)
    import pyarrow.csv as pcsv

    _numpy_part(part)
    sink = pa.BufferOutputStream()
    # Numbers (or JSON arrays of them) hold no line break: each line gets the track
    # name put in front, which is much cheaper than a column of it.
    quoting = "needed" if wave_cells and part.kind == "wave" else "none"
    pcsv.write_csv(
        _batch(part, a, b, wave_cells),
        sink,
        pcsv.WriteOptions(include_header=False, quoting_style=quoting),
    )
    lines = sink.getvalue().to_pybytes().replace(b"\n", b"\n" + prefix)
    return prefix + lines[: len(lines) - len(prefix)]


def _times_text(part: Part, a: int, b: int) -> list[str]:
    """String records' times as Arrow writes them."""
    from . import _text

    times = [_text.format_double(t) for t in part.dt[a:b]]
    if None not in times:
        return times  # type: ignore[return-value]
    pa = require("pyarrow", EXTRA)
    _numpy_part(part)
    return _arrow(pa, part.dt[a:b]).cast(pa.string()).to_pylist()


def _string_rows(part: Part, a: int, b: int) -> bytes:
    """Rows of string records ``[a, b)``: texts may hold line breaks, quotes and commas,
    so Python's csv module writes them."""
    text = io.StringIO(newline="")
    csv.writer(text, lineterminator="\n").writerows(
        (part.name, t, v) for t, v in zip(_times_text(part, a, b), part.texts(a, b))
    )
    return text.getvalue().encode()


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
    from . import _text
    from ._pipeline import ordered

    if not plan_.selection.records:
        write_listing(plan_, out)
        return

    def batches() -> Iterator[tuple[Part, int, int, bytes, tuple | None]]:
        for part in plan_.parts:
            prefix = field(part.name) + b","
            for a, b in part.ranges(samples=BATCH_SAMPLES, records=BATCH_SAMPLES):
                yield part, a, b, prefix, _kernel_args(part, a, b, wave_cells, prefix)
            yield part, 0, 0, b"", None  # the part is done

    def rows(batch: tuple) -> bytearray | None:
        args = batch[4]
        return None if args is None else _text.csv_rows(*args)

    out.write(HEADER)
    with closing(ordered(rows, batches())) as done:
        for (part, a, b, prefix, _), text in done:
            if a == b:  # the end of a part
                plan_.written(part)
                continue
            if part.kind == "string":
                text = _string_rows(part, a, b)
            if text is None:
                text = _arrow_rows(part, a, b, wave_cells, prefix)
            out.write(text)


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

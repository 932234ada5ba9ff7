"""JSON: the export document, the Go processor's layout (``file_info``, ``devices``,
``tracks`` with ``records``), streamed.

Every number is written in the shortest form that reads back to the same value of the
track's dtype (``dtype`` key): float32 values as float32 (``60.1``), integers as
integers; NaN and infinities as ``null``. Strings are JSON strings, wave records arrays
of numbers (uint8 too). Records are formatted a batch at a time, each batch's numbers in
one vectorised call, so memory stays bounded whatever the file's size. Layout:
``docs/formats.md``; schema: ``docs/vitalproc-export.schema.json``.

A plan of the reader's own buffers (``_raw.raw_plan``) is written without numpy where
that gives the same bytes: integer samples by the compiled ``_text.wave_records``,
float32 numerics in orjson's text of a float32 (``_f32.f32_text``, made once per distinct
value). Float samples, and numerics with too many distinct values to be worth it, go the
numpy way.
"""

from __future__ import annotations

from typing import IO, Any

from .._deps import available, require
from .._f32 import f32_text
from ..ops.selection import Part, Plan, Selection

FORMAT = "json"
SUFFIXES = (".json",)
BINARY = False
REQUIRES = ("orjson",)
EXTRA = "formats"

#: ``write_plan`` takes a ``_raw.raw_plan`` (see the module's docstring).
TAKES_RAW_PLAN = True

#: Integer sample formats of a raw part (``memoryview`` codes) that ``_text`` writes.
_INT_CODES = frozenset("bBhHiI")

#: A numeric part goes the numpy way once this many of its values were new to the cache.
NEW_VALUES_MAX = 4096


def is_available() -> bool:
    return available("orjson")


def _orjson() -> Any:
    return require("orjson", EXTRA)


def _dumps(obj: Any, indent: bool = False) -> bytes:
    orjson = _orjson()
    option = orjson.OPT_SERIALIZE_NUMPY | (orjson.OPT_INDENT_2 if indent else 0)
    return orjson.dumps(obj, option=option)


def record_values(part: Part, a: int, b: int) -> list[Any]:
    """Records ``[a, b)``'s values as objects orjson writes in the track's dtype: numpy
    scalars (float32 stays float32), row views of the samples, or ``str``."""
    if part.kind == "wave":
        samples, offsets = part.samples(a, b)
        lengths = offsets[1:] - offsets[:-1]
        if len(lengths) and lengths[0] > 0 and (lengths == lengths[0]).all():
            return list(samples.reshape(b - a, int(lengths[0])))  # views, no copy
        bounds = offsets.tolist()
        return [samples[s:e] for s, e in zip(bounds, bounds[1:])]
    if part.kind == "numeric":
        return list(part.values(a, b))
    if part.kind == "string":
        return part.texts(a, b)
    return [None] * (b - a)


def records_text(part: Part, a: int, b: int, texts: dict[int, str] | None = None) -> memoryview:
    """Records ``[a, b)`` as compact JSON objects separated by commas (no brackets).
    ``texts``: float32 values of raw parts already written (bits -> text), kept from one
    call to the next."""
    dts = part.dt[a:b].tolist()
    if isinstance(part.data, memoryview):  # a raw part: the reader's buffers
        text = _raw_records_text(part, a, b, dts, {} if texts is None else texts)
        if text is not None:
            return text
        _numpy_part(part)
    return _records_json(dts, record_values(part, a, b))


def _records_json(dts: list[float], values: Any) -> memoryview:
    """``{"dt", "val"}`` objects by orjson, separated by commas (no brackets)."""
    return memoryview(_dumps([{"dt": dt, "val": val} for dt, val in zip(dts, values)]))[1:-1]


def _raw_records_text(
    part: Part, a: int, b: int, dts: list[float], texts: dict[int, str]
) -> memoryview | None:
    """``records_text`` of a raw part without numpy, or None where that needs numpy:
    float samples, or float32 numerics with too many distinct values."""
    from . import _text

    code = part.data.format
    if part.kind == "wave":
        if code not in _INT_CODES:
            return None
        return memoryview(_text.wave_records(_dumps(dts), part.data, part.offsets, a, b))
    if part.kind == "numeric":
        values = (
            _f32_array(part.data[a:b], texts) if code == "f" else _dumps(part.data[a:b].tolist())
        )  # float64 and integers: as orjson writes numpy's
        return None if values is None else memoryview(_text.scalar_records(_dumps(dts), values))
    return _records_json(dts, record_values(part, a, b))  # strings need no numpy either


def _f32_array(view: memoryview, texts: dict[int, str]) -> bytes | None:
    """float32 values as a JSON array in orjson's text; None once ``texts`` is full and a
    value is not in it (past that, numpy writes faster than new values are made here)."""
    keys = view.cast("B").cast("I").tolist()
    items = list(map(texts.get, keys))
    if None in items:  # values not met before: made once each
        values = view.tolist()
        for i in [i for i, text in enumerate(items) if text is None]:
            text = texts.get(keys[i])
            if text is None:
                if len(texts) >= NEW_VALUES_MAX:
                    return None
                text = texts[keys[i]] = f32_text(values[i])
            items[i] = text
    return f"[{','.join(items)}]".encode()


def _numpy_part(part: Part) -> None:
    """A raw part's buffers as numpy arrays, for the numpy way from here on."""
    import numpy as np

    part.dt = np.frombuffer(part.dt, np.float64)
    part.data = np.frombuffer(part.data, part.dtype_name)
    if part.offsets is not None:
        part.offsets = np.frombuffer(part.offsets, np.int64)


class _Layout:
    """The bytes between values: compact (one line) or pretty (2-space indent, one
    record per line)."""

    def __init__(self, compact: bool):
        self.compact = compact
        self.texts: dict[int, str] = {}  # float32 values of raw parts written so far

    def obj(self, obj: Any, depth: int) -> bytes:
        """A JSON value to be placed ``depth`` levels deep."""
        if self.compact:
            return _dumps(obj)
        return _dumps(obj, indent=True).replace(b"\n", b"\n" + b"  " * depth)

    def key(self, name: str, depth: int) -> bytes:
        if self.compact:
            return _dumps(name) + b":"
        return b"\n" + b"  " * depth + _dumps(name) + b": "

    def records(self, part: Part, a: int, b: int) -> memoryview | bytes:
        """Records ``[a, b)``: one line each in the pretty layout."""
        text = records_text(part, a, b, self.texts)
        if self.compact:
            return text
        # '},{"dt"' cannot occur inside a JSON string (its quote would be escaped)
        return _RECORD_INDENT + bytes(text).replace(
            b'},{"dt":', b"},\n" + _RECORD_INDENT + b'{"dt":'
        )

    def one_record(self, part: Part, i: int) -> bytes:
        return bytes(records_text(part, i, i + 1, self.texts))


_RECORD_INDENT = b" " * 8


def _track(layout: _Layout, part: Part, sel: Selection, out: IO[bytes]) -> None:
    """One track object: metadata, ``records_count``, then its records batch by batch."""
    meta = part.metadata()
    meta["records_count"] = len(part)
    if sel.summary:
        n = len(part)
        first = layout.one_record(part, 0) if n else b"null"
        last = layout.one_record(part, n - 1) if n else b"null"
        head = layout.obj(meta, 2)[:-1].rstrip()
        sep = b"," if layout.compact else b",\n      "
        colon = b":" if layout.compact else b": "
        out.write(
            head
            + sep
            + b'"first_record"'
            + colon
            + first
            + sep
            + b'"last_record"'
            + colon
            + last
            + (b"}" if layout.compact else b"\n    }")
        )
        return
    if not sel.records:
        out.write(layout.obj(meta, 2))
        return
    head = layout.obj(meta, 2)[:-1].rstrip()
    out.write(head + (b',"records":[' if layout.compact else b',\n      "records": ['))
    sep = b"," if layout.compact else b",\n"
    for i, (a, b) in enumerate(part.ranges()):
        out.write(sep if i else b"" if layout.compact else b"\n")
        out.write(layout.records(part, a, b))
    if layout.compact:
        out.write(b"]}")
    else:
        out.write(b"\n      ]\n    }" if len(part) else b"]\n    }")


def write_plan(plan_: Plan, out: IO[bytes], compact: bool = False) -> None:
    """Write ``plan_`` as one JSON document (and a newline) to the binary stream ``out``."""
    layout = _Layout(compact)
    sel = plan_.selection
    out.write(b"{")
    first = True
    for section in sel.sections:
        out.write((b"" if first else b",") + layout.key(section, 1))
        first = False
        if section == "file_info":
            out.write(layout.obj(plan_.file_info(), 1))
        elif section == "devices":
            out.write(layout.obj(plan_.devices_info(), 1))
        else:
            out.write(b"{")
            for i, part in enumerate(plan_.parts):
                out.write((b"," if i else b"") + layout.key(part.name, 2))
                _track(layout, part, sel, out)
                plan_.written(part)
            out.write(b"}" if layout.compact or not plan_.parts else b"\n  }")
    out.write(b"}\n" if layout.compact or first else b"\n}\n")
